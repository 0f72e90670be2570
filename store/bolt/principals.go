package bolt

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/keyhaven/keyhaven/kms"
)

type userRecord struct {
	Account    string    `json:"account"`
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Remark     string    `json:"remark,omitempty"`
	CreateTime time.Time `json:"create_time"`
	Policies   []uint64  `json:"policies,omitempty"`
}

type policyRecord struct {
	Account     string    `json:"account"`
	ID          uint64    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Document    string    `json:"document"`
	CreateTime  time.Time `json:"create_time"`
}

func userKey(account, id string) []byte { return append(accountPrefix(account), id...) }

func policyKey(account string, id uint64) []byte {
	return binary.BigEndian.AppendUint64(accountPrefix(account), id)
}

// AccessKeys returns the access keys of a principal, oldest first.
func (t *tx) AccessKeys(user string) ([]*kms.AccessKey, error) {
	keys := []*kms.AccessKey{}
	err := t.btx.Bucket(bucketAccessKeys).ForEach(func(id, v []byte) error {
		var r accessKeyRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("bolt: decode access key %s: %w", id, err)
		}
		if r.User == user {
			keys = append(keys, r.accessKey())
		}
		return nil
	})
	slices.SortStableFunc(keys, func(a, b *kms.AccessKey) int { return a.CreateTime.Compare(b.CreateTime) })
	return keys, err
}

// DeleteAccessKey removes an access key, or returns an error wrapping
// kms.ErrAccessKeyNotFound.
func (t *tx) DeleteAccessKey(secretID string) error {
	if err := t.writable("delete access key " + secretID); err != nil {
		return err
	}
	b := t.btx.Bucket(bucketAccessKeys)
	if b.Get([]byte(secretID)) == nil {
		return fmt.Errorf("bolt: delete access key %s: %w", secretID, kms.ErrAccessKeyNotFound)
	}
	return b.Delete([]byte(secretID))
}

// PutUser creates or replaces a user; kms.ErrUserExists if another user of
// the account has its name.
func (t *tx) PutUser(u *kms.User) error {
	if u == nil || u.ID == "" || u.Account == "" {
		return fmt.Errorf("bolt: put user: %w: user without account or id", kms.ErrInvalidParameter)
	}
	if err := t.writable("put user " + u.ID); err != nil {
		return err
	}
	users, err := t.Users(u.Account)
	if err != nil {
		return err
	}
	for _, other := range users {
		if other.Name == u.Name && other.ID != u.ID {
			return fmt.Errorf("bolt: put user %s: name %q: %w", u.ID, u.Name, kms.ErrUserExists)
		}
	}
	val, err := json.Marshal(userRecord{u.Account, u.ID, u.Name, u.Remark, u.CreateTime.UTC(), u.Policies})
	if err != nil {
		return fmt.Errorf("bolt: encode user %s: %w", u.ID, err)
	}
	return t.btx.Bucket(bucketUsers).Put(userKey(u.Account, u.ID), val)
}

func (r *userRecord) user() *kms.User {
	return &kms.User{Account: r.Account, ID: r.ID, Name: r.Name, Remark: r.Remark, CreateTime: r.CreateTime, Policies: slices.Clone(r.Policies)}
}

// User returns a user, or an error wrapping kms.ErrUserNotFound.
func (t *tx) User(account, id string) (*kms.User, error) {
	v := t.btx.Bucket(bucketUsers).Get(userKey(account, id))
	if v == nil || id == "" {
		return nil, fmt.Errorf("bolt: get user %s of account %s: %w", id, account, kms.ErrUserNotFound)
	}
	var r userRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("bolt: decode user %s: %w", id, err)
	}
	return r.user(), nil
}

// Users returns the account's users, oldest first, ties by id.
func (t *tx) Users(account string) ([]*kms.User, error) {
	users := []*kms.User{}
	prefix := accountPrefix(account)
	c := t.btx.Bucket(bucketUsers).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var r userRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return nil, fmt.Errorf("bolt: decode user %s: %w", k, err)
		}
		users = append(users, r.user())
	}
	slices.SortStableFunc(users, func(a, b *kms.User) int {
		return cmp.Or(a.CreateTime.Compare(b.CreateTime), cmp.Compare(a.ID, b.ID))
	})
	return users, nil
}

// DeleteUser removes a user, or returns an error wrapping kms.ErrUserNotFound.
func (t *tx) DeleteUser(account, id string) error {
	if err := t.writable("delete user " + id); err != nil {
		return err
	}
	if _, err := t.User(account, id); err != nil {
		return err
	}
	return t.btx.Bucket(bucketUsers).Delete(userKey(account, id))
}

// PutPolicy creates or replaces a policy; kms.ErrPolicyExists if another
// policy of the account has its name.
func (t *tx) PutPolicy(p *kms.Policy) error {
	if p == nil || p.ID == 0 || p.Account == "" {
		return fmt.Errorf("bolt: put policy: %w: policy without account or id", kms.ErrInvalidParameter)
	}
	if err := t.writable(fmt.Sprintf("put policy %d", p.ID)); err != nil {
		return err
	}
	policies, err := t.Policies(p.Account)
	if err != nil {
		return err
	}
	for _, other := range policies {
		if other.Name == p.Name && other.ID != p.ID {
			return fmt.Errorf("bolt: put policy %d: name %q: %w", p.ID, p.Name, kms.ErrPolicyExists)
		}
	}
	val, err := json.Marshal(policyRecord{p.Account, p.ID, p.Name, p.Description, p.Document, p.CreateTime.UTC()})
	if err != nil {
		return fmt.Errorf("bolt: encode policy %d: %w", p.ID, err)
	}
	return t.btx.Bucket(bucketPolicies).Put(policyKey(p.Account, p.ID), val)
}

func (r *policyRecord) policy() *kms.Policy {
	return &kms.Policy{Account: r.Account, ID: r.ID, Name: r.Name, Description: r.Description, Document: r.Document, CreateTime: r.CreateTime}
}

// Policy returns a policy, or an error wrapping kms.ErrPolicyNotFound.
func (t *tx) Policy(account string, id uint64) (*kms.Policy, error) {
	v := t.btx.Bucket(bucketPolicies).Get(policyKey(account, id))
	if v == nil {
		return nil, fmt.Errorf("bolt: get policy %d of account %s: %w", id, account, kms.ErrPolicyNotFound)
	}
	var r policyRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("bolt: decode policy %d: %w", id, err)
	}
	return r.policy(), nil
}

// Policies returns the account's policies by id.
func (t *tx) Policies(account string) ([]*kms.Policy, error) {
	policies := []*kms.Policy{}
	prefix := accountPrefix(account)
	c := t.btx.Bucket(bucketPolicies).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var r policyRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return nil, fmt.Errorf("bolt: decode policy %x: %w", k, err)
		}
		policies = append(policies, r.policy())
	}
	return policies, nil
}

// DeletePolicy removes a policy, or returns an error wrapping
// kms.ErrPolicyNotFound.
func (t *tx) DeletePolicy(account string, id uint64) error {
	if err := t.writable(fmt.Sprintf("delete policy %d", id)); err != nil {
		return err
	}
	if _, err := t.Policy(account, id); err != nil {
		return err
	}
	return t.btx.Bucket(bucketPolicies).Delete(policyKey(account, id))
}
