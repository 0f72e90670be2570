package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/keyhaven/keyhaven/kms"
)

func versionTests() []test {
	return []test{
		{"Order", testVersionOrder},
		{"Replace", testVersionReplace},
		{"MaterialRoundTrip", testVersionMaterial},
		{"None", testVersionNone},
		{"ReturnsCopies", testVersionReturnsCopies},
		{"Delete", testVersionDelete},
	}
}

// testVersionDelete checks that DeleteVersions removes exactly one key's
// versions, and that a rolled-back delete removes nothing.
func testVersionDelete(t *testing.T, s kms.Store) {
	putKeys(t, s, newKey(1, account1, "", at(0)), newKey(2, account1, "", at(0)))
	putVersions(t, s, newVersion(1, 1, "a"), newVersion(1, 2, "b"), newVersion(2, 1, "c"))
	boom := errors.New("roll back")
	err := s.Update(context.Background(), func(tx kms.Tx) error {
		if err := tx.DeleteVersions(keyID(1)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want %v", err, boom)
	}
	wantVersions(t, s, keyID(1), newVersion(1, 1, "a"), newVersion(1, 2, "b"))
	update(t, s, func(tx kms.Tx) error { return tx.DeleteVersions(keyID(1)) })
	wantVersions(t, s, keyID(1))
	wantVersions(t, s, keyID(2), newVersion(2, 1, "c"))
	update(t, s, func(tx kms.Tx) error { return tx.DeleteVersions(keyID(3)) }) // none: fine
	err = s.View(context.Background(), func(tx kms.Tx) error { return tx.DeleteVersions(keyID(2)) })
	if err == nil {
		t.Error("DeleteVersions inside View succeeded")
	}
	wantVersions(t, s, keyID(2), newVersion(2, 1, "c"))
}

// versions returns Versions(keyID) from its own View.
func versions(t *testing.T, s kms.Store, keyID string) []*kms.KeyVersion {
	t.Helper()
	var vs []*kms.KeyVersion
	view(t, s, func(tx kms.Tx) error {
		var err error
		vs, err = tx.Versions(keyID)
		if err != nil {
			return fmt.Errorf("Versions(%s): %w", keyID, err)
		}
		return nil
	})
	return vs
}

// putVersions stores versions in one Update.
func putVersions(t *testing.T, s kms.Store, vs ...*kms.KeyVersion) {
	t.Helper()
	update(t, s, func(tx kms.Tx) error {
		for _, v := range vs {
			if err := tx.PutVersion(v); err != nil {
				return fmt.Errorf("PutVersion(%s/%d): %w", v.KeyID, v.Version, err)
			}
		}
		return nil
	})
}

// wantVersions fails the test unless Versions(keyID) returns want.
func wantVersions(t *testing.T, s kms.Store, keyID string, want ...*kms.KeyVersion) {
	t.Helper()
	got := versions(t, s, keyID)
	if len(got) != len(want) {
		t.Fatalf("Versions(%s) returned %d versions, want %d", keyID, len(got), len(want))
	}
	for i := range got {
		if d := diffVersion(got[i], want[i]); d != "" {
			t.Errorf("Versions(%s)[%d]: %s", keyID, i, d)
		}
	}
}

func testVersionOrder(t *testing.T, s kms.Store) {
	putKeys(t, s, newKey(1, account1, "", at(0)), newKey(2, account1, "", at(0)))
	// Numbers whose bytes sort differently from their values in other encodings.
	v := func(n uint32) *kms.KeyVersion { return newVersion(1, n, fmt.Sprint("material ", n)) }
	putVersions(t, s, v(3), v(256), newVersion(2, 2, "other key"), v(1), v(65536), v(2), v(1<<32-1), v(10))
	wantVersions(t, s, keyID(1), v(1), v(2), v(3), v(10), v(256), v(65536), v(1<<32-1))
	wantVersions(t, s, keyID(2), newVersion(2, 2, "other key"))
}

func testVersionReplace(t *testing.T, s kms.Store) {
	putKeys(t, s, newKey(1, account1, "", at(0)))
	putVersions(t, s, newVersion(1, 1, "first"), newVersion(1, 2, "second"))
	replaced := newVersion(1, 1, "replaced")
	replaced.CreateTime = at(30)
	putVersions(t, s, replaced)
	wantVersions(t, s, keyID(1), replaced, newVersion(1, 2, "second"))
}

func testVersionMaterial(t *testing.T, s kms.Store) {
	every := make([]byte, 256)
	for i := range every {
		every[i] = byte(i)
	}
	large := make([]byte, 64<<10)
	for i := range large {
		large[i] = byte(i*7 + i>>8)
	}
	putKeys(t, s, newKey(1, account1, "", at(0)))
	for i, m := range [][]byte{nil, {}, {0}, {0xff, 0xfe}, every, large, []byte("\"}\\u0000")} {
		v := &kms.KeyVersion{KeyID: keyID(1), Version: uint32(i + 1), Material: m, CreateTime: at(i)}
		putVersions(t, s, v)
		got := versions(t, s, keyID(1))
		if len(got) != i+1 {
			t.Fatalf("Versions(%s) returned %d versions, want %d", keyID(1), len(got), i+1)
		}
		if d := diffVersion(got[i], v); d != "" {
			t.Errorf("Versions(%s)[%d] after PutVersion(%d bytes): %s", keyID(1), i, len(m), d)
		}
	}
}

func testVersionNone(t *testing.T, s kms.Store) {
	putKeys(t, s, newKey(1, account1, "", at(0)), newKey(2, account1, "", at(0)))
	putVersions(t, s, newVersion(2, 1, "x"))
	for _, id := range []string{keyID(1), keyID(3), "", keyID(2)[:35], "not-a-uuid"} {
		view(t, s, func(tx kms.Tx) error {
			vs, err := tx.Versions(id)
			if err != nil || len(vs) != 0 {
				t.Errorf("Versions(%q) = %v, %v, want none, nil", id, vs, err)
			}
			return nil
		})
	}
}

func testVersionReturnsCopies(t *testing.T, s kms.Store) {
	putKeys(t, s, newKey(1, account1, "", at(0)))
	in := newVersion(1, 1, "sealed material")
	want := newVersion(1, 1, "sealed material")
	putVersions(t, s, in)
	in.Material[0] = 'X'
	view(t, s, func(tx kms.Tx) error {
		vs, err := tx.Versions(keyID(1))
		if err != nil || len(vs) != 1 {
			return fmt.Errorf("Versions(%s) = %v, %w, want one version", keyID(1), vs, err)
		}
		vs[0].Material[0] = 'Y'
		vs[0].Version = 9
		return nil
	})
	wantVersions(t, s, keyID(1), want)
}

func accessKeyTests() []test {
	return []test{
		{"NotFound", testAccessKeyNotFound},
		{"CreateAndReplace", testAccessKeyCreateAndReplace},
		{"ReturnsCopies", testAccessKeyReturnsCopies},
	}
}

// wantAccessKey fails the test unless AccessKey(want.SecretID) returns want.
func wantAccessKey(t *testing.T, s kms.Store, want *kms.AccessKey) {
	t.Helper()
	view(t, s, func(tx kms.Tx) error {
		got, err := tx.AccessKey(want.SecretID)
		if err != nil {
			return fmt.Errorf("AccessKey(%s): %w", want.SecretID, err)
		}
		if d := diffAccessKey(got, want); d != "" {
			t.Errorf("AccessKey(%s): %s", want.SecretID, d)
		}
		return nil
	})
}

func putAccessKey(t *testing.T, s kms.Store, ak *kms.AccessKey) {
	t.Helper()
	update(t, s, func(tx kms.Tx) error {
		if err := tx.PutAccessKey(ak); err != nil {
			return fmt.Errorf("PutAccessKey(%s): %w", ak.SecretID, err)
		}
		return nil
	})
}

func testAccessKeyNotFound(t *testing.T, s kms.Store) {
	putAccessKey(t, s, newAccessKey("AKIDpresent", account1))
	for _, id := range []string{"AKIDabsent", "", "AKIDpresen", "AKIDpresentX", "akidpresent"} {
		view(t, s, func(tx kms.Tx) error {
			ak, err := tx.AccessKey(id)
			if !errors.Is(err, kms.ErrAccessKeyNotFound) {
				t.Errorf("AccessKey(%q) = %+v, %v, want ErrAccessKeyNotFound", id, ak, err)
			}
			return nil
		})
	}
}

func testAccessKeyCreateAndReplace(t *testing.T, s kms.Store) {
	root := newAccessKey("AKIDroot", account1)
	sub := &kms.AccessKey{
		SecretID:     "AKIDsub",
		Account:      account1,
		User:         "100000000099",
		SealedSecret: []byte{0, 1, 2, 0xff},
		Status:       kms.AccessKeyInactive,
		CreateTime:   at(7),
	}
	putAccessKey(t, s, root)
	putAccessKey(t, s, sub)
	wantAccessKey(t, s, root)
	wantAccessKey(t, s, sub)

	disabled := *root
	disabled.Status = kms.AccessKeyInactive
	disabled.SealedSecret = []byte("resealed")
	putAccessKey(t, s, &disabled)
	wantAccessKey(t, s, &disabled)
	wantAccessKey(t, s, sub)
}

func testAccessKeyReturnsCopies(t *testing.T, s kms.Store) {
	in := newAccessKey("AKIDcopy", account1)
	want := newAccessKey("AKIDcopy", account1)
	putAccessKey(t, s, in)
	in.SealedSecret[0] = 'X'
	view(t, s, func(tx kms.Tx) error {
		ak, err := tx.AccessKey(in.SecretID)
		if err != nil {
			return fmt.Errorf("AccessKey(%s): %w", in.SecretID, err)
		}
		ak.SealedSecret[0] = 'Y'
		ak.Status = kms.AccessKeyInactive
		return nil
	})
	wantAccessKey(t, s, want)
}

func settingTests() []test {
	return []test{
		{"NotFound", testSettingNotFound},
		{"PutAndReplace", testSettingPutAndReplace},
		{"ReturnsCopies", testSettingReturnsCopies},
		{"DeleteAndList", testSettingDeleteAndList},
	}
}

// testSettingDeleteAndList checks DeleteSetting and SettingNames by prefix.
func testSettingDeleteAndList(t *testing.T, s kms.Store) {
	update(t, s, func(tx kms.Tx) error {
		for _, name := range []string{"import/b", "import/a", "importer", "other"} {
			if err := tx.PutSetting(name, []byte(name)); err != nil {
				return err
			}
		}
		return nil
	})
	names := func() []string {
		var n []string
		view(t, s, func(tx kms.Tx) error {
			var err error
			n, err = tx.SettingNames("import/")
			return err
		})
		return n
	}
	if got := fmt.Sprint(names()); got != "[import/a import/b]" {
		t.Errorf("SettingNames(import/) = %s, want [import/a import/b]", got)
	}
	update(t, s, func(tx kms.Tx) error { return tx.DeleteSetting("import/a") })
	update(t, s, func(tx kms.Tx) error { return tx.DeleteSetting("import/a") }) // absent: fine
	if got := fmt.Sprint(names()); got != "[import/b]" {
		t.Errorf("SettingNames after delete = %s, want [import/b]", got)
	}
	if _, err := setting(t, s, "import/a"); !errors.Is(err, kms.ErrSettingNotFound) {
		t.Errorf("Setting(deleted) = %v, want ErrSettingNotFound", err)
	}
	if err := s.View(context.Background(), func(tx kms.Tx) error { return tx.DeleteSetting("other") }); err == nil {
		t.Error("DeleteSetting inside View succeeded")
	}
}

// setting returns Setting(name) from its own View.
func setting(t *testing.T, s kms.Store, name string) ([]byte, error) {
	t.Helper()
	var v []byte
	err := s.View(context.Background(), func(tx kms.Tx) error {
		var err error
		v, err = tx.Setting(name)
		return err
	})
	return v, err
}

func putSetting(t *testing.T, s kms.Store, name string, value []byte) {
	t.Helper()
	update(t, s, func(tx kms.Tx) error {
		if err := tx.PutSetting(name, value); err != nil {
			return fmt.Errorf("PutSetting(%q): %w", name, err)
		}
		return nil
	})
}

// wantSetting fails the test unless Setting(name) returns want.
func wantSetting(t *testing.T, s kms.Store, name string, want []byte) {
	t.Helper()
	got, err := setting(t, s, name)
	if err != nil || string(got) != string(want) {
		t.Errorf("Setting(%q) = %q, %v, want %q, nil", name, got, err, want)
	}
}

func testSettingNotFound(t *testing.T, s kms.Store) {
	putSetting(t, s, "root.sealed", []byte("x"))
	for _, name := range []string{"absent", "", "root", "root.sealed.2", "ROOT.SEALED"} {
		if v, err := setting(t, s, name); !errors.Is(err, kms.ErrSettingNotFound) {
			t.Errorf("Setting(%q) = %q, %v, want ErrSettingNotFound", name, v, err)
		}
	}
}

func testSettingPutAndReplace(t *testing.T, s kms.Store) {
	for _, tc := range []struct {
		name  string
		value []byte
	}{
		{"bootstrap", []byte(`{"done":true}`)},
		{"binary", []byte{0, 0xff, '\n', 0}},
		{"empty", []byte{}},
		{"nil", nil},
		{"name with spaces/and.dots", []byte("v")},
	} {
		putSetting(t, s, tc.name, tc.value)
		wantSetting(t, s, tc.name, tc.value)
	}
	putSetting(t, s, "bootstrap", []byte("replaced"))
	wantSetting(t, s, "bootstrap", []byte("replaced"))
	putSetting(t, s, "binary", nil)
	wantSetting(t, s, "binary", nil)
}

func testSettingReturnsCopies(t *testing.T, s kms.Store) {
	in := []byte("value")
	putSetting(t, s, "copy", in)
	in[0] = 'X'
	view(t, s, func(tx kms.Tx) error {
		v, err := tx.Setting("copy")
		if err != nil {
			return fmt.Errorf("Setting(%q): %w", "copy", err)
		}
		v[0] = 'Y'
		return nil
	})
	wantSetting(t, s, "copy", []byte("value"))

	// Within one Update too, and for a value put earlier in it.
	update(t, s, func(tx kms.Tx) error {
		v := []byte("inner")
		if err := tx.PutSetting("inner", v); err != nil {
			return fmt.Errorf("PutSetting(%q): %w", "inner", err)
		}
		v[0] = 'X'
		got, err := tx.Setting("inner")
		if err != nil {
			return fmt.Errorf("Setting(%q): %w", "inner", err)
		}
		if string(got) != "inner" {
			t.Errorf("Setting(%q) after the caller changed its argument = %q, want %q", "inner", got, "inner")
		}
		got[0] = 'Y'
		return nil
	})
	wantSetting(t, s, "inner", []byte("inner"))
}
