// Package storetest is the conformance suite every kms.Store implementation
// passes. It owns the store contract as tests; it imports kms and the
// standard library only, never a store.
//
// Beyond the doc comments of kms.Store and kms.Tx, the suite holds a store
// to these rules:
//
//   - Times round-trip to at least the microsecond. The suite uses only
//     microsecond-precise times and compares them with time.Equal, so a
//     store may return them in another location (UTC, say).
//   - Every other field round-trips exactly, Tags in their order. A nil and
//     an empty Tags, Material, SealedSecret or setting value are the same.
//   - Values returned are copies, and a Put keeps no reference to its
//     argument: changing either afterwards does not change the store.
//   - An empty Alias means no alias. Replacing a key frees the alias it
//     held; aliases are unique per account, not across accounts.
//   - Key, KeyIDByAlias, AccessKey and Setting report absence with the kms
//     sentinel errors, matched with errors.Is (wrapping is fine), for any
//     argument, including "" and strings that are not well-formed ids.
//   - Keys of an account without keys and Versions of a key without
//     versions return an empty result and a nil error.
//   - Update commits if and only if fn returns nil, and returns fn's error
//     (errors.Is matches). Update transactions are serializable: concurrent
//     read-modify-write cycles lose no update.
//   - A write inside View returns an error and changes nothing.
//   - If ctx is already done, View and Update return an error wrapping
//     ctx.Err() and do not call fn.
//
// The suite always writes a key before its versions, so a store may enforce
// that a version belongs to an existing key.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/keyhaven/keyhaven/kms"
)

// Run runs the conformance suite against the store. open is called once per
// subtest and must return a new, empty store; Run closes it when the subtest
// ends and fails the test if Close returns an error.
func Run(t *testing.T, open func(t *testing.T) kms.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Key", keyTests()},
		{"Alias", aliasTests()},
		{"Keys", listTests()},
		{"Version", versionTests()},
		{"AccessKey", accessKeyTests()},
		{"Setting", settingTests()},
		{"Principal", principalTests()},
		{"Tx", txTests()},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					s := open(t)
					t.Cleanup(func() {
						if err := s.Close(); err != nil {
							t.Errorf("Close() = %v, want nil", err)
						}
					})
					tc.run(t, s)
				})
			}
		})
	}
}

// test is one named case of the suite, run on a fresh store.
type test struct {
	name string
	run  func(t *testing.T, s kms.Store)
}

// Accounts used by the suite. Two of them share a prefix, so a store that
// finds an account's keys by prefix must not mix them up.
const (
	account1 = "100000000001"
	account2 = "200000000002"
	account3 = "1000000000011" // account1 followed by "1"
)

// keyID returns a well-formed key id (a UUID) numbered n; ids sort in n's
// order for n below 10^12.
func keyID(n int) string {
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
}

// at returns a microsecond-precise time, minute m after the suite's epoch.
func at(m int) time.Time {
	return time.Date(2024, 3, 1, 12, 0, 0, 123456000, time.UTC).Add(time.Duration(m) * time.Minute)
}

// newKey returns an enabled symmetric key with every plain field set.
func newKey(n int, account, alias string, created time.Time) *kms.Key {
	return &kms.Key{
		ID:              keyID(n),
		Account:         account,
		Alias:           alias,
		Description:     fmt.Sprintf("key %d", n),
		Usage:           kms.UsageEncryptDecrypt,
		Spec:            kms.SpecSymmetricDefault,
		State:           kms.StateEnabled,
		Origin:          kms.OriginKMS,
		ProtectionLevel: kms.ProtectionSoftware,
		Creator:         account,
		CreateTime:      created,
		Tags:            []kms.Tag{{Key: "team", Value: "payments"}},
		CurrentVersion:  1,
		RotationEnabled: true,
		RotateDays:      90,
		NextRotateTime:  created.Add(90 * 24 * time.Hour),
		LastRotateTime:  created.Add(time.Hour),
		DeletionDate:    created.Add(30 * 24 * time.Hour),
		ValidTo:         created.Add(60 * 24 * time.Hour),
		Fingerprint:     []byte{1, 2, 3},
	}
}

func newVersion(keyN int, version uint32, material string) *kms.KeyVersion {
	return &kms.KeyVersion{
		KeyID:      keyID(keyN),
		Version:    version,
		Material:   []byte(material),
		CreateTime: at(int(version % 1000)),
	}
}

func newAccessKey(secretID, account string) *kms.AccessKey {
	return &kms.AccessKey{
		SecretID:     secretID,
		Account:      account,
		User:         account,
		SealedSecret: []byte("sealed:" + secretID),
		Status:       kms.AccessKeyActive,
		CreateTime:   at(0),
	}
}

// update runs fn in an Update and fails the test if it returns an error.
func update(t *testing.T, s kms.Store, fn func(tx kms.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update() = %v, want nil", err)
	}
}

// view runs fn in a View and fails the test if it returns an error.
func view(t *testing.T, s kms.Store, fn func(tx kms.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("View() = %v, want nil", err)
	}
}

// putKeys stores keys in one Update.
func putKeys(t *testing.T, s kms.Store, keys ...*kms.Key) {
	t.Helper()
	update(t, s, func(tx kms.Tx) error {
		for _, k := range keys {
			if err := tx.PutKey(k); err != nil {
				return fmt.Errorf("PutKey(%s): %w", k.ID, err)
			}
		}
		return nil
	})
}

