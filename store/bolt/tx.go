package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/keyhaven/keyhaven/kms"
)

// tx is a kms.Tx over one bbolt transaction. Values read from bbolt are only
// valid during the transaction, so every method decodes into fresh memory
// and every write encodes before it stores: callers never share memory with
// the file or with each other.
type tx struct {
	btx *bbolt.Tx
}

// Key returns an error wrapping kms.ErrKeyNotFound if no key has this id.
func (t *tx) Key(id string) (*kms.Key, error) {
	r, err := t.keyRecord(id)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("bolt: get key %s: %w", id, kms.ErrKeyNotFound)
	}
	return r.key(), nil
}

// keyRecord returns the stored record of key id, or nil if there is none.
func (t *tx) keyRecord(id string) (*keyRecord, error) {
	if id == "" {
		return nil, nil
	}
	v := t.btx.Bucket(bucketKeys).Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	var r keyRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("bolt: decode key %s: %w", id, err)
	}
	return &r, nil
}

// KeyIDByAlias returns an error wrapping kms.ErrKeyNotFound if no key of
// the account has the alias.
func (t *tx) KeyIDByAlias(account, alias string) (string, error) {
	if alias != "" {
		if id := t.btx.Bucket(bucketAliases).Get(aliasKey(account, alias)); id != nil {
			return string(id), nil
		}
	}
	return "", fmt.Errorf("bolt: get alias %q of account %s: %w", alias, account, kms.ErrKeyNotFound)
}

// PutKey creates or replaces a key and keeps the alias and account indexes
// in step; an empty Alias means no alias. It returns an error wrapping
// kms.ErrAliasExists if another key of the account holds the alias, and
// kms.ErrInvalidParameter for a key it cannot store (no id, or a NUL byte
// in the account or alias). A PutKey that fails has written nothing.
func (t *tx) PutKey(k *kms.Key) error {
	if k == nil || k.ID == "" {
		return fmt.Errorf("bolt: put key: %w: key without id", kms.ErrInvalidParameter)
	}
	if strings.IndexByte(k.Account, 0) >= 0 || strings.IndexByte(k.Alias, 0) >= 0 {
		return fmt.Errorf("bolt: put key %s: %w: NUL byte in account or alias", k.ID, kms.ErrInvalidParameter)
	}
	if err := t.writable("put key " + k.ID); err != nil {
		return err
	}
	id := []byte(k.ID)
	val, err := json.Marshal(newKeyRecord(k))
	if err != nil {
		return fmt.Errorf("bolt: encode key %s: %w", k.ID, err)
	}
	newAccount := accountKey(k.Account, k.CreateTime, k.ID)
	var newAlias []byte
	if k.Alias != "" {
		newAlias = aliasKey(k.Account, k.Alias)
	}
	if len(id) > bbolt.MaxKeySize || len(newAccount) > bbolt.MaxKeySize || len(newAlias) > bbolt.MaxKeySize {
		return fmt.Errorf("bolt: put key %s: %w: id, account or alias too long", k.ID, kms.ErrInvalidParameter)
	}

	aliases := t.btx.Bucket(bucketAliases)
	if newAlias != nil {
		if holder := aliases.Get(newAlias); holder != nil && !bytes.Equal(holder, id) {
			return fmt.Errorf("bolt: put key %s: alias %q held by key %s: %w", k.ID, k.Alias, holder, kms.ErrAliasExists)
		}
	}
	old, err := t.keyRecord(k.ID)
	if err != nil {
		return err
	}

	// Every check has passed; from here on only writes that bbolt cannot
	// refuse (keys non-empty and short enough, transaction writable).
	accounts := t.btx.Bucket(bucketAccountKeys)
	if old != nil {
		if old.Alias != "" {
			oldAlias := aliasKey(old.Account, old.Alias)
			if !bytes.Equal(oldAlias, newAlias) && bytes.Equal(aliases.Get(oldAlias), id) {
				if err := aliases.Delete(oldAlias); err != nil {
					return fmt.Errorf("bolt: put key %s: free alias %q: %w", k.ID, old.Alias, err)
				}
			}
		}
		if oldAccount := accountKey(old.Account, old.CreateTime, old.ID); !bytes.Equal(oldAccount, newAccount) {
			if err := accounts.Delete(oldAccount); err != nil {
				return fmt.Errorf("bolt: put key %s: unindex: %w", k.ID, err)
			}
		}
	}
	if err := t.btx.Bucket(bucketKeys).Put(id, val); err != nil {
		return fmt.Errorf("bolt: put key %s: %w", k.ID, err)
	}
	if err := accounts.Put(newAccount, id); err != nil {
		return fmt.Errorf("bolt: put key %s: index account: %w", k.ID, err)
	}
	if newAlias != nil {
		if err := aliases.Put(newAlias, id); err != nil {
			return fmt.Errorf("bolt: put key %s: index alias: %w", k.ID, err)
		}
	}
	return nil
}

