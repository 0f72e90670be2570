package kms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/keyhaven/keyhaven/auth"
)

// Limits of identity management, as Tencent CAM sets them.
const (
	MaxActiveAccessKeys = 2
	maxUserName         = 64
	maxPolicyName       = 128
	maxPolicyDocument   = 6144
)

const userNameChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+=,.@_-"

func validateName(name string, max int, err error) error {
	if name == "" || len(name) > max {
		return fmt.Errorf("%w: a name has 1 to %d characters", err, max)
	}
	for i := 0; i < len(name); i++ {
		if strings.IndexByte(userNameChars, name[i]) < 0 {
			return fmt.Errorf("%w: a name has only letters, digits and +=,.@_-", err)
		}
	}
	return nil
}

// NewAccessKey is an access key with its secret, shown only when made.
type NewAccessKey struct {
	AccessKey
	SecretKey SecretBytes
}

// AddUser creates a sub-user of the account, with an access key if withKey.
// It returns ErrInvalidUserName or ErrUserExists.
func (s *Service) AddUser(ctx context.Context, account, name, remark string, withKey bool) (*User, *NewAccessKey, error) {
	if err := validateName(name, maxUserName, ErrInvalidUserName); err != nil {
		return nil, nil, err
	}
	u := &User{Account: account, Name: name, Remark: remark, CreateTime: s.now()}
	var key *NewAccessKey
	err := s.store.Update(ctx, func(tx Tx) error {
		for {
			id, err := randomDigits(s.rand, 12)
			if err != nil {
				return err
			}
			if _, err := tx.User(account, id); errors.Is(err, ErrUserNotFound) && id != account {
				u.ID = id
				break
			}
		}
		if err := tx.PutUser(u); err != nil {
			return err
		}
		if withKey {
			var err error
			key, err = s.newAccessKey(tx, account, u.ID)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return u, key, nil
}

// newAccessKey makes an active access key for a principal inside tx,
// refusing a third active one (ErrAccessKeyLimit).
func (s *Service) newAccessKey(tx Tx, account, user string) (*NewAccessKey, error) {
	keys, err := tx.AccessKeys(user)
	if err != nil {
		return nil, err
	}
	active := 0
	for _, k := range keys {
		if k.Status == AccessKeyActive {
			active++
		}
	}
	if active >= MaxActiveAccessKeys {
		return nil, fmt.Errorf("kms: user %s: %w", user, ErrAccessKeyLimit)
	}
	id, err := randomToken(s.rand, "AKID", 32)
	if err != nil {
		return nil, err
	}
	secret, err := randomToken(s.rand, "", 32)
	if err != nil {
		return nil, err
	}
	sealed, err := s.sealer.Seal([]byte(secret), []byte("accesskey/"+id))
	if err != nil {
		return nil, fmt.Errorf("kms: seal secret: %w", err)
	}
	ak := AccessKey{SecretID: id, Account: account, User: user, SealedSecret: sealed, Status: AccessKeyActive, CreateTime: s.now()}
	if err := tx.PutAccessKey(&ak); err != nil {
		return nil, err
	}
	return &NewAccessKey{AccessKey: ak, SecretKey: SecretBytes(secret)}, nil
}

// Users returns the account's sub-users.
func (s *Service) Users(ctx context.Context, account string) ([]*User, error) {
	var users []*User
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		users, err = tx.Users(account)
		return err
	})
	return users, err
}

// DeleteUser deletes a sub-user by name. A user with access keys is refused
// (ErrUserHasKeys) unless force, which deletes the keys too.
func (s *Service) DeleteUser(ctx context.Context, account, name string, force bool) error {
	err := s.store.Update(ctx, func(tx Tx) error {
		u, err := userByName(tx, account, name)
		if err != nil {
			return err
		}
		keys, err := tx.AccessKeys(u.ID)
		if err != nil {
			return err
		}
		if len(keys) > 0 && !force {
			return fmt.Errorf("kms: user %s has %d access keys: %w", name, len(keys), ErrUserHasKeys)
		}
		for _, k := range keys {
			if err := tx.DeleteAccessKey(k.SecretID); err != nil {
				return err
			}
		}
		return tx.DeleteUser(account, u.ID)
	})
	if err == nil {
		s.identityChanged()
	}
	return err
}

func userByName(tx Tx, account, name string) (*User, error) {
	users, err := tx.Users(account)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.Name == name {
			return u, nil
		}
	}
	return nil, fmt.Errorf("kms: user %q: %w", name, ErrUserNotFound)
}

// principal checks that user is the account's root or one of its sub-users.
func principal(tx Tx, account, user string) error {
	if user == account {
		return nil
	}
	_, err := tx.User(account, user)
	return err
}

