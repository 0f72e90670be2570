package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/keyhaven/keyhaven/kms"
)

func keyTests() []test {
	return []test{
		{"NotFound", testKeyNotFound},
		{"RoundTrip", testKeyRoundTrip},
		{"Replace", testKeyReplace},
		{"ReturnsCopies", testKeyReturnsCopies},
		{"PutKeepsNoReference", testKeyPutKeepsNoReference},
	}
}

func testKeyNotFound(t *testing.T, s kms.Store) {
	putKeys(t, s, newKey(1, account1, "present", at(0)))
	for _, id := range []string{keyID(2), "", "not-a-uuid", keyID(1) + "0", keyID(1)[:35]} {
		view(t, s, func(tx kms.Tx) error {
			k, err := tx.Key(id)
			if !errors.Is(err, kms.ErrKeyNotFound) {
				t.Errorf("Key(%q) = %+v, %v, want ErrKeyNotFound", id, k, err)
			}
			return nil
		})
	}
}

func testKeyRoundTrip(t *testing.T, s kms.Store) {
	full := &kms.Key{
		ID:              keyID(1),
		Account:         account1,
		Alias:           "kms-cos",
		Description:     "Ünïcode, \"quotes\", \\ back\nslash and\ttabs — 密钥",
		Usage:           kms.UsageEncryptDecrypt,
		Spec:            kms.SpecSymmetricDefault,
		State:           kms.StatePendingImport,
		Origin:          kms.OriginExternal,
		ProtectionLevel: kms.ProtectionHSM,
		Creator:         "cos",
		Service:         "cos",
		CreateTime:      time.Date(2024, 2, 29, 23, 59, 58, 999999000, time.UTC),
		Tags: []kms.Tag{
			{Key: "zeta", Value: "last"}, {Key: "alpha", Value: ""},
			{Key: "Mid", Value: "标签"}, {Key: "", Value: "empty key"},
		},
		CurrentVersion: 1<<32 - 1,
	}
	bare := &kms.Key{ID: keyID(2), Account: account1, CreateTime: at(0)}
	noTags := newKey(3, account2, "no-tags", at(1))
	noTags.Tags = []kms.Tag{}
	zoned := newKey(4, account2, "", time.Date(2023, 12, 31, 23, 0, 0, 1000, time.FixedZone("UTC+8", 8*3600)))
	old := newKey(5, account2, "", time.Date(1969, 7, 20, 20, 17, 40, 500000000, time.UTC))

	for _, tc := range []struct {
		name string
		key  *kms.Key
	}{
		{"EveryField", full},
		{"OnlyIDAccountTime", bare},
		{"EmptyTags", noTags},
		{"NonUTCTime", zoned},
		{"Before1970", old},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := *tc.key
			want.Tags = slices.Clone(tc.key.Tags)
			update(t, s, func(tx kms.Tx) error {
				if err := tx.PutKey(tc.key); err != nil {
					return fmt.Errorf("PutKey(%s): %w", tc.key.ID, err)
				}
				got, err := tx.Key(tc.key.ID)
				if err != nil {
					return fmt.Errorf("Key(%s) in the same Update: %w", tc.key.ID, err)
				}
				if d := diffKey(got, &want); d != "" {
					t.Errorf("Key(%s) in the same Update: %s", tc.key.ID, d)
				}
				return nil
			})
			wantKey(t, s, &want)
		})
	}
}

func testKeyReplace(t *testing.T, s kms.Store) {
	k := newKey(1, account1, "orders", at(0))
	putKeys(t, s, k)
	changed := *k
	changed.Description = "rotated and disabled"
	changed.State = kms.StateDisabled
	changed.Tags = []kms.Tag{{Key: "b", Value: "2"}, {Key: "a", Value: "1"}}
	changed.CurrentVersion = 2
	putKeys(t, s, &changed)

	wantKey(t, s, &changed)
	if got, want := listIDs(t, s, account1), []string{k.ID}; !slices.Equal(got, want) {
		t.Errorf("Keys(%q) after replace = %v, want %v", account1, got, want)
	}
	wantAlias(t, s, account1, "orders", k.ID)
}

