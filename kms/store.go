package kms

import (
	"context"
	"errors"
	"time"
)

// Store persists keys, key versions, access keys and settings. Every
// control-plane request runs in exactly one Update transaction; reads run in
// View. Implementations live under store/ and pass store/storetest.
type Store interface {
	// View runs fn in a read-only transaction; writes inside it fail.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a serializable read-write transaction that commits
	// durably if and only if fn returns nil; fn's error is returned wrapped.
	// fn runs at most once (it may have side effects): a store that must
	// retry on serialization conflicts returns the conflict instead. Both
	// return an error wrapping ctx.Err() without running fn if ctx is done.
	// After a Tx method fails, fn should return; the transaction may be dead.
	Update(ctx context.Context, fn func(Tx) error) error
	// Close releases the store.
	Close() error
}

// Tx is one store transaction. Methods that return a value return a copy the
// caller may keep and change.
type Tx interface {
	// Key returns ErrKeyNotFound if no key has this id.
	Key(id string) (*Key, error)
	// KeyIDByAlias returns ErrKeyNotFound if no key of the account has the alias.
	KeyIDByAlias(account, alias string) (string, error)
	// PutKey creates or replaces a key, keeping the alias index in step. It
	// returns ErrAliasExists if another key of the same account holds the alias.
	PutKey(k *Key) error
	// Keys returns every key of the account, oldest first (ties by id).
	Keys(account string) ([]*Key, error)
	// EachKey calls fn for every key of every account, in id order, and
	// stops at fn's first error, which it returns.
	EachKey(fn func(*Key) error) error

	// PutVersion stores a key version; storing an existing version replaces it.
	PutVersion(v *KeyVersion) error
	// Versions returns a key's versions, lowest first; none is not an error.
	Versions(keyID string) ([]*KeyVersion, error)
	// DeleteVersions destroys every version of a key; none is not an error.
	DeleteVersions(keyID string) error

	// PutAccessKey creates or replaces an access key.
	PutAccessKey(ak *AccessKey) error
	// AccessKey returns ErrAccessKeyNotFound if no access key has this SecretId.
	AccessKey(secretID string) (*AccessKey, error)

	// AccessKeys returns the access keys of a principal, oldest first.
	AccessKeys(user string) ([]*AccessKey, error)
	// DeleteAccessKey removes an access key; ErrAccessKeyNotFound if none.
	DeleteAccessKey(secretID string) error

	// PutUser creates or replaces a sub-user. It returns ErrUserExists if
	// another user of the account has the same name.
	PutUser(u *User) error
	// User returns ErrUserNotFound if the account has no user with this id.
	User(account, id string) (*User, error)
	// Users returns the account's users, oldest first (ties by id).
	Users(account string) ([]*User, error)
	// DeleteUser removes a user; ErrUserNotFound if none.
	DeleteUser(account, id string) error

	// PutPolicy creates or replaces a policy. It returns ErrPolicyExists if
	// another policy of the account has the same name.
	PutPolicy(p *Policy) error
	// Policy returns ErrPolicyNotFound if the account has no such policy.
	Policy(account string, id uint64) (*Policy, error)
	// Policies returns the account's policies by id.
	Policies(account string) ([]*Policy, error)
	// DeletePolicy removes a policy; ErrPolicyNotFound if none.
	DeletePolicy(account string, id uint64) error

	// Setting returns ErrSettingNotFound if the setting was never put.
	Setting(name string) ([]byte, error)
	// PutSetting stores a named server-wide value (bootstrap state and the like).
	PutSetting(name string, value []byte) error
	// DeleteSetting removes a setting; removing an absent one is not an error.
	DeleteSetting(name string) error
	// SettingNames returns the names of the settings that start with prefix,
	// in byte order.
	SettingNames(prefix string) ([]string, error)
}

// ErrSettingNotFound is returned by Tx.Setting for a setting never put.
var ErrSettingNotFound = errors.New("setting not found")

// AccessKeyStatus is whether an access key may sign requests.
type AccessKeyStatus string

// Access key statuses, as Tencent CAM names them.
const (
	AccessKeyActive   AccessKeyStatus = "Active"
	AccessKeyInactive AccessKeyStatus = "Inactive"
)

// AccessKey is a SecretId/SecretKey pair of a principal. The secret is kept
// only sealed (see Sealer).
type AccessKey struct {
	SecretID     string
	Account      string // the account the principal belongs to
	User         string // the principal's own id (equal to Account for the root user)
	SealedSecret []byte
	Status       AccessKeyStatus
	CreateTime   time.Time
}
