package kms

import (
	"fmt"
	"strings"
	"time"

	"github.com/keyhaven/keyhaven/internal/blob"
)

// Limits every dialect shares.
const (
	MaxPlaintext     = 4096 // bytes accepted by Encrypt
	MaxDescription   = 1024 // bytes of a key description
	MaxAlias         = 60   // characters of an alias
	MinDataKeyBytes  = 1
	MaxDataKeyBytes  = 1024
	MaxRandomBytes   = 1024
	MaxKeysPerBatch  = 100 // KeyIds in one DescribeKeys/EnableKeys/DisableKeys
	MaxTags          = 50
	MaxTagKeyLen     = 127
	MaxTagValueLen   = 255
	serviceKeyPrefix = "kms-" // Tencent's alias prefix for service keys
)

// ValidateAlias returns ErrInvalidAlias unless alias has 1-60 characters of
// [A-Za-z0-9_-] and starts with a letter or digit. The "kms-" prefix is
// reserved for service keys.
func ValidateAlias(alias string) error {
	if alias == "" || len(alias) > MaxAlias {
		return fmt.Errorf("%w: an alias has 1 to %d characters", ErrInvalidAlias, MaxAlias)
	}
	for i := 0; i < len(alias); i++ {
		c := alias[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if i == 0 && !alnum {
			return fmt.Errorf("%w: an alias starts with a letter or digit", ErrInvalidAlias)
		}
		if !alnum && c != '_' && c != '-' {
			return fmt.Errorf("%w: an alias has only letters, digits, '_' and '-'", ErrInvalidAlias)
		}
	}
	if strings.HasPrefix(strings.ToLower(alias), serviceKeyPrefix) {
		return fmt.Errorf("%w: the prefix %q is reserved for service keys", ErrInvalidAlias, serviceKeyPrefix)
	}
	return nil
}

func validateDescription(d string) error {
	if len(d) > MaxDescription {
		return fmt.Errorf("%w: a description has at most %d bytes", ErrInvalidParameter, MaxDescription)
	}
	return nil
}

func validateKeyID(id string) error {
	if !blob.ValidKeyID(id) {
		return fmt.Errorf("%w: %q is not a KeyId", ErrInvalidKeyID, id)
	}
	return nil
}

func validateTags(tags []Tag) error {
	if len(tags) > MaxTags {
		return fmt.Errorf("%w: at most %d tags", ErrInvalidParameter, MaxTags)
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > MaxTagKeyLen || len(t.Value) > MaxTagValueLen {
			return fmt.Errorf("%w: a tag key has 1 to %d bytes and a value at most %d", ErrInvalidParameter, MaxTagKeyLen, MaxTagValueLen)
		}
		if seen[t.Key] {
			return fmt.Errorf("%w: %q", ErrTagKeysDuplicated, t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

// validateKeyIDs checks a batch of KeyIds: 1 to MaxKeysPerBatch, each well
// formed, none repeated.
func validateKeyIDs(ids []string) error {
	if len(ids) == 0 || len(ids) > MaxKeysPerBatch {
		return fmt.Errorf("%w: 1 to %d KeyIds", ErrInvalidParameter, MaxKeysPerBatch)
	}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if err := validateKeyID(id); err != nil {
			return err
		}
		if seen[id] {
			return fmt.Errorf("%w: %s", ErrDuplicatedKeyID, id)
		}
		seen[id] = true
	}
	return nil
}

// usable reports why a key in state st cannot encrypt (forEncrypt) or
// decrypt, or nil if it can.
func usable(k *Key, forEncrypt bool) error {
	switch k.State {
	case StateEnabled:
		return nil
	case StateArchived:
		if forEncrypt {
			return fmt.Errorf("kms: key %s: %w", k.ID, ErrKeyArchived)
		}
		return nil
	case StateDisabled:
		return fmt.Errorf("kms: key %s: %w", k.ID, ErrKeyDisabled)
	case StatePendingDelete:
		return fmt.Errorf("kms: key %s: %w", k.ID, ErrKeyPendingDelete)
	case StateDeleted:
		return deleted(k)
	}
	return fmt.Errorf("kms: key %s is %s: %w", k.ID, k.State, ErrInvalidKeyState)
}

func deleted(k *Key) error {
	return fmt.Errorf("kms: key %s was deleted on %s: %w", k.ID, k.DeletionDate.Format(time.DateOnly), ErrKeyDeleted)
}