// Keys returns every key of the account, oldest first, ties by id; an
// account without keys gets an empty slice and no error.
func (t *tx) Keys(account string) ([]*kms.Key, error) {
	keys := []*kms.Key{}
	prefix := accountPrefix(account)
	c := t.btx.Bucket(bucketAccountKeys).Cursor()
	for k, id := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, id = c.Next() {
		r, err := t.keyRecord(string(id))
		if err != nil {
			return nil, err
		}
		if r == nil {
			return nil, fmt.Errorf("bolt: list keys of account %s: index names missing key %s", account, id)
		}
		keys = append(keys, r.key())
	}
	return keys, nil
}

// EachKey calls fn for every key of every account in id order and stops at
// fn's first error, which it returns.
func (t *tx) EachKey(fn func(*kms.Key) error) error {
	return t.btx.Bucket(bucketKeys).ForEach(func(id, v []byte) error {
		var r keyRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("bolt: decode key %s: %w", id, err)
		}
		return fn(r.key())
	})
}

// PutVersion stores a key version, replacing one with the same number. It
// returns kms.ErrInvalidParameter for a version without a key id.
func (t *tx) PutVersion(v *kms.KeyVersion) error {
	if v == nil || v.KeyID == "" {
		return fmt.Errorf("bolt: put version: %w: version without key id", kms.ErrInvalidParameter)
	}
	if err := t.writable(fmt.Sprintf("put version %d of key %s", v.Version, v.KeyID)); err != nil {
		return err
	}
	val, err := json.Marshal(versionRecord{Material: v.Material, CreateTime: v.CreateTime.UTC()})
	if err != nil {
		return fmt.Errorf("bolt: encode version %d of key %s: %w", v.Version, v.KeyID, err)
	}
	if err := t.btx.Bucket(bucketVersions).Put(versionKey(v.KeyID, v.Version), val); err != nil {
		return fmt.Errorf("bolt: put version %d of key %s: %w", v.Version, v.KeyID, err)
	}
	return nil
}

// Versions returns a key's versions, lowest first; a key without versions
// (or no key at all) gets an empty slice and no error.
func (t *tx) Versions(keyID string) ([]*kms.KeyVersion, error) {
	versions := []*kms.KeyVersion{}
	if keyID == "" {
		return versions, nil
	}
	prefix := []byte(keyID)
	c := t.btx.Bucket(bucketVersions).Cursor()
	for k, val := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, val = c.Next() {
		if len(k) != len(prefix)+4 {
			continue // a version of another key whose id starts with keyID
		}
		n := binary.BigEndian.Uint32(k[len(prefix):])
		var r versionRecord
		if err := json.Unmarshal(val, &r); err != nil {
			return nil, fmt.Errorf("bolt: decode version %d of key %s: %w", n, keyID, err)
		}
		versions = append(versions, &kms.KeyVersion{
			KeyID:      keyID,
			Version:    n,
			Material:   r.Material,
			CreateTime: r.CreateTime,
		})
	}
	return versions, nil
}

// DeleteVersions destroys every version of a key; a key without versions is
// not an error. bbolt reuses the freed pages, so the sealed material does not
// linger beyond the next writes that take them.
func (t *tx) DeleteVersions(keyID string) error {
	if err := t.writable("delete versions of key " + keyID); err != nil {
		return err
	}
	if keyID == "" {
		return nil
	}
	prefix := []byte(keyID)
	b := t.btx.Bucket(bucketVersions)
	var doomed [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if len(k) == len(prefix)+4 {
			doomed = append(doomed, bytes.Clone(k))
		}
	}
	for _, k := range doomed {
		if err := b.Delete(k); err != nil {
			return fmt.Errorf("bolt: delete versions of key %s: %w", keyID, err)
		}
	}
	return nil
}