// CreateAccessKey makes an access key for the account's root or a sub-user.
func (s *Service) CreateAccessKey(ctx context.Context, account, user string) (*NewAccessKey, error) {
	var key *NewAccessKey
	err := s.store.Update(ctx, func(tx Tx) error {
		if err := principal(tx, account, user); err != nil {
			return err
		}
		var err error
		key, err = s.newAccessKey(tx, account, user)
		return err
	})
	return key, err
}

// AccessKeys lists a principal's access keys (without their secrets).
func (s *Service) AccessKeys(ctx context.Context, account, user string) ([]*AccessKey, error) {
	var keys []*AccessKey
	err := s.store.View(ctx, func(tx Tx) error {
		if err := principal(tx, account, user); err != nil {
			return err
		}
		var err error
		keys, err = tx.AccessKeys(user)
		return err
	})
	return keys, err
}

// UpdateAccessKey activates or deactivates a principal's access key; an
// inactive key stops signing requests at once on this server.
func (s *Service) UpdateAccessKey(ctx context.Context, account, user, secretID string, status AccessKeyStatus) error {
	if status != AccessKeyActive && status != AccessKeyInactive {
		return fmt.Errorf("%w: Status is Active or Inactive", ErrInvalidParameter)
	}
	return s.changeAccessKey(ctx, account, user, secretID, func(tx Tx, ak *AccessKey) error {
		if status == AccessKeyActive && ak.Status != AccessKeyActive {
			keys, err := tx.AccessKeys(user)
			if err != nil {
				return err
			}
			active := 0
			for _, k := range keys {
				if k.Status == AccessKeyActive {
					active++
				}
			}
			if active >= MaxActiveAccessKeys {
				return fmt.Errorf("kms: user %s: %w", user, ErrAccessKeyLimit)
			}
		}
		ak.Status = status
		return tx.PutAccessKey(ak)
	})
}

// DeleteAccessKey deletes a principal's access key.
func (s *Service) DeleteAccessKey(ctx context.Context, account, user, secretID string) error {
	return s.changeAccessKey(ctx, account, user, secretID, func(tx Tx, ak *AccessKey) error {
		return tx.DeleteAccessKey(ak.SecretID)
	})
}

func (s *Service) changeAccessKey(ctx context.Context, account, user, secretID string, change func(Tx, *AccessKey) error) error {
	err := s.store.Update(ctx, func(tx Tx) error {
		if err := principal(tx, account, user); err != nil {
			return err
		}
		ak, err := tx.AccessKey(secretID)
		if err != nil {
			return err
		}
		if ak.Account != account || ak.User != user {
			return fmt.Errorf("kms: access key %s is not user %s's: %w", secretID, user, ErrAccessKeyNotFound)
		}
		return change(tx, ak)
	})
	if err == nil {
		s.identityChanged()
	}
	return err
}

// CreatePolicy stores a policy document after checking it parses.
func (s *Service) CreatePolicy(ctx context.Context, account, name, document, description string) (*Policy, error) {
	if err := validateName(name, maxPolicyName, ErrInvalidPolicy); err != nil {
		return nil, err
	}
	if len(document) > maxPolicyDocument {
		return nil, fmt.Errorf("%w: a policy document has at most %d bytes", ErrInvalidPolicy, maxPolicyDocument)
	}
	if _, err := auth.ParsePolicy([]byte(document)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPolicy, err)
	}
	p := &Policy{Account: account, Name: name, Document: document, Description: description, CreateTime: s.now()}
	err := s.store.Update(ctx, func(tx Tx) error {
		policies, err := tx.Policies(account)
		if err != nil {
			return err
		}
		p.ID = 1
		if n := len(policies); n > 0 {
			p.ID = policies[n-1].ID + 1
		}
		return tx.PutPolicy(p)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Policies lists the account's policies.
func (s *Service) Policies(ctx context.Context, account string) ([]*Policy, error) {
	var ps []*Policy
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		ps, err = tx.Policies(account)
		return err
	})
	return ps, err
}

