package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyhaven/keyhaven/kms"
	"github.com/keyhaven/keyhaven/store/bolt"
	"github.com/keyhaven/keyhaven/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) kms.Store {
		s, err := bolt.Open(filepath.Join(t.TempDir(), "keyhaven.db"))
		if err != nil {
			t.Fatalf("Open() err = %v, want nil", err)
		}
		return s
	})
}

func open(t *testing.T, path string, opts ...bolt.Option) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, opts...)
	if err != nil {
		t.Fatalf("Open(%s) err = %v, want nil", path, err)
	}
	return s
}

func TestReopenKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyhaven.db")
	created := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	key := &kms.Key{
		ID: "6f0d2c0e-1b7a-4c43-9a53-0e3c5b8f4a11", Account: "100000000001", Alias: "orders",
		Description: "orders", Usage: kms.UsageEncryptDecrypt, Spec: kms.SpecSymmetricDefault,
		State: kms.StateEnabled, Origin: kms.OriginKMS, ProtectionLevel: kms.ProtectionSoftware,
		Creator: "100000000001", CreateTime: created, CurrentVersion: 2,
		Tags: []kms.Tag{{Key: "b", Value: "2"}, {Key: "a", Value: "1"}},
	}
	versions := []*kms.KeyVersion{
		{KeyID: key.ID, Version: 1, Material: []byte{0, 1, 2}, CreateTime: created},
		{KeyID: key.ID, Version: 2, Material: []byte{3, 4, 5}, CreateTime: created.Add(time.Hour)},
	}
	ak := &kms.AccessKey{SecretID: "AKIDx", Account: key.Account, User: key.Account,
		SealedSecret: []byte("sealed"), Status: kms.AccessKeyActive, CreateTime: created}

	s := open(t, path)
	err := s.Update(context.Background(), func(tx kms.Tx) error {
		if err := tx.PutKey(key); err != nil {
			return err
		}
		for _, v := range versions {
			if err := tx.PutVersion(v); err != nil {
				return err
			}
		}
		if err := tx.PutAccessKey(ak); err != nil {
			return err
		}
		return tx.PutSetting("root", []byte("sealed root"))
	})
	if err != nil {
		t.Fatalf("Update() = %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v, want nil", err)
	}

	s = open(t, path)
	defer s.Close()
	err = s.View(context.Background(), func(tx kms.Tx) error {
		got, err := tx.Key(key.ID)
		if err != nil {
			return fmt.Errorf("Key(%s): %w", key.ID, err)
		}
		// bolt keeps nanoseconds, not only the microseconds the suite asks for.
		if !got.CreateTime.Equal(created) || got.Description != key.Description ||
			len(got.Tags) != 2 || got.Tags[0] != key.Tags[0] || got.CurrentVersion != 2 {
			t.Errorf("Key(%s) after reopen = %+v, want %+v", key.ID, got, key)
		}
		if id, err := tx.KeyIDByAlias(key.Account, "orders"); err != nil || id != key.ID {
			t.Errorf("KeyIDByAlias(orders) after reopen = %q, %v, want %q, nil", id, err, key.ID)
		}
		if keys, err := tx.Keys(key.Account); err != nil || len(keys) != 1 {
			t.Errorf("Keys(%s) after reopen = %v, %v, want one key", key.Account, keys, err)
		}
		vs, err := tx.Versions(key.ID)
		if err != nil || len(vs) != 2 || string(vs[1].Material) != string(versions[1].Material) ||
			!vs[1].CreateTime.Equal(versions[1].CreateTime) {
			t.Errorf("Versions(%s) after reopen = %v, %v, want %v", key.ID, vs, err, versions)
		}
		if got, err := tx.AccessKey(ak.SecretID); err != nil || string(got.SealedSecret) != "sealed" || got.Status != ak.Status {
			t.Errorf("AccessKey(%s) after reopen = %+v, %v, want %+v", ak.SecretID, got, err, ak)
		}
		if v, err := tx.Setting("root"); err != nil || string(v) != "sealed root" {
			t.Errorf("Setting(root) after reopen = %q, %v, want %q", v, err, "sealed root")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View() = %v, want nil", err)
	}
}

func TestSecondOpenFailsClearly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyhaven.db")
	s := open(t, path)
	defer s.Close()

	for _, tc := range []struct {
		name    string
		opts    []bolt.Option
		timeout time.Duration
	}{
		{"DefaultTimeout", nil, bolt.DefaultLockTimeout},
		{"ShortTimeout", []bolt.Option{bolt.WithLockTimeout(100 * time.Millisecond)}, 100 * time.Millisecond},
		{"ZeroKeepsDefault", []bolt.Option{bolt.WithLockTimeout(0)}, bolt.DefaultLockTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			second, err := bolt.Open(path, tc.opts...)
			elapsed := time.Since(start)
			if err == nil {
				second.Close()
				t.Fatalf("second Open(%s) err = nil, want ErrInUse", path)
			}
			if !errors.Is(err, bolt.ErrInUse) || !strings.Contains(err.Error(), path) {
				t.Errorf("second Open(%s) err = %v, want ErrInUse naming the file", path, err)
			}
			// bbolt polls the lock every 50ms and may give up one poll early.
			if elapsed < tc.timeout/2 || elapsed > tc.timeout+2*time.Second {
				t.Errorf("second Open(%s) failed after %v, want about %v", path, elapsed, tc.timeout)
			}
		})
	}

	// Once the first store closes, the file opens again.
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v, want nil", err)
	}
	open(t, path).Close()
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notBolt := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(notBolt, []byte(strings.Repeat("not a bolt file ", 1024)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing", "keyhaven.db"), notBolt} {
		if s, err := bolt.Open(path); err == nil {
			s.Close()
			t.Errorf("Open(%s) err = nil, want an error", path)
		} else if !strings.Contains(err.Error(), path) {
			t.Errorf("Open(%s) err = %v, want it to name the file", path, err)
		}
	}
}

func TestFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyhaven.db")
	open(t, path).Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode&0o077 != 0 {
		t.Errorf("Open created %s with mode %v, want no group or other access", path, mode)
	}
}

func TestPutKeyFailureWritesNothing(t *testing.T) {
	// bolt promises more than the suite: a failed PutKey leaves the
	// transaction as it was, so a fn that goes on (and commits) is safe.
	s := open(t, filepath.Join(t.TempDir(), "keyhaven.db"))
	defer s.Close()
	a := &kms.Key{ID: "a", Account: "1", Alias: "x", CreateTime: time.Unix(1, 0)}
	b := &kms.Key{ID: "b", Account: "1", Alias: "y", CreateTime: time.Unix(2, 0)}
	err := s.Update(context.Background(), func(tx kms.Tx) error {
		if err := tx.PutKey(a); err != nil {
			return err
		}
		if err := tx.PutKey(b); err != nil {
			return err
		}
		conflict := *b
		conflict.Alias = "x"
		conflict.CreateTime = time.Unix(3, 0)
		if err := tx.PutKey(&conflict); !errors.Is(err, kms.ErrAliasExists) {
			t.Errorf("PutKey(b with a's alias) = %v, want ErrAliasExists", err)
		}
		for _, bad := range []*kms.Key{nil, {Account: "1"}, {ID: "c", Account: "1\x00"}, {ID: "c", Account: "1", Alias: "z\x00"}} {
			if err := tx.PutKey(bad); !errors.Is(err, kms.ErrInvalidParameter) {
				t.Errorf("PutKey(%+v) = %v, want ErrInvalidParameter", bad, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update() = %v, want nil", err)
	}
	err = s.View(context.Background(), func(tx kms.Tx) error {
		for alias, want := range map[string]string{"x": "a", "y": "b"} {
			if id, err := tx.KeyIDByAlias("1", alias); err != nil || id != want {
				t.Errorf("KeyIDByAlias(1, %q) = %q, %v, want %q, nil", alias, id, err, want)
			}
		}
		keys, err := tx.Keys("1")
		if err != nil || len(keys) != 2 || keys[1].ID != "b" || !keys[1].CreateTime.Equal(time.Unix(2, 0)) {
			t.Errorf("Keys(1) = %v, %v, want a then b unchanged", keys, err)
		}
		if _, err := tx.Key("c"); !errors.Is(err, kms.ErrKeyNotFound) {
			t.Errorf("Key(c) err = %v, want ErrKeyNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View() = %v, want nil", err)
	}
}

func TestClosedStore(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "keyhaven.db"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v, want nil", err)
	}
	called := false
	fn := func(kms.Tx) error { called = true; return nil }
	if err := s.View(context.Background(), fn); err == nil {
		t.Errorf("View() on a closed store = nil, want an error")
	}
	if err := s.Update(context.Background(), fn); err == nil {
		t.Errorf("Update() on a closed store = nil, want an error")
	}
	if called {
		t.Errorf("a closed store called fn")
	}
}
