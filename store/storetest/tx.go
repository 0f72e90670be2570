package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/keyhaven/keyhaven/kms"
)

func txTests() []test {
	return []test{
		{"UpdateReturnsFnError", testUpdateReturnsFnError},
		{"UpdateRollsBack", testUpdateRollsBack},
		{"ViewReturnsFnError", testViewReturnsFnError},
		{"ViewCannotWrite", testViewCannotWrite},
		{"ContextDone", testContextDone},
		{"Concurrent", testConcurrent},
		{"Serializable", testSerializable},
	}
}

// errFn is what the suite's fn returns to make a transaction fail.
var errFn = errors.New("storetest: fn failed")

func testUpdateReturnsFnError(t *testing.T, s kms.Store) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"Sentinel", errFn},
		{"Wrapped", fmt.Errorf("context: %w", errFn)},
		{"DomainError", fmt.Errorf("rotate: %w", kms.ErrInvalidKeyState)},
	} {
		err := s.Update(context.Background(), func(kms.Tx) error { return tc.err })
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: Update(fn returning %v) = %v, want it to match with errors.Is", tc.name, tc.err, err)
		}
	}
	if err := s.Update(context.Background(), func(kms.Tx) error { return nil }); err != nil {
		t.Errorf("Update(fn returning nil) = %v, want nil", err)
	}
}

// seed stores one key with a version, an access key and a setting, and
// returns them.
func seed(t *testing.T, s kms.Store) (*kms.Key, *kms.KeyVersion, *kms.AccessKey) {
	t.Helper()
	k := newKey(1, account1, "alias-1", at(0))
	v := newVersion(1, 1, "material 1")
	ak := newAccessKey("AKIDseed", account1)
	update(t, s, func(tx kms.Tx) error {
		if err := tx.PutKey(k); err != nil {
			return fmt.Errorf("PutKey(%s): %w", k.ID, err)
		}
		if err := tx.PutVersion(v); err != nil {
			return fmt.Errorf("PutVersion(%s/%d): %w", v.KeyID, v.Version, err)
		}
		if err := tx.PutAccessKey(ak); err != nil {
			return fmt.Errorf("PutAccessKey(%s): %w", ak.SecretID, err)
		}
		if err := tx.PutSetting("seed", []byte("seeded")); err != nil {
			return fmt.Errorf("PutSetting(%q): %w", "seed", err)
		}
		return nil
	})
	return newKey(1, account1, "alias-1", at(0)), newVersion(1, 1, "material 1"), newAccessKey("AKIDseed", account1)
}

// wantSeedOnly fails the test unless the store holds exactly what seed put.
func wantSeedOnly(t *testing.T, s kms.Store, k *kms.Key, v *kms.KeyVersion, ak *kms.AccessKey) {
	t.Helper()
	wantKey(t, s, k)
	wantNoKey(t, s, keyID(2))
	wantAlias(t, s, account1, "alias-1", k.ID)
	wantAlias(t, s, account1, "alias-2", "")
	wantVersions(t, s, k.ID, v)
	wantVersions(t, s, keyID(2))
	wantAccessKey(t, s, ak)
	wantSetting(t, s, "seed", []byte("seeded"))
	if v, err := setting(t, s, "new"); !errors.Is(err, kms.ErrSettingNotFound) {
		t.Errorf("Setting(%q) = %q, %v, want ErrSettingNotFound", "new", v, err)
	}
	view(t, s, func(tx kms.Tx) error {
		if ak, err := tx.AccessKey("AKIDnew"); !errors.Is(err, kms.ErrAccessKeyNotFound) {
			t.Errorf("AccessKey(%q) = %+v, %v, want ErrAccessKeyNotFound", "AKIDnew", ak, err)
		}
		if keys, err := tx.Keys(account2); err != nil || len(keys) != 0 {
			t.Errorf("Keys(%q) = %v, %v, want none, nil", account2, keys, err)
		}
		return nil
	})
	if got, want := listIDs(t, s, account1), []string{k.ID}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("Keys(%q) = %v, want %v", account1, got, want)
	}
}