// DeletePolicies deletes policies and detaches them from every user, all or
// none.
func (s *Service) DeletePolicies(ctx context.Context, account string, ids []uint64) error {
	err := s.store.Update(ctx, func(tx Tx) error {
		for _, id := range ids {
			if err := tx.DeletePolicy(account, id); err != nil {
				return err
			}
		}
		users, err := tx.Users(account)
		if err != nil {
			return err
		}
		for _, u := range users {
			kept := slices.DeleteFunc(slices.Clone(u.Policies), func(id uint64) bool { return slices.Contains(ids, id) })
			if len(kept) != len(u.Policies) {
				u.Policies = kept
				if err := tx.PutUser(u); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err == nil {
		s.identityChanged()
	}
	return err
}

// AttachUserPolicy attaches a policy to a sub-user (attaching twice is fine).
func (s *Service) AttachUserPolicy(ctx context.Context, account string, policyID uint64, user string) error {
	return s.changeAttachment(ctx, account, policyID, user, func(ids []uint64) []uint64 {
		if slices.Contains(ids, policyID) {
			return ids
		}
		return append(ids, policyID)
	})
}

// DetachUserPolicy detaches a policy from a sub-user.
func (s *Service) DetachUserPolicy(ctx context.Context, account string, policyID uint64, user string) error {
	return s.changeAttachment(ctx, account, policyID, user, func(ids []uint64) []uint64 {
		return slices.DeleteFunc(ids, func(id uint64) bool { return id == policyID })
	})
}

func (s *Service) changeAttachment(ctx context.Context, account string, policyID uint64, user string, change func([]uint64) []uint64) error {
	err := s.store.Update(ctx, func(tx Tx) error {
		if _, err := tx.Policy(account, policyID); err != nil {
			return err
		}
		u, err := tx.User(account, user)
		if err != nil {
			return err
		}
		u.Policies = change(u.Policies)
		return tx.PutUser(u)
	})
	if err == nil {
		s.identityChanged()
	}
	return err
}

// AttachedPolicies returns the policies attached to a sub-user.
func (s *Service) AttachedPolicies(ctx context.Context, account, user string) ([]*Policy, error) {
	var ps []*Policy
	err := s.store.View(ctx, func(tx Tx) error {
		u, err := tx.User(account, user)
		if err != nil {
			return err
		}
		for _, id := range u.Policies {
			p, err := tx.Policy(account, id)
			if err != nil {
				return err
			}
			ps = append(ps, p)
		}
		return nil
	})
	return ps, err
}

// identityChanged drops every cached secret and policy set, so that a
// disabled key or a detached policy takes effect at once on this server.
func (s *Service) identityChanged() {
	s.secrets.clear()
	s.policies.clear()
}

// Authorize decides whether the caller may do req: the root user may do
// everything; a sub-user needs an allowing statement and no denying one in
// its attached policies. It returns an error wrapping ErrUnauthorized.
func (s *Service) Authorize(ctx context.Context, c Credential, req auth.Request) error {
	if c.User == c.Account {
		return nil
	}
	policies, err := s.userPolicies(ctx, c.Account, c.User)
	if err != nil {
		return err
	}
	if d := auth.Evaluate(policies, req); d != auth.Allow {
		return fmt.Errorf("kms: %s on %s (%s): %w", req.Action, req.Resource, d, ErrUnauthorized)
	}
	return nil
}

// policyCache keeps each sub-user's parsed policies for a short while.
type policyCache struct {
	mu sync.Mutex
	m  map[string]cachedPolicies
}

type cachedPolicies struct {
	policies []*auth.Policy
	loaded   time.Time
}

func (c *policyCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
}

func (s *Service) userPolicies(ctx context.Context, account, user string) ([]*auth.Policy, error) {
	key := account + "/" + user
	now := s.clock.Now()
	s.policies.mu.Lock()
	cp, ok := s.policies.m[key]
	s.policies.mu.Unlock()
	if ok && now.Sub(cp.loaded) < s.cacheTTL {
		return cp.policies, nil
	}
	var docs []string
	err := s.store.View(ctx, func(tx Tx) error {
		u, err := tx.User(account, user)
		if err != nil {
			return err
		}
		for _, id := range u.Policies {
			p, err := tx.Policy(account, id)
			if err != nil && !errors.Is(err, ErrPolicyNotFound) {
				return err
			}
			if err == nil {
				docs = append(docs, p.Document)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	cp = cachedPolicies{loaded: now}
	for _, d := range docs {
		p, err := auth.ParsePolicy([]byte(d))
		if err != nil {
			return nil, fmt.Errorf("kms: stored policy of user %s: %w", user, err)
		}
		cp.policies = append(cp.policies, p)
	}
	s.policies.mu.Lock()
	s.policies.m[key] = cp
	s.policies.mu.Unlock()
	return cp.policies, nil
}

// KeyResource is a key's CAM resource name.
func KeyResource(region, account, id string) string {
	return "qcs::kms:" + region + ":uin/" + account + ":key/" + id
}

// KeyConditions returns the condition values policies test about a key:
// its alias and its tags (as "key&value").
func (s *Service) KeyConditions(ctx context.Context, account, id string) (map[string][]string, error) {
	e, err := s.openKey(ctx, account, id)
	if err != nil {
		return nil, err
	}
	defer s.keys.release(e)
	return e.key.Conditions(), nil
}

// Conditions returns the condition values policies test about the key: its
// alias (kms:alias) and its tags (qcs:resource_tag, as "key&value").
func (k *Key) Conditions() map[string][]string {
	m := make(map[string][]string, 2)
	if k.Alias != "" {
		m["kms:alias"] = []string{k.Alias}
	}
	for _, t := range k.Tags {
		m["qcs:resource_tag"] = append(m["qcs:resource_tag"], t.Key+"&"+t.Value)
	}
	return m
}
