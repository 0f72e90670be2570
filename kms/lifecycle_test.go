package kms_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/keyhaven/keyhaven/kms"
)

// clock is a test clock that only moves when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) move(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

const day = 24 * time.Hour

func withClock(c *clock) func(*kms.Config) { return func(cfg *kms.Config) { cfg.Clock = c } }

func currentVersion(t *testing.T, svc *kms.Service, id string) uint32 {
	t.Helper()
	k, err := svc.DescribeKey(context.Background(), account, id)
	if err != nil {
		t.Fatal(err)
	}
	return k.CurrentVersion
}

// TestRotationKeepsOldCiphertexts rotates on demand and checks that new
// ciphertexts use the newest version and every old one still decrypts.
func TestRotationKeepsOldCiphertexts(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, 0)
	k := mustCreate(t, svc, kms.CreateKeyInput{Alias: "r"})
	var blobs [][]byte
	for v := uint32(1); v <= 4; v++ {
		blob, err := svc.Encrypt(ctx, kms.EncryptInput{Account: account, KeyID: k.ID, Plaintext: []byte{byte(v)}})
		if err != nil {
			t.Fatal(err)
		}
		if got := blob[17:21]; got[3] != byte(v) {
			t.Errorf("ciphertext after %d rotations has version %v, want %d", v-1, got, v)
		}
		blobs = append(blobs, blob)
		if v < 4 {
			if n, err := svc.RotateKey(ctx, account, k.ID); err != nil || n != v+1 {
				t.Fatalf("RotateKey = %d, %v; want %d", n, err, v+1)
			}
		}
	}
	for i, blob := range blobs {
		out, err := svc.Decrypt(ctx, kms.DecryptInput{Account: account, Ciphertext: blob})
		if err != nil || out.Plaintext[0] != byte(i+1) {
			t.Errorf("Decrypt(version %d) = %v, %v", i+1, out.Plaintext, err)
		}
		re, err := svc.ReEncrypt(ctx, kms.ReEncryptInput{Account: account, Ciphertext: blob})
		if err != nil || re.Ciphertext[20] != 4 {
			t.Errorf("ReEncrypt(version %d) = version %d, %v; want version 4", i+1, re.Ciphertext[20], err)
		}
	}
	if k, _ := svc.DescribeKey(ctx, account, k.ID); k.LastRotateTime.IsZero() {
		t.Error("LastRotateTime not set after RotateKey")
	}
}

// TestAutomaticRotationOncePerPeriod runs the scheduler of two services on
// one store while the clock moves: each period adds exactly one version.
func TestAutomaticRotationOncePerPeriod(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	a, st := newServiceStore(t, withClock(c))
	b := serviceOn(t, st, withClock(c))
	k := mustCreate(t, a, kms.CreateKeyInput{Alias: "auto"})
	if err := a.EnableKeyRotation(ctx, account, k.ID, 7); err != nil {
		t.Fatal(err)
	}
	if err := a.EnableKeyRotation(ctx, account, k.ID, 6); !errors.Is(err, kms.ErrInvalidParameter) {
		t.Errorf("EnableKeyRotation(6 days) = %v, want ErrInvalidParameter", err)
	}
	run := func(svc *kms.Service, holder string) kms.JobReport {
		t.Helper()
		r, err := svc.RunScheduledJobs(ctx, holder, time.Minute)
		if err != nil {
			t.Fatalf("RunScheduledJobs(%s): %v", holder, err)
		}
		return r
	}
	if r := run(a, "a"); len(r.Rotated) != 0 || !r.Ran {
		t.Errorf("run before the period = %+v, want nothing rotated", r)
	}
	c.move(7*day - time.Second)
	run(a, "a")
	if v := currentVersion(t, a, k.ID); v != 1 {
		t.Errorf("version a second before the period = %d, want 1", v)
	}
	for period := 1; period <= 3; period++ {
		c.move(7 * day)
		var wg sync.WaitGroup
		reports := make([]kms.JobReport, 4)
		for i := range reports {
			wg.Add(1)
			go func() {
				defer wg.Done()
				svc, holder := a, "a"
				if i%2 == 1 {
					svc, holder = b, "b"
				}
				reports[i] = run(svc, holder)
			}()
		}
		wg.Wait()
		rotated := 0
		for _, r := range reports {
			rotated += len(r.Rotated)
		}
		if rotated != 1 {
			t.Errorf("period %d: %d rotations by two servers, want 1 (%+v)", period, rotated, reports)
		}
		if v := currentVersion(t, a, k.ID); v != uint32(period+1) {
			t.Errorf("period %d: version %d, want %d", period, v, period+1)
		}
	}
	// A disabled key does not rotate; once enabled it catches up once.
	if err := a.DisableKeys(ctx, account, []string{k.ID}); err != nil {
		t.Fatal(err)
	}
	c.move(30 * day)
	run(a, "a")
	if v := currentVersion(t, a, k.ID); v != 4 {
		t.Errorf("disabled key rotated: version %d, want 4", v)
	}
	if err := a.EnableKeys(ctx, account, []string{k.ID}); err != nil {
		t.Fatal(err)
	}
	run(a, "a")
	run(a, "a")
	if v := currentVersion(t, a, k.ID); v != 5 {
		t.Errorf("re-enabled key after a long pause: version %d, want 5 (one catch-up rotation)", v)
	}
	if err := a.DisableKeyRotation(ctx, account, k.ID); err != nil {
		t.Fatal(err)
	}
	c.move(400 * day)
	run(a, "a")
	if v := currentVersion(t, a, k.ID); v != 5 {
		t.Errorf("rotation disabled but version %d, want 5", v)
	}
}