func testUpdateRollsBack(t *testing.T, s kms.Store) {
	k, v, ak := seed(t, s)
	err := s.Update(context.Background(), func(tx kms.Tx) error {
		changed := newKey(1, account1, "alias-2", at(9))
		changed.State = kms.StateDisabled
		writes := []struct {
			name string
			do   func() error
		}{
			{"PutKey(replace, new alias)", func() error { return tx.PutKey(changed) }},
			{"PutKey(new key takes freed alias)", func() error { return tx.PutKey(newKey(2, account1, "alias-1", at(1))) }},
			{"PutKey(other account)", func() error { return tx.PutKey(newKey(3, account2, "", at(1))) }},
			{"PutVersion(replace)", func() error { return tx.PutVersion(newVersion(1, 1, "replaced")) }},
			{"PutVersion(new)", func() error { return tx.PutVersion(newVersion(1, 2, "material 2")) }},
			{"PutVersion(new key)", func() error { return tx.PutVersion(newVersion(2, 1, "material")) }},
			{"PutAccessKey(replace)", func() error { return tx.PutAccessKey(newAccessKey("AKIDseed", account2)) }},
			{"PutAccessKey(new)", func() error { return tx.PutAccessKey(newAccessKey("AKIDnew", account1)) }},
			{"PutSetting(replace)", func() error { return tx.PutSetting("seed", []byte("replaced")) }},
			{"PutSetting(new)", func() error { return tx.PutSetting("new", []byte("new")) }},
		}
		for _, w := range writes {
			if err := w.do(); err != nil {
				return fmt.Errorf("%s: %w", w.name, err)
			}
		}
		// The transaction sees its own writes before it fails.
		if id, err := tx.KeyIDByAlias(account1, "alias-1"); err != nil || id != keyID(2) {
			t.Errorf("KeyIDByAlias(%q, %q) inside the Update = %q, %v, want %q, nil", account1, "alias-1", id, err, keyID(2))
		}
		if vs, err := tx.Versions(keyID(1)); err != nil || len(vs) != 2 {
			t.Errorf("Versions(%s) inside the Update = %d versions, %v, want 2, nil", keyID(1), len(vs), err)
		}
		return errFn
	})
	if !errors.Is(err, errFn) {
		t.Fatalf("Update(writes, then fn fails) = %v, want %v", err, errFn)
	}
	wantSeedOnly(t, s, k, v, ak)
}

func testViewReturnsFnError(t *testing.T, s kms.Store) {
	for _, want := range []error{errFn, fmt.Errorf("context: %w", errFn), kms.ErrKeyNotFound} {
		if err := s.View(context.Background(), func(kms.Tx) error { return want }); !errors.Is(err, want) {
			t.Errorf("View(fn returning %v) = %v, want it to match with errors.Is", want, err)
		}
	}
	if err := s.View(context.Background(), func(kms.Tx) error { return nil }); err != nil {
		t.Errorf("View(fn returning nil) = %v, want nil", err)
	}
}

func testViewCannotWrite(t *testing.T, s kms.Store) {
	k, v, ak := seed(t, s)
	changed := newKey(1, account1, "alias-2", at(9))
	for _, w := range []struct {
		name string
		do   func(tx kms.Tx) error
	}{
		{"PutKey(replace)", func(tx kms.Tx) error { return tx.PutKey(changed) }},
		{"PutKey(new)", func(tx kms.Tx) error { return tx.PutKey(newKey(2, account1, "", at(1))) }},
		{"PutVersion", func(tx kms.Tx) error { return tx.PutVersion(newVersion(1, 2, "material 2")) }},
		{"PutAccessKey", func(tx kms.Tx) error { return tx.PutAccessKey(newAccessKey("AKIDnew", account1)) }},
		{"PutSetting", func(tx kms.Tx) error { return tx.PutSetting("new", []byte("new")) }},
	} {
		// fn ignores the write's error and returns nil: the write must
		// still not happen.
		err := s.View(context.Background(), func(tx kms.Tx) error {
			if err := w.do(tx); err == nil {
				t.Errorf("%s inside View = nil, want an error", w.name)
			}
			return nil
		})
		if err != nil {
			t.Errorf("View(fn returning nil after %s) = %v, want nil", w.name, err)
		}
	}
	wantSeedOnly(t, s, k, v, ak)
}