// getKey reads a key in its own View.
func getKey(t *testing.T, s kms.Store, id string) (*kms.Key, error) {
	t.Helper()
	var k *kms.Key
	err := s.View(context.Background(), func(tx kms.Tx) error {
		var err error
		k, err = tx.Key(id)
		return err
	})
	return k, err
}

// wantKey fails the test unless key id is stored and equals want.
func wantKey(t *testing.T, s kms.Store, want *kms.Key) {
	t.Helper()
	got, err := getKey(t, s, want.ID)
	if err != nil {
		t.Fatalf("Key(%s) err = %v, want nil", want.ID, err)
	}
	if d := diffKey(got, want); d != "" {
		t.Errorf("Key(%s): %s", want.ID, d)
	}
}

// wantNoKey fails the test unless Key(id) returns ErrKeyNotFound.
func wantNoKey(t *testing.T, s kms.Store, id string) {
	t.Helper()
	if k, err := getKey(t, s, id); !errors.Is(err, kms.ErrKeyNotFound) {
		t.Errorf("Key(%s) = %+v, %v, want ErrKeyNotFound", id, k, err)
	}
}

// aliasOwner returns the id KeyIDByAlias finds, or "" and its error.
func aliasOwner(t *testing.T, s kms.Store, account, alias string) (string, error) {
	t.Helper()
	var id string
	err := s.View(context.Background(), func(tx kms.Tx) error {
		var err error
		id, err = tx.KeyIDByAlias(account, alias)
		return err
	})
	return id, err
}

// wantAlias fails the test unless the account's alias names key id, or, for
// id "", unless KeyIDByAlias returns ErrKeyNotFound.
func wantAlias(t *testing.T, s kms.Store, account, alias, id string) {
	t.Helper()
	got, err := aliasOwner(t, s, account, alias)
	if id == "" {
		if !errors.Is(err, kms.ErrKeyNotFound) {
			t.Errorf("KeyIDByAlias(%q, %q) = %q, %v, want ErrKeyNotFound", account, alias, got, err)
		}
		return
	}
	if err != nil || got != id {
		t.Errorf("KeyIDByAlias(%q, %q) = %q, %v, want %q, nil", account, alias, got, err, id)
	}
}

// listIDs returns the ids Keys(account) lists, in its order.
func listIDs(t *testing.T, s kms.Store, account string) []string {
	t.Helper()
	ids := []string{}
	view(t, s, func(tx kms.Tx) error {
		keys, err := tx.Keys(account)
		if err != nil {
			return fmt.Errorf("Keys(%q): %w", account, err)
		}
		for _, k := range keys {
			ids = append(ids, k.ID)
		}
		return nil
	})
	return ids
}

// diffKey describes how got differs from want, or returns "". Times are
// compared with time.Equal; nil and empty Tags are the same.
func diffKey(got, want *kms.Key) string {
	if got == nil || want == nil {
		if got == want {
			return ""
		}
		return fmt.Sprintf("got %+v, want %+v", got, want)
	}
	g, w := *got, *want
	for _, f := range []struct {
		name     string
		got, wnt *time.Time
	}{
		{"CreateTime", &g.CreateTime, &w.CreateTime},
		{"NextRotateTime", &g.NextRotateTime, &w.NextRotateTime},
		{"LastRotateTime", &g.LastRotateTime, &w.LastRotateTime},
		{"DeletionDate", &g.DeletionDate, &w.DeletionDate},
		{"ValidTo", &g.ValidTo, &w.ValidTo},
	} {
		if !f.got.Equal(*f.wnt) {
			return fmt.Sprintf("%s = %v, want %v", f.name, *f.got, *f.wnt)
		}
		*f.got, *f.wnt = time.Time{}, time.Time{}
	}
	if len(g.Tags) == 0 && len(w.Tags) == 0 {
		g.Tags, w.Tags = nil, nil
	}
	if !reflect.DeepEqual(g, w) {
		return fmt.Sprintf("got %+v\n\twant %+v", g, w)
	}
	return ""
}

// diffVersion describes how got differs from want, or returns "".
func diffVersion(got, want *kms.KeyVersion) string {
	switch {
	case got.KeyID != want.KeyID || got.Version != want.Version:
		return fmt.Sprintf("got version %s/%d, want %s/%d", got.KeyID, got.Version, want.KeyID, want.Version)
	case string(got.Material) != string(want.Material):
		return fmt.Sprintf("Material = %x, want %x", got.Material, want.Material)
	case !got.CreateTime.Equal(want.CreateTime):
		return fmt.Sprintf("CreateTime = %v, want %v", got.CreateTime, want.CreateTime)
	}
	return ""
}

// diffAccessKey describes how got differs from want, or returns "".
func diffAccessKey(got, want *kms.AccessKey) string {
	g, w := *got, *want
	if !g.CreateTime.Equal(w.CreateTime) {
		return fmt.Sprintf("CreateTime = %v, want %v", g.CreateTime, w.CreateTime)
	}
	if string(g.SealedSecret) != string(w.SealedSecret) {
		return fmt.Sprintf("SealedSecret = %x, want %x", g.SealedSecret, w.SealedSecret)
	}
	g.CreateTime, w.CreateTime = time.Time{}, time.Time{}
	g.SealedSecret, w.SealedSecret = nil, nil
	if !reflect.DeepEqual(g, w) {
		return fmt.Sprintf("got %+v\n\twant %+v", g, w)
	}
	return ""
}