// TestSchedulerLease checks that only the lease holder runs jobs until its
// lease runs out.
func TestSchedulerLease(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	a, st := newServiceStore(t, withClock(c))
	b := serviceOn(t, st, withClock(c))
	if r, _ := a.RunScheduledJobs(ctx, "a", time.Minute); !r.Ran {
		t.Fatal("first holder did not get the lease")
	}
	if r, _ := b.RunScheduledJobs(ctx, "b", time.Minute); r.Ran {
		t.Error("second server ran while the first held the lease")
	}
	if r, _ := a.RunScheduledJobs(ctx, "a", time.Minute); !r.Ran {
		t.Error("the holder could not renew its lease")
	}
	c.move(time.Minute)
	if r, _ := b.RunScheduledJobs(ctx, "b", time.Minute); !r.Ran {
		t.Error("second server did not take over an expired lease")
	}
}

// TestScheduledDeletion destroys the material on the date, not before, and
// leaves a tombstone; a cancelled deletion leaves a usable key.
func TestScheduledDeletion(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	a, st := newServiceStore(t, withClock(c))
	b := serviceOn(t, st, withClock(c))
	doomed := mustCreate(t, a, kms.CreateKeyInput{Alias: "doomed"})
	saved := mustCreate(t, a, kms.CreateKeyInput{Alias: "saved"})
	blobs := map[string][]byte{}
	for _, k := range []*kms.Key{doomed, saved} {
		blob, err := a.Encrypt(ctx, kms.EncryptInput{Account: account, KeyID: k.ID, Plaintext: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Decrypt(ctx, kms.DecryptInput{Account: account, Ciphertext: blob}); err != nil {
			t.Fatal(err) // b now caches the key
		}
		blobs[k.ID] = blob
		if err := a.DisableKeys(ctx, account, []string{k.ID}); err != nil {
			t.Fatal(err)
		}
		date, err := a.ScheduleKeyDeletion(ctx, account, k.ID, 7)
		if err != nil || !date.Equal(c.Now().Add(7*day)) {
			t.Fatalf("ScheduleKeyDeletion = %v, %v; want 7 days from now", date, err)
		}
	}
	if _, err := a.ScheduleKeyDeletion(ctx, account, saved.ID, 31); !errors.Is(err, kms.ErrInvalidPendingWindow) {
		t.Errorf("ScheduleKeyDeletion(31 days) = %v, want ErrInvalidPendingWindow", err)
	}
	c.move(3 * day)
	if err := a.CancelKeyDeletion(ctx, account, saved.ID); err != nil {
		t.Fatal(err)
	}
	c.move(4*day - time.Second)
	if r, _ := a.RunScheduledJobs(ctx, "a", time.Minute); len(r.Deleted) != 0 {
		t.Errorf("deleted a second before the date: %v", r.Deleted)
	}
	c.move(time.Second)
	r, err := a.RunScheduledJobs(ctx, "a", time.Minute)
	if err != nil || len(r.Deleted) != 1 || r.Deleted[0] != doomed.ID {
		t.Fatalf("run on the date = %+v, %v; want %s deleted", r, err, doomed.ID)
	}
	err = st.View(ctx, func(tx kms.Tx) error {
		vs, err := tx.Versions(doomed.ID)
		if len(vs) != 0 {
			t.Errorf("store still holds %d versions of the deleted key", len(vs))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, svc := range map[string]*kms.Service{"deleting server": a, "other server": b} {
		if _, err := svc.Decrypt(ctx, kms.DecryptInput{Account: account, Ciphertext: blobs[doomed.ID]}); !errors.Is(err, kms.ErrKeyDeleted) {
			t.Errorf("%s: Decrypt under the deleted key = %v, want ErrKeyDeleted", name, err)
		}
		if _, err := svc.DescribeKey(ctx, account, doomed.ID); !errors.Is(err, kms.ErrKeyDeleted) {
			t.Errorf("%s: DescribeKey(deleted) = %v, want ErrKeyDeleted", name, err)
		}
	}
	if _, total, _ := a.ListKeys(ctx, kms.ListKeysInput{Account: account, Limit: 10}); total != 1 {
		t.Errorf("ListKeys counts %d keys, want 1 (the tombstone is not listed)", total)
	}
	mustCreate(t, a, kms.CreateKeyInput{Alias: "doomed"}) // the alias is free again
	if r, _ := a.RunScheduledJobs(ctx, "a", time.Minute); len(r.Deleted) != 0 {
		t.Errorf("second run deleted again: %v", r.Deleted)
	}

	if s := stateOf(t, st, saved.ID); s != kms.StateDisabled {
		t.Errorf("cancelled key is %s, want Disabled", s)
	}
	if err := a.EnableKeys(ctx, account, []string{saved.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Decrypt(ctx, kms.DecryptInput{Account: account, Ciphertext: blobs[saved.ID]}); err != nil {
		t.Errorf("Decrypt under the saved key: %v", err)
	}
}

// TestLifecycleRefusals covers the rules outside the state table.
func TestLifecycleRefusals(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, 0)
	sk := mustCreate(t, svc, kms.CreateKeyInput{Service: "cos"})
	if err := svc.ArchiveKey(ctx, account, sk.ID); !errors.Is(err, kms.ErrNotUserCreated) {
		t.Errorf("ArchiveKey(service key) = %v, want ErrNotUserCreated", err)
	}
	if _, err := svc.ScheduleKeyDeletion(ctx, account, sk.ID, 7); !errors.Is(err, kms.ErrNotUserCreated) {
		t.Errorf("ScheduleKeyDeletion(service key) = %v, want ErrNotUserCreated", err)
	}
	if _, err := svc.RotateKey(ctx, account, sk.ID); err != nil {
		t.Errorf("RotateKey(service key) = %v; service keys can be rotated", err)
	}
	k := mustCreate(t, svc, kms.CreateKeyInput{Alias: "k"})
	for _, days := range []int{6, 366, -1} {
		if err := svc.EnableKeyRotation(ctx, account, k.ID, days); !errors.Is(err, kms.ErrInvalidParameter) {
			t.Errorf("EnableKeyRotation(%d days) = %v, want ErrInvalidParameter", days, err)
		}
	}
	for _, days := range []int{0, 6, 31} {
		if _, err := svc.ScheduleKeyDeletion(ctx, account, k.ID, days); !errors.Is(err, kms.ErrInvalidPendingWindow) {
			t.Errorf("ScheduleKeyDeletion(%d days) = %v, want ErrInvalidPendingWindow", days, err)
		}
	}
	if got, _ := svc.DescribeKey(ctx, account, k.ID); got.RotationEnabled || got.State != kms.StateEnabled {
		t.Errorf("refusals changed the key: %+v", got)
	}
}

// destroyingBackend is the software backend plus a KeyDestroyer that records
// what it destroyed, standing in for an HSM.
type destroyingBackend struct {
	kms.Backend
	mu        sync.Mutex
	destroyed [][]byte
}

func (d *destroyingBackend) DestroyKey(_ context.Context, stored []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.destroyed = append(d.destroyed, stored)
	return nil
}

// TestDeletionDestroysOutsideMaterial checks that scheduled deletion asks a
// KeyDestroyer backend to destroy every version, and only of deleted keys.
func TestDeletionDestroysOutsideMaterial(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var hsm *destroyingBackend
	svc, _ := newServiceStore(t, withClock(c), func(cfg *kms.Config) {
		hsm = &destroyingBackend{Backend: cfg.Backend}
		cfg.HSM = hsm
	})
	doomed := mustCreate(t, svc, kms.CreateKeyInput{Alias: "doomed", ProtectionLevel: kms.ProtectionHSM})
	kept := mustCreate(t, svc, kms.CreateKeyInput{Alias: "kept", ProtectionLevel: kms.ProtectionHSM})
	if _, err := svc.RotateKey(ctx, account, doomed.ID); err != nil {
		t.Fatal(err)
	}
	for _, k := range []*kms.Key{doomed, kept} {
		if err := svc.DisableKeys(ctx, account, []string{k.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ScheduleKeyDeletion(ctx, account, k.ID, 7); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.CancelKeyDeletion(ctx, account, kept.ID); err != nil {
		t.Fatal(err)
	}
	c.move(8 * day)
	if r, err := svc.RunScheduledJobs(ctx, "a", time.Minute); err != nil || len(r.Deleted) != 1 {
		t.Fatalf("RunScheduledJobs = %+v, %v", r, err)
	}
	if len(hsm.destroyed) != 2 {
		t.Errorf("DestroyKey called %d times, want 2 (both versions of the deleted key)", len(hsm.destroyed))
	}
	if k, err := svc.DescribeKey(ctx, account, kept.ID); err != nil || k.State != kms.StateDisabled {
		t.Errorf("kept key = %+v, %v", k, err)
	}
}