func testKeyReturnsCopies(t *testing.T, s kms.Store) {
	k := newKey(1, account1, "copies", at(0))
	k.Tags = []kms.Tag{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}}
	want := *k
	want.Tags = slices.Clone(k.Tags)
	putKeys(t, s, k)

	mutate := func(k *kms.Key) {
		k.Alias = "changed"
		k.State = kms.StateDisabled
		k.Tags[0].Value = "changed"
		k.Tags = append(k.Tags[:1], kms.Tag{Key: "c", Value: "3"})
		k.CreateTime = k.CreateTime.Add(time.Hour)
	}
	view(t, s, func(tx kms.Tx) error {
		got, err := tx.Key(k.ID)
		if err != nil {
			return fmt.Errorf("Key(%s): %w", k.ID, err)
		}
		mutate(got)
		if got, err = tx.Key(k.ID); err != nil {
			return fmt.Errorf("Key(%s): %w", k.ID, err)
		}
		if d := diffKey(got, &want); d != "" {
			t.Errorf("Key(%s) after changing an earlier result in the same View: %s", k.ID, d)
		}
		keys, err := tx.Keys(account1)
		if err != nil || len(keys) != 1 {
			return fmt.Errorf("Keys(%q) = %v, %w, want one key", account1, keys, err)
		}
		mutate(keys[0])
		return nil
	})
	wantKey(t, s, &want)
	wantAlias(t, s, account1, "copies", k.ID)
	wantAlias(t, s, account1, "changed", "")
}

func testKeyPutKeepsNoReference(t *testing.T, s kms.Store) {
	k := newKey(1, account1, "mine", at(0))
	want := *k
	want.Tags = slices.Clone(k.Tags)
	update(t, s, func(tx kms.Tx) error {
		if err := tx.PutKey(k); err != nil {
			return fmt.Errorf("PutKey(%s): %w", k.ID, err)
		}
		k.Description = "changed by the caller after PutKey"
		k.Tags[0].Value = "changed"
		got, err := tx.Key(k.ID)
		if err != nil {
			return fmt.Errorf("Key(%s): %w", k.ID, err)
		}
		if d := diffKey(got, &want); d != "" {
			t.Errorf("Key(%s) after the caller changed its argument to PutKey: %s", k.ID, d)
		}
		return nil
	})
	k.Tags[0].Key = "changed after commit"
	wantKey(t, s, &want)
}

func aliasTests() []test {
	return []test{
		{"Lookup", testAliasLookup},
		{"Change", testAliasChange},
		{"Clear", testAliasClear},
		{"Conflict", testAliasConflict},
		{"SameKeyAgain", testAliasSameKeyAgain},
		{"OtherAccounts", testAliasOtherAccounts},
		{"MoveInOneUpdate", testAliasMoveInOneUpdate},
	}
}

func testAliasLookup(t *testing.T, s kms.Store) {
	putKeys(t, s, newKey(1, account1, "payments", at(0)), newKey(2, account1, "", at(1)))
	for _, tc := range []struct {
		account, alias, want string
	}{
		{account1, "payments", keyID(1)},
		{account1, "Payments", ""},
		{account1, "pay", ""},
		{account1, "payments2", ""},
		{account1, "", ""},
		{account2, "payments", ""},
		{account3, "payments", ""},
		{"", "payments", ""},
	} {
		wantAlias(t, s, tc.account, tc.alias, tc.want)
	}
}

func testAliasChange(t *testing.T, s kms.Store) {
	k := newKey(1, account1, "old-name", at(0))
	putKeys(t, s, k)
	renamed := *k
	renamed.Alias = "new-name"
	putKeys(t, s, &renamed)

	wantAlias(t, s, account1, "old-name", "")
	wantAlias(t, s, account1, "new-name", k.ID)
	wantKey(t, s, &renamed)

	// The old alias is free for another key.
	putKeys(t, s, newKey(2, account1, "old-name", at(1)))
	wantAlias(t, s, account1, "old-name", keyID(2))
	wantAlias(t, s, account1, "new-name", k.ID)
}

