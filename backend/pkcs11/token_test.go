//go:build cgo

package pkcs11

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	p11 "github.com/miekg/pkcs11"

	"github.com/keyhaven/keyhaven/backend/pkcs11/pkcs11test"
	"github.com/keyhaven/keyhaven/kms"
)

const testKeyID = "5f0c2a9e-3b1d-4c6e-8a7f-9e0d1c2b3a4f"

func TestOpenErrors(t *testing.T) {
	tok := pkcs11test.NewToken(t, "open-errors")
	tests := []struct {
		name    string
		cfg     Config
		mention string // the error must name this
	}{
		{"wrong module", Config{Module: "/nonexistent/libnohsm.so", TokenLabel: tok.Label, PIN: tok.PIN}, "/nonexistent/libnohsm.so"},
		{"not a module", Config{Module: "/etc/hostname", TokenLabel: tok.Label, PIN: tok.PIN}, "/etc/hostname"},
		{"wrong token", Config{Module: tok.Module, TokenLabel: "no-such-token", PIN: tok.PIN}, `"no-such-token"`},
		{"wrong PIN", Config{Module: tok.Module, TokenLabel: tok.Label, PIN: "wrong-pin-4321"}, "wrong PIN"},
		{"no PIN", Config{Module: tok.Module, TokenLabel: tok.Label}, tok.Label},
		{"no module", Config{TokenLabel: tok.Label, PIN: tok.PIN}, "module"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Open(tt.cfg)
			if err == nil {
				b.Close()
				t.Fatalf("Open(%s) err = nil, want an error", tt.name)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("Open(%s) err = %q, want it to mention %s", tt.name, err, tt.mention)
			}
			if tt.cfg.PIN != "" && strings.Contains(err.Error(), tt.cfg.PIN) {
				t.Errorf("Open(%s) err = %q shows the PIN", tt.name, err)
			}
		})
	}

	// A wrong PIN still fails while the token is logged in by another
	// Backend of this process (PKCS #11 logins are per process).
	good, err := Open(Config{Module: tok.Module, TokenLabel: tok.Label, PIN: tok.PIN, Sessions: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	if b, err := Open(Config{Module: tok.Module, TokenLabel: tok.Label, PIN: "wrong-pin-4321"}); err == nil || !strings.Contains(err.Error(), "wrong PIN") {
		if b != nil {
			b.Close()
		}
		t.Errorf("Open(wrong PIN, token logged in) err = %v, want a wrong PIN error", err)
	}
	second, err := Open(Config{Module: tok.Module, TokenLabel: tok.Label, PIN: tok.PIN, Sessions: 1})
	if err != nil {
		t.Fatalf("Open(right PIN, token logged in) err = %v", err)
	}
	second.Close()
}

// TestObjectsNonExtractable generates each spec and reads the objects'
// attributes through PKCS #11: the secret or private value cannot be read.
func TestObjectsNonExtractable(t *testing.T) {
	b := open(t, "extractable", 2)
	ctx := context.Background()
	for _, spec := range []kms.KeySpec{kms.SpecSymmetricDefault, kms.SpecRSA2048, kms.SpecECP256, kms.SpecECP384} {
		t.Run(string(spec), func(t *testing.T) {
			stored, err := b.Generate(ctx, testKeyID, 7, spec)
			if err != nil {
				t.Fatal(err)
			}
			_, id, err := parseRef(stored)
			if err != nil {
				t.Fatal(err)
			}
			class, value := uint(p11.CKO_PRIVATE_KEY), uint(p11.CKA_PRIVATE_EXPONENT)
			switch spec {
			case kms.SpecSymmetricDefault:
				class, value = p11.CKO_SECRET_KEY, p11.CKA_VALUE
			case kms.SpecECP256, kms.SpecECP384:
				value = p11.CKA_VALUE
			}
			err = b.do(ctx, func(sh p11.SessionHandle) error {
				hs, err := findObjects(b.ctx(), sh, []*p11.Attribute{p11.NewAttribute(p11.CKA_CLASS, class), p11.NewAttribute(p11.CKA_ID, id)})
				if err != nil || len(hs) != 1 {
					t.Fatalf("find %s object %s = %v, %v; want one", className(class), id, hs, err)
				}
				attrs, err := b.ctx().GetAttributeValue(sh, hs[0], []*p11.Attribute{
					p11.NewAttribute(p11.CKA_SENSITIVE, nil), p11.NewAttribute(p11.CKA_EXTRACTABLE, nil),
					p11.NewAttribute(p11.CKA_TOKEN, nil), p11.NewAttribute(p11.CKA_LABEL, nil),
					p11.NewAttribute(p11.CKA_ALWAYS_SENSITIVE, nil), p11.NewAttribute(p11.CKA_NEVER_EXTRACTABLE, nil),
				})
				if err != nil {
					t.Fatalf("GetAttributeValue(attributes) err = %v", err)
				}
				for i, want := range [][]byte{{1}, {0}, {1}, []byte(testKeyID + "/7"), {1}, {1}} {
					if !bytes.Equal(attrs[i].Value, want) {
						t.Errorf("attribute %#x = %q, want %q", attrs[i].Type, attrs[i].Value, want)
					}
				}
				got, err := b.ctx().GetAttributeValue(sh, hs[0], []*p11.Attribute{p11.NewAttribute(value, nil)})
				if !isCode(err, p11.CKR_ATTRIBUTE_SENSITIVE) {
					t.Errorf("GetAttributeValue(secret value %#x) = %v, %v; want CKR_ATTRIBUTE_SENSITIVE", value, got, err)
				}
				// Nor can the key be wrapped out.
				wrapKey, err := b.ctx().GenerateKey(sh, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_GEN, nil)}, []*p11.Attribute{
					p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY), p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_AES),
					p11.NewAttribute(p11.CKA_VALUE_LEN, 32), p11.NewAttribute(p11.CKA_WRAP, true), p11.NewAttribute(p11.CKA_TOKEN, false),
				})
				if err != nil {
					t.Fatal(err)
				}
				if w, err := b.ctx().WrapKey(sh, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_WRAP_PAD, nil)}, wrapKey, hs[0]); err == nil {
					t.Errorf("WrapKey(%s object) = %d bytes, want an error", className(class), len(w))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDestroyKey(t *testing.T) {
	b := open(t, "destroy", 2)
	ctx := context.Background()
	for _, spec := range []kms.KeySpec{kms.SpecSymmetricDefault, kms.SpecECP256} {
		stored, err := b.Generate(ctx, testKeyID, 3, spec)
		if err != nil {
			t.Fatal(err)
		}
		m, err := b.Open(ctx, testKeyID, 3, spec, stored)
		if err != nil {
			t.Fatal(err)
		}
		if spec == kms.SpecECP256 {
			m.Destroy()
			if sig, err := m.(kms.PrivateMaterial).Sign(nil, make([]byte, 32), cryptoSHA256); !errors.Is(err, errDestroyed) {
				t.Errorf("Sign after Destroy = %x, %v; want errDestroyed", sig, err)
			}
			if _, err := b.Open(ctx, testKeyID, 3, spec, stored); err != nil {
				t.Errorf("Open after material Destroy err = %v; the token object must stay", err)
			}
		}
		if err := b.DestroyKey(ctx, stored); err != nil {
			t.Fatalf("DestroyKey(%s) err = %v", spec, err)
		}
		if m, err := b.Open(ctx, testKeyID, 3, spec, stored); err == nil {
			m.Destroy()
			t.Errorf("Open(%s) after DestroyKey err = nil, want an error", spec)
		}
		if err := b.DestroyKey(ctx, stored); err != nil {
			t.Errorf("DestroyKey(%s) twice err = %v, want nil", spec, err)
		}
		if n := countObjects(t, b, stored); n != 0 {
			t.Errorf("after DestroyKey(%s) %d objects remain", spec, n)
		}
	}
	if err := b.DestroyKey(ctx, []byte("garbage")); err == nil {
		t.Errorf("DestroyKey(garbage) err = nil, want an error")
	}
}

// countObjects counts the token objects a reference names.
func countObjects(t *testing.T, b *Backend, stored []byte) int {
	t.Helper()
	_, id, err := parseRef(stored)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	err = b.do(context.Background(), func(sh p11.SessionHandle) error {
		hs, err := findObjects(b.ctx(), sh, []*p11.Attribute{p11.NewAttribute(p11.CKA_ID, id)})
		n = len(hs)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNamedAESKey(t *testing.T) {
	b := open(t, "named", 2)
	ctx := context.Background()
	if _, _, err := b.NamedAESKey(ctx, "wrap", false); err == nil {
		t.Fatalf("NamedAESKey(absent, create false) err = nil, want an error")
	}
	k, created, err := b.NamedAESKey(ctx, "wrap", true)
	if err != nil || !created {
		t.Fatalf("NamedAESKey(create) = %v, %v; want created", created, err)
	}
	nonce := make([]byte, 12)
	rand.Read(nonce)
	ct, err := k.Seal(ctx, nonce, []byte("root key"), []byte("ad"))
	if err != nil {
		t.Fatal(err)
	}
	k2, created, err := b.NamedAESKey(ctx, "wrap", true)
	if err != nil || created {
		t.Fatalf("NamedAESKey(again) = %v, %v; want the existing key", created, err)
	}
	if pt, err := k2.Open(ctx, nonce, ct, []byte("ad")); err != nil || string(pt) != "root key" {
		t.Errorf("Open() = %q, %v; want %q", pt, err, "root key")
	}
	if pt, err := k2.Open(ctx, nonce, ct, []byte("other")); err == nil {
		t.Errorf("Open(other ad) = %q, want an error", pt)
	}
	if _, err := k.Seal(ctx, nonce[:8], nil, nil); err == nil {
		t.Errorf("Seal(8-byte nonce) err = nil, want an error")
	}
}
