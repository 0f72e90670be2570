package kms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// JobReport says what one scheduler run did.
type JobReport struct {
	// Ran is false when another holder had the lease, so this run did nothing.
	Ran     bool
	Rotated []string // keys that got a new version
	Deleted []string // keys whose material was destroyed
	Expired []string // EXTERNAL keys whose imported material expired
}

const schedulerLease = "lease/scheduler"

type lease struct {
	Holder string    `json:"holder"`
	Until  time.Time `json:"until"`
}

// RunScheduledJobs runs the background jobs that are due: automatic
// rotations and scheduled deletions. holder names the calling server; only
// the holder of the store-level lease (valid for ttl, renewed by each run)
// works, so of several servers on one store exactly one runs the jobs. Each
// key's job is its own transaction that checks again that the job is due, so
// a run killed midway leaves every key either done or untouched, and no job
// runs twice.
func (s *Service) RunScheduledJobs(ctx context.Context, holder string, ttl time.Duration) (JobReport, error) {
	var report JobReport
	now := s.now()
	err := s.store.Update(ctx, func(tx Tx) error {
		var l lease
		switch raw, err := tx.Setting(schedulerLease); {
		case errors.Is(err, ErrSettingNotFound):
		case err != nil:
			return err
		default:
			if err := json.Unmarshal(raw, &l); err != nil {
				return fmt.Errorf("kms: decode scheduler lease: %w", err)
			}
		}
		if l.Holder != holder && now.Before(l.Until) {
			return nil // another server holds the lease
		}
		report.Ran = true
		raw, _ := json.Marshal(lease{Holder: holder, Until: now.Add(ttl)})
		return tx.PutSetting(schedulerLease, raw)
	})
	if err != nil || !report.Ran {
		return report, err
	}

	var rotations, deletions, expiries []*Key
	var tokens []string
	err = s.store.View(ctx, func(tx Tx) error {
		var err error
		if tokens, err = tx.SettingNames(importPrefix); err != nil {
			return err
		}
		return tx.EachKey(func(k *Key) error {
			switch {
			case rotationDue(k, now):
				rotations = append(rotations, k)
			case deletionDue(k, now):
				deletions = append(deletions, k)
			case materialExpired(k, now):
				expiries = append(expiries, k)
			}
			return nil
		})
	})
	if err != nil {
		return report, err
	}
	var errs []error
	for _, k := range expiries {
		err := s.dropMaterial(ctx, k.ID, func(k *Key) error {
			if !materialExpired(k, now) {
				return errNotDue
			}
			return nil
		})
		switch {
		case err == nil:
			report.Expired = append(report.Expired, k.ID)
		case !errors.Is(err, errNotDue):
			errs = append(errs, fmt.Errorf("expire material of key %s: %w", k.ID, err))
		}
	}
	if err := s.sweepTokens(ctx, tokens, now); err != nil {
		errs = append(errs, err)
	}
	for _, k := range rotations {
		_, err := s.rotate(ctx, k, func(k *Key) error {
			if !rotationDue(k, now) {
				return errNotDue
			}
			return nil
		}, func(k *Key) { k.NextRotateTime = now.Add(time.Duration(k.RotateDays) * day) })
		switch {
		case err == nil:
			report.Rotated = append(report.Rotated, k.ID)
		case !errors.Is(err, errNotDue) && !errors.Is(err, ErrInvalidKeyState):
			errs = append(errs, fmt.Errorf("rotate key %s: %w", k.ID, err))
		}
	}
	for _, k := range deletions {
		done, err := s.destroy(ctx, k.ID, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("delete key %s: %w", k.ID, err))
		}
		if done {
			report.Deleted = append(report.Deleted, k.ID)
		}
	}
	return report, errors.Join(errs...)
}

var errNotDue = errors.New("job no longer due")

func rotationDue(k *Key, now time.Time) bool {
	return k.RotationEnabled && k.State == StateEnabled && !k.NextRotateTime.After(now)
}

// deletionDue reports whether a key's material must be destroyed now: its
// deletion date has come, or it is a tombstone whose versions a crashed run
// left behind.
func deletionDue(k *Key, now time.Time) bool {
	return k.State == StatePendingDelete && !k.DeletionDate.After(now) ||
		k.State == StateDeleted && k.CurrentVersion > 0
}

// destroy deletes a due key's material. First one transaction turns the key
// into a tombstone (so nothing can use or cancel it any more), then material
// outside the store (HSM objects) is destroyed, then a second transaction
// deletes the versions. A crash in between leaves a tombstone that still
// has versions (CurrentVersion > 0), which the next run finishes. It reports
// whether this call turned the key into a tombstone.
func (s *Service) destroy(ctx context.Context, id string, now time.Time) (bool, error) {
	done := false
	err := s.store.Update(ctx, func(tx Tx) error {
		k, err := tx.Key(id)
		if err != nil || !deletionDue(k, now) {
			return err
		}
		k.State, k.Alias = StateDeleted, ""
		k.RotationEnabled, k.NextRotateTime = false, time.Time{}
		done = true
		return tx.PutKey(k)
	})
	if err != nil {
		return false, err
	}
	s.keys.invalidate(id)
	if err := s.destroyOutside(ctx, id); err != nil {
		return done, err
	}
	err = s.store.Update(ctx, func(tx Tx) error {
		k, err := tx.Key(id)
		if err != nil || k.State != StateDeleted || k.CurrentVersion == 0 {
			return err
		}
		if err := tx.DeleteVersions(id); err != nil {
			return err
		}
		k.CurrentVersion = 0
		return tx.PutKey(k)
	})
	return done, err
}

// destroyOutside asks a KeyDestroyer backend to destroy every version of a
// key it holds.
func (s *Service) destroyOutside(ctx context.Context, id string) error {
	var (
		k        *Key
		versions []*KeyVersion
	)
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if k, err = tx.Key(id); err != nil {
			return err
		}
		versions, err = tx.Versions(id)
		return err
	})
	if err != nil {
		return err
	}
	if k.State != StateDeleted {
		return nil // not a tombstone: never destroy material still in use
	}
	b, err := s.backendFor(k.ProtectionLevel)
	if err != nil {
		return err
	}
	d, ok := b.(KeyDestroyer)
	if !ok {
		return nil
	}
	for _, v := range versions {
		if err := d.DestroyKey(ctx, v.Material); err != nil {
			return fmt.Errorf("kms: destroy version %d of key %s: %w", v.Version, id, err)
		}
	}
	return nil
}

// sweepTokens destroys import tokens (and their sealed wrapping keys) whose
// time has passed.
func (s *Service) sweepTokens(ctx context.Context, names []string, now time.Time) error {
	if len(names) == 0 {
		return nil
	}
	return s.store.Update(ctx, func(tx Tx) error {
		for _, name := range names {
			raw, err := tx.Setting(name)
			if errors.Is(err, ErrSettingNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			var t importToken
			if json.Unmarshal(raw, &t) != nil || !now.Before(t.Expires) {
				if err := tx.DeleteSetting(name); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
