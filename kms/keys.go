package kms

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/keyhaven/keyhaven/internal/blob"
)

// CreateKeyInput describes a new CMK.
type CreateKeyInput struct {
	Account     string // owning account
	Creator     string // creating principal's id
	Alias       string // optional for user keys; set by the service for service keys
	Description string
	Usage       KeyUsage // default UsageEncryptDecrypt
	// Spec is the key's algorithm; empty means the usage's default (for
	// ENCRYPT_DECRYPT, the suite's symmetric spec).
	Spec   KeySpec
	Origin Origin // default OriginKMS
	// ProtectionLevel is SOFTWARE (default) or HSM.
	ProtectionLevel ProtectionLevel
	Tags            []Tag
	// Service, when set, creates a service key on behalf of that integrated
	// service: its Creator is the service code and its alias "kms-<service>".
	// Service keys can be used and described but never disabled.
	Service string
}

// CreateKey creates a CMK with its first version of material. It returns
// ErrInvalidAlias, ErrAliasExists, ErrInvalidKeyUsage, ErrInvalidType,
// ErrTagKeysDuplicated or ErrInvalidParameter for bad input, creating nothing.
func (s *Service) CreateKey(ctx context.Context, in CreateKeyInput) (*Key, error) {
	if in.Usage == "" {
		in.Usage = UsageEncryptDecrypt
	}
	if _, err := ParseKeyUsage(string(in.Usage)); err != nil {
		return nil, err
	}
	spec, err := s.resolveSpec(in.Usage, in.Spec)
	if err != nil {
		return nil, err
	}
	switch in.Origin {
	case "":
		in.Origin = OriginKMS
	case OriginKMS:
	case OriginExternal:
		if in.Usage != UsageEncryptDecrypt || in.Spec != "" && !in.Spec.Symmetric() {
			return nil, fmt.Errorf("%w: only symmetric ENCRYPT_DECRYPT keys take imported material", ErrInvalidKeyUsage)
		}
		if in.ProtectionLevel == ProtectionHSM {
			return nil, fmt.Errorf("%w: imported material is SOFTWARE-protected only", ErrUnsupportedKeySpec)
		}
	default:
		return nil, fmt.Errorf("%w: origin %q", ErrInvalidType, in.Origin)
	}
	creator := in.Creator
	if in.Service != "" {
		if err := ValidateAlias(in.Service); err != nil {
			return nil, fmt.Errorf("%w: bad service code", err)
		}
		in.Alias = serviceKeyPrefix + in.Service
		creator = in.Service
	} else if in.Alias != "" {
		if err := ValidateAlias(in.Alias); err != nil {
			return nil, err
		}
	}
	if err := validateDescription(in.Description); err != nil {
		return nil, err
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	backend, err := s.backendFor(in.ProtectionLevel)
	if err != nil {
		return nil, err
	}
	if in.ProtectionLevel == "" {
		in.ProtectionLevel = ProtectionSoftware
	}
	id, err := blob.NewKeyID(s.rand)
	if err != nil {
		return nil, fmt.Errorf("kms: new key id: %w", err)
	}
	now := s.now()
	k := &Key{
		ID:              id,
		Account:         in.Account,
		Alias:           in.Alias,
		Description:     in.Description,
		Usage:           in.Usage,
		Spec:            spec,
		State:           StateEnabled,
		Origin:          in.Origin,
		ProtectionLevel: in.ProtectionLevel,
		Creator:         creator,
		Service:         in.Service,
		CreateTime:      now,
		Tags:            slices.Clone(in.Tags),
		CurrentVersion:  1,
	}
	if in.Origin == OriginExternal { // no material until the user imports it
		k.State, k.CurrentVersion = StatePendingImport, 0
		if err := s.store.Update(ctx, func(tx Tx) error { return tx.PutKey(k) }); err != nil {
			return nil, err
		}
		return k, nil
	}
	material, err := backend.Generate(ctx, id, 1, k.Spec)
	if err != nil {
		return nil, fmt.Errorf("kms: generate material: %w", err)
	}
	err = s.store.Update(ctx, func(tx Tx) error {
		if err := tx.PutKey(k); err != nil {
			return err
		}
		return tx.PutVersion(&KeyVersion{KeyID: id, Version: 1, Material: material, CreateTime: now})
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// DescribeKey returns a key's metadata, or ErrKeyNotFound if the account has
// no key with this id.
func (s *Service) DescribeKey(ctx context.Context, account, id string) (*Key, error) {
	if err := validateKeyID(id); err != nil {
		return nil, err
	}
	var k *Key
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		k, err = accountKey(tx, account, id)
		return err
	})
	return k, err
}

// DescribeKeys returns the metadata of several keys in the order asked. It
// returns ErrDuplicatedKeyID for a repeated id and ErrKeyNotFound if any is
// missing.
func (s *Service) DescribeKeys(ctx context.Context, account string, ids []string) ([]*Key, error) {
	if err := validateKeyIDs(ids); err != nil {
		return nil, err
	}
	keys := make([]*Key, 0, len(ids))
	err := s.store.View(ctx, func(tx Tx) error {
		for _, id := range ids {
			k, err := accountKey(tx, account, id)
			if err != nil {
				return err
			}
			keys = append(keys, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// Role filters keys by who created them.
type Role int

// Roles, as Tencent numbers them.
const (
	RoleUser    Role = 0 // created by a user of the account
	RoleService Role = 1 // created for an integrated service
)

// TagFilter matches keys that have the tag key with one of the values (any
// value if Values is empty).
type TagFilter struct {
	Key    string
	Values []string
}

// ListKeysInput filters and pages the keys of an account. Zero values mean
// "no filter"; keys come newest first unless Ascending.
type ListKeysInput struct {
	Account    string
	Role       Role
	State      KeyState // "" for every state
	Search     string   // substring of the KeyId or the alias
	Origin     Origin   // "" for every origin
	Usage      KeyUsage // "" for every usage
	TagFilters []TagFilter
	// ProtectionLevel, if set, keeps only keys of that level.
	ProtectionLevel ProtectionLevel
	// Visible, if set, keeps only keys it accepts (the caller's permissions).
	Visible   func(*Key) bool
	Ascending bool
	Offset    int
	Limit     int // 1 to 1000
}

// ListKeys returns one page of the account's matching keys and how many
// match in all. It returns ErrInvalidParameter for a bad page.
func (s *Service) ListKeys(ctx context.Context, in ListKeysInput) ([]*Key, int, error) {
	if in.Offset < 0 || in.Limit < 1 || in.Limit > 1000 {
		return nil, 0, fmt.Errorf("%w: Offset >= 0 and Limit 1 to 1000", ErrInvalidParameter)
	}
	var all []*Key
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		all, err = tx.Keys(in.Account)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	matched := all[:0]
	for _, k := range all {
		if in.matches(k) {
			matched = append(matched, k)
		}
	}
	if !in.Ascending {
		slices.Reverse(matched)
	}
	total := len(matched)
	if in.Offset >= total {
		return []*Key{}, total, nil
	}
	return matched[in.Offset:min(total, in.Offset+in.Limit)], total, nil
}

func (in *ListKeysInput) matches(k *Key) bool {
	if k.State == StateDeleted || (in.Role == RoleService) == k.UserCreated() {
		return false
	}
	if in.State != "" && k.State != in.State ||
		in.Origin != "" && k.Origin != in.Origin ||
		in.Usage != "" && k.Usage != in.Usage {
		return false
	}
	if in.ProtectionLevel != "" && k.ProtectionLevel != in.ProtectionLevel {
		return false
	}
	if in.Visible != nil && !in.Visible(k) {
		return false
	}
	if in.Search != "" && !strings.Contains(k.ID, in.Search) && !strings.Contains(k.Alias, in.Search) {
		return false
	}
	for _, f := range in.TagFilters {
		i := slices.IndexFunc(k.Tags, func(t Tag) bool { return t.Key == f.Key })
		if i < 0 || len(f.Values) > 0 && !slices.Contains(f.Values, k.Tags[i].Value) {
			return false
		}
	}
	return true
}

// UpdateAlias gives a key a new alias. It returns ErrInvalidAlias,
// ErrAliasExists, or ErrNotUserCreated for a service key.
func (s *Service) UpdateAlias(ctx context.Context, account, id, alias string) error {
	if err := ValidateAlias(alias); err != nil {
		return err
	}
	return s.updateKeys(ctx, account, []string{id}, func(k *Key) error {
		if !k.UserCreated() {
			return fmt.Errorf("kms: key %s: %w", k.ID, ErrNotUserCreated)
		}
		k.Alias = alias
		return nil
	})
}

// UpdateDescription replaces a key's description (at most 1024 bytes).
func (s *Service) UpdateDescription(ctx context.Context, account, id, description string) error {
	if err := validateDescription(description); err != nil {
		return err
	}
	return s.updateKeys(ctx, account, []string{id}, func(k *Key) error {
		k.Description = description
		return nil
	})
}

// EnableKeys enables keys that are Enabled or Disabled, all or none. Keys in
// other states return their state's error.
func (s *Service) EnableKeys(ctx context.Context, account string, ids []string) error {
	return s.updateKeys(ctx, account, ids, func(k *Key) error {
		switch k.State {
		case StateEnabled, StateDisabled:
			k.State = StateEnabled
			return nil
		case StateArchived:
			return fmt.Errorf("kms: key %s: %w", k.ID, ErrKeyArchived)
		}
		return usable(k, true)
	})
}

// DisableKeys disables keys that are Enabled or Disabled, all or none. It
// returns ErrNotUserCreated for a service key.
func (s *Service) DisableKeys(ctx context.Context, account string, ids []string) error {
	return s.updateKeys(ctx, account, ids, func(k *Key) error {
		if !k.UserCreated() {
			return fmt.Errorf("kms: key %s: %w", k.ID, ErrNotUserCreated)
		}
		switch k.State {
		case StateEnabled, StateDisabled:
			k.State = StateDisabled
			return nil
		case StateArchived:
			return fmt.Errorf("kms: key %s: %w", k.ID, ErrKeyArchived)
		}
		return usable(k, true)
	})
}

// updateKeys applies change to each key in one store transaction, so a batch
// changes all keys or none, and drops the keys from the cache.
func (s *Service) updateKeys(ctx context.Context, account string, ids []string, change func(*Key) error) error {
	if err := validateKeyIDs(ids); err != nil {
		return err
	}
	err := s.store.Update(ctx, func(tx Tx) error {
		for _, id := range ids {
			k, err := accountKey(tx, account, id)
			if err != nil {
				return err
			}
			if err := change(k); err != nil {
				return err
			}
			if err := tx.PutKey(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		s.keys.invalidate(ids...)
	}
	return err
}

// accountKey reads a key and hides keys of other accounts.
func accountKey(tx Tx, account, id string) (*Key, error) {
	k, err := tx.Key(id)
	if err != nil {
		return nil, err
	}
	if k.Account != account {
		return nil, fmt.Errorf("kms: key %s: %w", id, ErrKeyNotFound)
	}
	if k.State == StateDeleted {
		return nil, deleted(k)
	}
	return k, nil
}