// PutAccessKey creates or replaces an access key. It returns
// kms.ErrInvalidParameter for an access key without a SecretId.
func (t *tx) PutAccessKey(ak *kms.AccessKey) error {
	if ak == nil || ak.SecretID == "" {
		return fmt.Errorf("bolt: put access key: %w: access key without SecretId", kms.ErrInvalidParameter)
	}
	if err := t.writable("put access key " + ak.SecretID); err != nil {
		return err
	}
	val, err := json.Marshal(newAccessKeyRecord(ak))
	if err != nil {
		return fmt.Errorf("bolt: encode access key %s: %w", ak.SecretID, err)
	}
	if err := t.btx.Bucket(bucketAccessKeys).Put([]byte(ak.SecretID), val); err != nil {
		return fmt.Errorf("bolt: put access key %s: %w", ak.SecretID, err)
	}
	return nil
}

// AccessKey returns an error wrapping kms.ErrAccessKeyNotFound if no access
// key has this SecretId.
func (t *tx) AccessKey(secretID string) (*kms.AccessKey, error) {
	var v []byte
	if secretID != "" {
		v = t.btx.Bucket(bucketAccessKeys).Get([]byte(secretID))
	}
	if v == nil {
		return nil, fmt.Errorf("bolt: get access key %s: %w", secretID, kms.ErrAccessKeyNotFound)
	}
	var r accessKeyRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("bolt: decode access key %s: %w", secretID, err)
	}
	return r.accessKey(), nil
}

// Setting returns a copy of the named value, or an error wrapping
// kms.ErrSettingNotFound if it was never put.
func (t *tx) Setting(name string) ([]byte, error) {
	if name != "" {
		// Seek rather than Get: a stored empty value must not read as absent.
		k, v := t.btx.Bucket(bucketSettings).Cursor().Seek([]byte(name))
		if k != nil && string(k) == name {
			return append([]byte{}, v...), nil
		}
	}
	return nil, fmt.Errorf("bolt: get setting %q: %w", name, kms.ErrSettingNotFound)
}

// PutSetting stores a named value, replacing any earlier one; a nil value
// is stored as empty. It returns kms.ErrInvalidParameter for an empty name.
func (t *tx) PutSetting(name string, value []byte) error {
	if name == "" || len(name) > bbolt.MaxKeySize {
		return fmt.Errorf("bolt: put setting %q: %w: bad name", name, kms.ErrInvalidParameter)
	}
	if err := t.writable(fmt.Sprintf("put setting %q", name)); err != nil {
		return err
	}
	// bbolt keeps a reference to the value until commit; store a copy.
	if err := t.btx.Bucket(bucketSettings).Put([]byte(name), append([]byte{}, value...)); err != nil {
		return fmt.Errorf("bolt: put setting %q: %w", name, err)
	}
	return nil
}

// DeleteSetting removes a setting; an absent one is not an error.
func (t *tx) DeleteSetting(name string) error {
	if err := t.writable(fmt.Sprintf("delete setting %q", name)); err != nil {
		return err
	}
	if name == "" {
		return nil
	}
	return t.btx.Bucket(bucketSettings).Delete([]byte(name))
}

// SettingNames returns the names of the settings that start with prefix, in
// byte order.
func (t *tx) SettingNames(prefix string) ([]string, error) {
	names := []string{}
	c := t.btx.Bucket(bucketSettings).Cursor()
	for k, _ := c.Seek([]byte(prefix)); k != nil && bytes.HasPrefix(k, []byte(prefix)); k, _ = c.Next() {
		names = append(names, string(k))
	}
	return names, nil
}

// writable returns an error wrapping berrors.ErrTxNotWritable inside View.
func (t *tx) writable(op string) error {
	if !t.btx.Writable() {
		return fmt.Errorf("bolt: %s: %w (inside View)", op, berrors.ErrTxNotWritable)
	}
	return nil
}