func testAliasClear(t *testing.T, s kms.Store) {
	k := newKey(1, account1, "temporary", at(0))
	putKeys(t, s, k)
	cleared := *k
	cleared.Alias = ""
	putKeys(t, s, &cleared)

	wantAlias(t, s, account1, "temporary", "")
	wantAlias(t, s, account1, "", "")
	wantKey(t, s, &cleared)

	putKeys(t, s, newKey(2, account1, "temporary", at(1)))
	wantAlias(t, s, account1, "temporary", keyID(2))
}

func testAliasConflict(t *testing.T, s kms.Store) {
	holder := newKey(1, account1, "taken", at(0))
	other := newKey(2, account1, "mine", at(1))
	plain := newKey(3, account1, "", at(2))
	putKeys(t, s, holder, other, plain)

	renamedOther := *other
	renamedOther.Alias = "taken"
	renamedPlain := *plain
	renamedPlain.Alias = "taken"
	for _, tc := range []struct {
		name string
		put  *kms.Key
	}{
		{"NewKey", newKey(4, account1, "taken", at(3))},
		{"ReplaceKeyWithAlias", &renamedOther},
		{"ReplaceKeyWithoutAlias", &renamedPlain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Update(context.Background(), func(tx kms.Tx) error {
				// Writes before the failing PutKey must be rolled back too.
				if err := tx.PutKey(newKey(9, account1, "bystander", at(9))); err != nil {
					return fmt.Errorf("PutKey(%s): %w", keyID(9), err)
				}
				if err := tx.PutSetting("bystander", []byte("x")); err != nil {
					return fmt.Errorf("PutSetting: %w", err)
				}
				return tx.PutKey(tc.put)
			})
			if !errors.Is(err, kms.ErrAliasExists) {
				t.Fatalf("Update(PutKey(%s alias %q)) = %v, want ErrAliasExists", tc.put.ID, tc.put.Alias, err)
			}
			wantAlias(t, s, account1, "taken", holder.ID)
			wantAlias(t, s, account1, "mine", other.ID)
			wantAlias(t, s, account1, "bystander", "")
			wantKey(t, s, holder)
			wantKey(t, s, other)
			wantKey(t, s, plain)
			wantNoKey(t, s, keyID(4))
			wantNoKey(t, s, keyID(9))
			if got, want := listIDs(t, s, account1), []string{holder.ID, other.ID, plain.ID}; !slices.Equal(got, want) {
				t.Errorf("Keys(%q) = %v, want %v", account1, got, want)
			}
		})
	}
}

func testAliasSameKeyAgain(t *testing.T, s kms.Store) {
	k := newKey(1, account1, "stable", at(0))
	putKeys(t, s, k)
	again := *k
	again.Description = "same alias, new description"
	putKeys(t, s, &again)
	wantAlias(t, s, account1, "stable", k.ID)
	wantKey(t, s, &again)
}

func testAliasOtherAccounts(t *testing.T, s kms.Store) {
	putKeys(t, s,
		newKey(1, account1, "shared", at(0)),
		newKey(2, account2, "shared", at(1)),
		newKey(3, account3, "shared", at(2)),
	)
	wantAlias(t, s, account1, "shared", keyID(1))
	wantAlias(t, s, account2, "shared", keyID(2))
	wantAlias(t, s, account3, "shared", keyID(3))
}

func testAliasMoveInOneUpdate(t *testing.T, s kms.Store) {
	a := newKey(1, account1, "x", at(0))
	b := newKey(2, account1, "y", at(1))
	putKeys(t, s, a, b)
	// Swap the aliases in one transaction, through a free third name.
	a2, b2 := *a, *b
	a2.Alias, b2.Alias = "tmp", "x"
	a3 := a2
	a3.Alias = "y"
	putKeys(t, s, &a2, &b2, &a3)

	wantAlias(t, s, account1, "x", b.ID)
	wantAlias(t, s, account1, "y", a.ID)
	wantAlias(t, s, account1, "tmp", "")
}