func testContextDone(t *testing.T, s kms.Store) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()

	for _, c := range []struct {
		name string
		ctx  context.Context
	}{
		{"Canceled", canceled},
		{"DeadlineExceeded", expired},
	} {
		for _, m := range []struct {
			name string
			run  func(context.Context, func(kms.Tx) error) error
		}{
			{"View", s.View},
			{"Update", s.Update},
		} {
			called := false
			err := m.run(c.ctx, func(tx kms.Tx) error {
				called = true
				return nil
			})
			if !errors.Is(err, c.ctx.Err()) {
				t.Errorf("%s(%s context) = %v, want an error matching %v", m.name, c.name, err, c.ctx.Err())
			}
			if called {
				t.Errorf("%s(%s context) called fn, want it not called", m.name, c.name)
			}
		}
	}
	// The store still works with a live context.
	putKeys(t, s, newKey(1, account1, "", at(0)))
	wantKey(t, s, newKey(1, account1, "", at(0)))
}

func testConcurrent(t *testing.T, s kms.Store) {
	const writers, perWriter, readers = 4, 20, 3
	// Each Update stores a key and its first version; a reader must never
	// see one without the other, and always sees Keys in order.
	done := make(chan struct{})
	var readWG sync.WaitGroup
	for range readers {
		readWG.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				err := s.View(context.Background(), func(tx kms.Tx) error {
					keys, err := tx.Keys(account1)
					if err != nil {
						return fmt.Errorf("Keys(%q): %w", account1, err)
					}
					for i, k := range keys {
						if i > 0 && !keyBefore(keys[i-1], k) {
							t.Errorf("Keys(%q) lists %s (%v) before %s (%v)", account1, keys[i-1].ID, keys[i-1].CreateTime, k.ID, k.CreateTime)
						}
						vs, err := tx.Versions(k.ID)
						if err != nil || len(vs) != 1 {
							t.Errorf("Versions(%s) = %d versions, %v, want 1, nil: a reader saw half an Update", k.ID, len(vs), err)
						}
					}
					return nil
				})
				if err != nil {
					t.Errorf("View() = %v, want nil", err)
					return
				}
			}
		})
	}

	var writeWG sync.WaitGroup
	for w := range writers {
		writeWG.Go(func() {
			for i := range perWriter {
				n := w*1000 + i
				err := s.Update(context.Background(), func(tx kms.Tx) error {
					if err := tx.PutKey(newKey(n, account1, "w-"+strconv.Itoa(n), at(i))); err != nil {
						return fmt.Errorf("PutKey(%s): %w", keyID(n), err)
					}
					return tx.PutVersion(newVersion(n, 1, "material"))
				})
				if err != nil {
					t.Errorf("Update(key %d) = %v, want nil", n, err)
					return
				}
			}
		})
	}
	writeWG.Wait()
	close(done)
	readWG.Wait()

	// Everything acknowledged is there, in order: ties on CreateTime (one
	// per writer) by id.
	var want []string
	for i := range perWriter {
		for w := range writers {
			want = append(want, keyID(w*1000+i))
		}
	}
	got := listIDs(t, s, account1)
	if len(got) != len(want) {
		t.Fatalf("Keys(%q) after %d Updates lists %d keys, want %d", account1, len(want), len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("Keys(%q)[%d] = %s, want %s", account1, i, got[i], want[i])
		}
	}
	for w := range writers {
		for i := range perWriter {
			n := w*1000 + i
			wantAlias(t, s, account1, "w-"+strconv.Itoa(n), keyID(n))
		}
	}
}

// keyBefore reports whether a sorts strictly before b in Keys order.
func keyBefore(a, b *kms.Key) bool {
	if !a.CreateTime.Equal(b.CreateTime) {
		return a.CreateTime.Before(b.CreateTime)
	}
	return a.ID < b.ID
}

// testSerializable increments one counter from many goroutines, each a
// read-modify-write in its own Update. A store that runs Updates with less
// than serializable isolation loses increments.
func testSerializable(t *testing.T, s kms.Store) {
	const workers, perWorker = 4, 15
	putSetting(t, s, "counter", []byte("0"))
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range perWorker {
				err := s.Update(context.Background(), func(tx kms.Tx) error {
					v, err := tx.Setting("counter")
					if err != nil {
						return fmt.Errorf("Setting(%q): %w", "counter", err)
					}
					n, err := strconv.Atoi(string(v))
					if err != nil {
						return fmt.Errorf("Setting(%q) = %q: %w", "counter", v, err)
					}
					return tx.PutSetting("counter", []byte(strconv.Itoa(n+1)))
				})
				if err != nil {
					t.Errorf("Update(increment) = %v, want nil", err)
					return
				}
			}
		})
	}
	wg.Wait()
	wantSetting(t, s, "counter", []byte(strconv.Itoa(workers*perWorker)))
}
