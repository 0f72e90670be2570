package kms

import (
	"context"
	"fmt"
	"time"
)

// Lifecycle limits, as the cloud products set them.
const (
	DefaultRotateDays = 365
	MinRotateDays     = 7
	MaxRotateDays     = 365
	MinPendingDays    = 7
	MaxPendingDays    = 30
	day               = 24 * time.Hour
)

// rotatable returns why k cannot get new versions, or nil.
func rotatable(k *Key) error {
	switch {
	case k.Origin == OriginExternal:
		return fmt.Errorf("kms: key %s: %w", k.ID, ErrExternalCannotRotate)
	case !k.Spec.Symmetric():
		return fmt.Errorf("kms: key %s: %w", k.ID, ErrRotationNotSupported)
	}
	return nil
}

// EnableKeyRotation turns on automatic rotation every days days (0 means
// DefaultRotateDays; otherwise 7 to 365). The first rotation is days from
// now. It returns ErrInvalidParameter, ErrExternalCannotRotate,
// ErrRotationNotSupported, or the state's error for a key that is not
// Enabled or Disabled.
func (s *Service) EnableKeyRotation(ctx context.Context, account, id string, days int) error {
	if days == 0 {
		days = DefaultRotateDays
	}
	if days < MinRotateDays || days > MaxRotateDays {
		return fmt.Errorf("%w: RotateDays is %d to %d", ErrInvalidParameter, MinRotateDays, MaxRotateDays)
	}
	now := s.now()
	return s.updateKeys(ctx, account, []string{id}, func(k *Key) error {
		if err := rotatable(k); err != nil {
			return err
		}
		if err := controllable(k); err != nil {
			return err
		}
		k.RotationEnabled, k.RotateDays, k.NextRotateTime = true, days, now.Add(time.Duration(days)*day)
		return nil
	})
}

// DisableKeyRotation turns automatic rotation off; versions made so far stay.
func (s *Service) DisableKeyRotation(ctx context.Context, account, id string) error {
	return s.updateKeys(ctx, account, []string{id}, func(k *Key) error {
		if err := rotatable(k); err != nil {
			return err
		}
		if err := controllable(k); err != nil {
			return err
		}
		k.RotationEnabled, k.NextRotateTime = false, time.Time{}
		return nil
	})
}

// controllable allows configuration changes to Enabled and Disabled keys.
func controllable(k *Key) error {
	if k.State == StateEnabled || k.State == StateDisabled {
		return nil
	}
	return usable(k, true)
}

// RotateKey adds a new version to an Enabled symmetric key now; new
// ciphertexts use it and older ones still decrypt. The automatic schedule is
// unchanged. It returns the new version number.
func (s *Service) RotateKey(ctx context.Context, account, id string) (uint32, error) {
	if err := validateKeyID(id); err != nil {
		return 0, err
	}
	var k *Key
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		k, err = accountKey(tx, account, id)
		return err
	})
	if err != nil {
		return 0, err
	}
	return s.rotate(ctx, k, func(k *Key) error {
		if err := rotatable(k); err != nil {
			return err
		}
		return usable(k, true)
	}, nil)
}

// rotate generates material for the version after k's current one and
// commits it if, inside the transaction, the key is still at that version and
// check passes; then (if not nil) reschedule updates the key's schedule. A
// lost race with another rotation is ErrInvalidKeyState.
func (s *Service) rotate(ctx context.Context, k *Key, check func(*Key) error, reschedule func(*Key)) (uint32, error) {
	if err := check(k); err != nil {
		return 0, err
	}
	next := k.CurrentVersion + 1
	backend, err := s.backendFor(k.ProtectionLevel)
	if err != nil {
		return 0, err
	}
	material, err := backend.Generate(ctx, k.ID, next, k.Spec)
	if err != nil {
		return 0, fmt.Errorf("kms: generate material: %w", err)
	}
	now := s.now()
	err = s.store.Update(ctx, func(tx Tx) error {
		cur, err := accountKey(tx, k.Account, k.ID)
		if err != nil {
			return err
		}
		if err := check(cur); err != nil {
			return err
		}
		if cur.CurrentVersion+1 != next {
			return fmt.Errorf("kms: key %s was rotated meanwhile: %w", k.ID, ErrInvalidKeyState)
		}
		if err := tx.PutVersion(&KeyVersion{KeyID: k.ID, Version: next, Material: material, CreateTime: now}); err != nil {
			return err
		}
		cur.CurrentVersion, cur.LastRotateTime = next, now
		if reschedule != nil {
			reschedule(cur)
		}
		return tx.PutKey(cur)
	})
	if err != nil {
		return 0, err
	}
	s.keys.invalidate(k.ID)
	return next, nil
}

// ArchiveKey archives an Enabled key: it then decrypts but no longer
// encrypts. Service keys cannot be archived (ErrNotUserCreated).
func (s *Service) ArchiveKey(ctx context.Context, account, id string) error {
	return s.updateKeys(ctx, account, []string{id}, func(k *Key) error {
		if !k.UserCreated() {
			return fmt.Errorf("kms: key %s: %w", k.ID, ErrNotUserCreated)
		}
		switch k.State {
		case StateEnabled, StateArchived:
			k.State = StateArchived
			return nil
		}
		return usable(k, true)
	})
}

// CancelKeyArchive returns an Archived key to Enabled; other states get
// ErrInvalidKeyState.
func (s *Service) CancelKeyArchive(ctx context.Context, account, id string) error {
	return s.updateKeys(ctx, account, []string{id}, func(k *Key) error {
		if k.State != StateArchived {
			return fmt.Errorf("kms: key %s is %s, not Archived: %w", k.ID, k.State, ErrInvalidKeyState)
		}
		k.State = StateEnabled
		return nil
	})
}

// ScheduleKeyDeletion puts a Disabled (or PendingImport) key in
// PendingDelete; its material is destroyed days (7 to 30) from now. It
// returns the deletion date, ErrInvalidPendingWindow, ErrShouldBeDisabled for
// an Enabled or Archived key, or ErrNotUserCreated for a service key.
func (s *Service) ScheduleKeyDeletion(ctx context.Context, account, id string, days int) (time.Time, error) {
	if days < MinPendingDays || days > MaxPendingDays {
		return time.Time{}, fmt.Errorf("kms: %w", ErrInvalidPendingWindow)
	}
	date := s.now().Add(time.Duration(days) * day)
	err := s.updateKeys(ctx, account, []string{id}, func(k *Key) error {
		if !k.UserCreated() {
			return fmt.Errorf("kms: key %s: %w", k.ID, ErrNotUserCreated)
		}
		switch k.State {
		case StateDisabled, StatePendingImport:
			k.State, k.DeletionDate = StatePendingDelete, date
			return nil
		case StateEnabled, StateArchived:
			return fmt.Errorf("kms: key %s is %s: %w", k.ID, k.State, ErrShouldBeDisabled)
		}
		return usable(k, true)
	})
	if err != nil {
		return time.Time{}, err
	}
	return date, nil
}

// CancelKeyDeletion returns a PendingDelete key to Disabled, or returns
// ErrNotPendingDelete.
func (s *Service) CancelKeyDeletion(ctx context.Context, account, id string) error {
	return s.updateKeys(ctx, account, []string{id}, func(k *Key) error {
		if k.State != StatePendingDelete {
			return fmt.Errorf("kms: key %s is %s: %w", k.ID, k.State, ErrNotPendingDelete)
		}
		k.State, k.DeletionDate = StateDisabled, time.Time{}
		if k.CurrentVersion == 0 { // imported key whose material never came
			k.State = StatePendingImport
		}
		return nil
	})
}
