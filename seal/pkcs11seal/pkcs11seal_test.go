//go:build cgo

package pkcs11seal

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyhaven/keyhaven/backend/pkcs11"
	"github.com/keyhaven/keyhaven/backend/pkcs11/pkcs11test"
)

func TestMain(m *testing.M) { pkcs11test.Main(m) }

func openToken(t *testing.T, tok pkcs11test.Token) *pkcs11.Backend {
	t.Helper()
	b, err := pkcs11.Open(pkcs11.Config{Module: tok.Module, TokenLabel: tok.Label, PIN: tok.PIN, Sessions: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestLoadOrCreate(t *testing.T) {
	ctx := context.Background()
	// SoftHSM2 reads its token directory when the module is initialized:
	// make both tokens first.
	tokA, tokB := pkcs11test.NewToken(t, "seal-a"), pkcs11test.NewToken(t, "seal-b")
	b := openToken(t, tokA)
	path := filepath.Join(t.TempDir(), FileName)

	key, created, err := LoadOrCreate(ctx, b, path, rand.Reader)
	if err != nil || !created || len(key) != KeySize {
		t.Fatalf("LoadOrCreate(first) = %d bytes, created %v, %v; want a new 32-byte key", len(key), created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("wrapped key file: %v, %v; want mode 0600", fi, err)
	}
	data, _ := os.ReadFile(path)
	if bytes.Contains(data, key) {
		t.Fatalf("the file holds the root key in plaintext")
	}

	again, created, err := LoadOrCreate(ctx, b, path, rand.Reader)
	if err != nil || created || !bytes.Equal(again, key) {
		t.Fatalf("LoadOrCreate(second) = %x, created %v, %v; want the same key, not created", again, created, err)
	}

	// Another token has no wrap key, or another one: the file is useless.
	other := openToken(t, tokB)
	if k, _, err := LoadOrCreate(ctx, other, path, rand.Reader); err == nil || !strings.Contains(err.Error(), "seal-b") {
		t.Errorf("LoadOrCreate(other token) = %x, %v; want an error naming the token", k, err)
	}
	if _, _, err := LoadOrCreate(ctx, other, filepath.Join(t.TempDir(), FileName), rand.Reader); err != nil {
		t.Fatal(err) // the other token now has a wrap key of its own
	}
	if k, _, err := LoadOrCreate(ctx, other, path, rand.Reader); err == nil {
		t.Errorf("LoadOrCreate(other token's wrap key) = %x, want an error", k)
	}

	// Altered files and loose permissions are refused.
	for _, i := range []int{0, len(data) - 1, len(data) - 20} {
		altered := filepath.Join(t.TempDir(), FileName)
		d := bytes.Clone(data)
		d[i] ^= 1
		os.WriteFile(altered, d, 0o600)
		if k, _, err := LoadOrCreate(ctx, b, altered, rand.Reader); err == nil {
			t.Errorf("LoadOrCreate(byte %d flipped) = %x, want an error", i, k)
		}
	}
	loose := filepath.Join(t.TempDir(), FileName)
	os.WriteFile(loose, data, 0o644)
	os.Chmod(loose, 0o644)
	if k, _, err := LoadOrCreate(ctx, b, loose, rand.Reader); err == nil || !strings.Contains(err.Error(), "0644") {
		t.Errorf("LoadOrCreate(mode 0644) = %x, %v; want a permission error", k, err)
	}
}