func listTests() []test {
	return []test{
		{"Order", testKeysOrder},
		{"OrderAfterReplace", testKeysOrderAfterReplace},
		{"NoKeys", testKeysNone},
		{"EachKey", testEachKey},
	}
}

// testEachKey checks that EachKey visits every key of every account once, in
// id order, and stops at fn's error.
func testEachKey(t *testing.T, s kms.Store) {
	putKeys(t, s, newKey(3, account2, "", at(0)), newKey(1, account1, "a", at(5)), newKey(2, account1, "", at(1)))
	var seen []string
	view(t, s, func(tx kms.Tx) error {
		return tx.EachKey(func(k *kms.Key) error {
			seen = append(seen, k.ID)
			return nil
		})
	})
	if want := []string{keyID(1), keyID(2), keyID(3)}; fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("EachKey visited %v, want %v", seen, want)
	}
	stop := errors.New("stop")
	n := 0
	err := s.View(context.Background(), func(tx kms.Tx) error {
		return tx.EachKey(func(*kms.Key) error { n++; return stop })
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("EachKey with a failing fn = %v after %d calls, want %v after 1", err, n, stop)
	}
}

func testKeysOrder(t *testing.T, s kms.Store) {
	// Stored out of order, across accounts, with two ties on CreateTime.
	putKeys(t, s,
		newKey(7, account1, "", at(3)),
		newKey(5, account1, "", at(1)),
		newKey(6, account2, "", at(0)),
		newKey(3, account1, "", at(1)),
		newKey(9, account1, "", at(-5)),
		newKey(2, account3, "", at(0)),
		newKey(8, account1, "", at(2)),
		newKey(4, account1, "", at(1)),
	)
	for _, tc := range []struct {
		account string
		want    []int
	}{
		{account1, []int{9, 3, 4, 5, 8, 7}},
		{account2, []int{6}},
		{account3, []int{2}},
	} {
		want := make([]string, len(tc.want))
		for i, n := range tc.want {
			want[i] = keyID(n)
		}
		if got := listIDs(t, s, tc.account); !slices.Equal(got, want) {
			t.Errorf("Keys(%q) = %v, want %v", tc.account, got, want)
		}
	}

	// Keys returns whole keys, not just ids.
	view(t, s, func(tx kms.Tx) error {
		keys, err := tx.Keys(account2)
		if err != nil || len(keys) != 1 {
			return fmt.Errorf("Keys(%q) = %v, %w, want one key", account2, keys, err)
		}
		if d := diffKey(keys[0], newKey(6, account2, "", at(0))); d != "" {
			t.Errorf("Keys(%q)[0]: %s", account2, d)
		}
		return nil
	})
}

func testKeysOrderAfterReplace(t *testing.T, s kms.Store) {
	a, b, c := newKey(1, account1, "a", at(0)), newKey(2, account1, "b", at(1)), newKey(3, account1, "c", at(2))
	putKeys(t, s, a, b, c)
	// Replacing keeps one entry per key; a changed CreateTime moves it.
	moved := *a
	moved.CreateTime = at(5)
	moved.State = kms.StateDisabled
	putKeys(t, s, &moved, b)
	if got, want := listIDs(t, s, account1), []string{b.ID, c.ID, a.ID}; !slices.Equal(got, want) {
		t.Errorf("Keys(%q) = %v, want %v", account1, got, want)
	}
}

func testKeysNone(t *testing.T, s kms.Store) {
	putKeys(t, s, newKey(1, account1, "", at(0)))
	for _, account := range []string{account2, "", "10000000000", account1[:5]} {
		view(t, s, func(tx kms.Tx) error {
			keys, err := tx.Keys(account)
			if err != nil || len(keys) != 0 {
				t.Errorf("Keys(%q) = %v, %v, want none, nil", account, keys, err)
			}
			return nil
		})
	}
}
