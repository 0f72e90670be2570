//go:build cgo

package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	p11 "github.com/miekg/pkcs11"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	tkms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms/v20190118"

	"github.com/keyhaven/keyhaven/backend/pkcs11/pkcs11test"
	"github.com/keyhaven/keyhaven/server"
)

// withToken runs f on a session of tok's token, logged in, through the
// module the server has loaded (PKCS #11 state is per process; this does
// not finalize it).
func withToken(t *testing.T, tok pkcs11test.Token, f func(c *p11.Ctx, sh p11.SessionHandle)) {
	t.Helper()
	c := p11.New(tok.Module)
	if c == nil {
		t.Fatalf("load %s", tok.Module)
	}
	if err := c.Initialize(); err != nil && !strings.Contains(err.Error(), "CKR_CRYPTOKI_ALREADY_INITIALIZED") {
		t.Fatal(err)
	}
	slots, err := c.GetSlotList(true)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range slots {
		if info, err := c.GetTokenInfo(s); err == nil && strings.TrimSpace(info.Label) == tok.Label {
			sh, err := c.OpenSession(s, p11.CKF_SERIAL_SESSION)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseSession(sh)
			if err := c.Login(sh, p11.CKU_USER, tok.PIN); err != nil && !strings.Contains(err.Error(), "CKR_USER_ALREADY_LOGGED_IN") {
				t.Fatal(err)
			}
			f(c, sh)
			return
		}
	}
	t.Fatalf("token %s not found", tok.Label)
}

func findLabel(t *testing.T, c *p11.Ctx, sh p11.SessionHandle, label string, extra ...*p11.Attribute) []p11.ObjectHandle {
	t.Helper()
	if err := c.FindObjectsInit(sh, append([]*p11.Attribute{p11.NewAttribute(p11.CKA_LABEL, label)}, extra...)); err != nil {
		t.Fatal(err)
	}
	hs, _, err := c.FindObjects(sh, 100)
	c.FindObjectsFinal(sh)
	if err != nil {
		t.Fatal(err)
	}
	return hs
}

// tokenObjects counts the token's secret and private key objects labelled
// label.
func tokenObjects(t *testing.T, tok pkcs11test.Token, label string) int {
	var n int
	withToken(t, tok, func(c *p11.Ctx, sh p11.SessionHandle) {
		n = len(findLabel(t, c, sh, label, p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY))) +
			len(findLabel(t, c, sh, label, p11.NewAttribute(p11.CKA_CLASS, p11.CKO_PRIVATE_KEY)))
	})
	return n
}

// checkUnreadable checks that the secret or private object labelled label
// is sensitive, not extractable, and that its value cannot be read.
func checkUnreadable(t *testing.T, tok pkcs11test.Token, label, usage string) {
	t.Helper()
	withToken(t, tok, func(c *p11.Ctx, sh p11.SessionHandle) {
		var hs []p11.ObjectHandle
		for _, class := range []uint{p11.CKO_SECRET_KEY, p11.CKO_PRIVATE_KEY} {
			hs = append(hs, findLabel(t, c, sh, label, p11.NewAttribute(p11.CKA_CLASS, class))...)
		}
		if len(hs) != 1 {
			t.Fatalf("%s key: %d secret/private objects labelled %s, want 1", usage, len(hs), label)
		}
		attrs, err := c.GetAttributeValue(sh, hs[0], []*p11.Attribute{p11.NewAttribute(p11.CKA_SENSITIVE, nil), p11.NewAttribute(p11.CKA_EXTRACTABLE, nil)})
		if err != nil || !bytes.Equal(attrs[0].Value, []byte{1}) || !bytes.Equal(attrs[1].Value, []byte{0}) {
			t.Errorf("%s key: CKA_SENSITIVE, CKA_EXTRACTABLE = %v, %v; want true, false", usage, attrs, err)
		}
		for _, a := range []uint{p11.CKA_VALUE, p11.CKA_PRIVATE_EXPONENT, p11.CKA_PRIME_1} {
			if v, err := c.GetAttributeValue(sh, hs[0], []*p11.Attribute{p11.NewAttribute(a, nil)}); err == nil {
				t.Errorf("%s key: reading attribute %#x = %x, want an error", usage, a, v[0].Value)
			} else if !strings.Contains(err.Error(), "CKR_ATTRIBUTE_SENSITIVE") && !strings.Contains(err.Error(), "CKR_ATTRIBUTE_TYPE_INVALID") {
				t.Errorf("%s key: reading attribute %#x err = %v, want CKR_ATTRIBUTE_SENSITIVE", usage, a, err)
			}
		}
	})
}

// TestHSMStartErrors: a wrong module, token or PIN stops the server from
// starting, with a message that names what is wrong and never the PIN.
func TestHSMStartErrors(t *testing.T) {
	tok := pkcs11test.NewToken(t, "start-errors")
	tests := []struct {
		name    string
		edit    func(c *server.Config)
		mention string
	}{
		{"wrong module", func(c *server.Config) { c.HSM.Module = "/usr/lib/no-such-pkcs11.so" }, "/usr/lib/no-such-pkcs11.so"},
		{"wrong token", func(c *server.Config) { c.HSM.TokenLabel = "no-such-token" }, `"no-such-token"`},
		{"wrong PIN", func(c *server.Config) { os.WriteFile(c.HSM.PINFile, []byte("9999-wrong\n"), 0o600) }, "wrong PIN"},
		{"missing PIN file", func(c *server.Config) { c.HSM.PINFile += ".missing" }, "PIN file"},
		{"no token label", func(c *server.Config) { c.HSM.TokenLabel = "" }, "--hsm-token-label"},
		{"pkcs11 seal without HSM", func(c *server.Config) { c.HSM = server.HSMConfig{} }, "--root-seal pkcs11 needs an HSM"},
		{"unknown seal", func(c *server.Config) { c.RootSeal = "tpm" }, `"tpm"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := hsmConfig(t, t.TempDir(), tok, server.RootSealPKCS11)
			tt.edit(&cfg)
			srv, err := server.Open(context.Background(), cfg)
			if err == nil {
				srv.Close()
				t.Fatalf("server.Open(%s) err = nil, want an error", tt.name)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("server.Open(%s) err = %q, want it to mention %s", tt.name, err, tt.mention)
			}
			for _, pin := range []string{tok.PIN, "9999-wrong"} {
				if strings.Contains(err.Error(), pin) {
					t.Errorf("server.Open(%s) err = %q shows a PIN", tt.name, err)
				}
			}
		})
	}
}

// TestHSMRootSealWithoutToken copies a data dir sealed by the HSM and shows
// that nothing in it decrypts without the token: not with another token,
// not with a root key file put in place of the wrapped one.
func TestHSMRootSealWithoutToken(t *testing.T) {
	tok, other := pkcs11test.NewToken(t, "seal-owner"), pkcs11test.NewToken(t, "seal-other")
	dir := t.TempDir()
	h := startHSM(t, hsmConfig(t, dir, tok, server.RootSealPKCS11))
	id := h.createKey("soft-under-hsm-root", "ENCRYPT_DECRYPT", "SOFTWARE")
	pt := base64.StdEncoding.EncodeToString([]byte("sealed under the HSM root of trust"))
	enc, err := h.typed.Encrypt(encryptReq(id, pt, ""))
	if err != nil {
		t.Fatal(err)
	}
	h.stop()
	if _, err := os.Stat(filepath.Join(dir, "root.key")); err == nil {
		t.Fatalf("the data dir has a plaintext root.key")
	}

	copyDir := func(t *testing.T) string {
		dst := t.TempDir()
		for _, name := range []string{"keyhaven.db", "root.key.wrapped"} {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dst, name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dst
	}

	t.Run("FileSeal", func(t *testing.T) {
		cfg := hsmConfig(t, copyDir(t), tok, server.RootSealFile)
		cfg.HSM = server.HSMConfig{}
		if srv, err := server.Open(context.Background(), cfg); err == nil {
			srv.Close()
			t.Errorf("server.Open(copy, file seal) err = nil, want an error")
		}
	})
	t.Run("OtherToken", func(t *testing.T) {
		srv, err := server.Open(context.Background(), hsmConfig(t, copyDir(t), other, server.RootSealPKCS11))
		if err == nil {
			srv.Close()
			t.Fatalf("server.Open(copy, other token) err = nil, want an error")
		}
		if !strings.Contains(err.Error(), "seal-other") {
			t.Errorf("server.Open(copy, other token) err = %v, want it to name the token", err)
		}
	})
	t.Run("GuessedRootKey", func(t *testing.T) {
		d := copyDir(t)
		os.Remove(filepath.Join(d, "root.key.wrapped"))
		cfg := hsmConfig(t, d, tok, server.RootSealFile)
		cfg.HSM = server.HSMConfig{}
		srv, err := server.Open(context.Background(), cfg) // creates a new root.key
		if err != nil {
			t.Logf("server.Open(copy, new root key) refused to start: %v", err)
			return // as good as failing to decrypt
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		g := &hsmServer{t: t, srv: srv, done: make(chan error, 1)}
		go func() { g.done <- srv.Serve(ln) }()
		defer g.stop()
		p := profile.NewClientProfile()
		p.HttpProfile.Endpoint, p.HttpProfile.Scheme = ln.Addr().String(), "http"
		c, _ := tkms.NewClient(common.NewCredential(hsmSecretID, hsmSecretKey), "local", p)
		if dec, err := c.Decrypt(decryptReq(enc.Response.CiphertextBlob, "")); err == nil {
			t.Errorf("Decrypt with a guessed root key = %v, want an error", dec.ToJsonString())
		} else {
			t.Logf("Decrypt with a guessed root key: %v", err)
		}
	})
	t.Run("RightToken", func(t *testing.T) {
		h := startHSM(t, hsmConfig(t, copyDir(t), tok, server.RootSealPKCS11))
		dec, err := h.typed.Decrypt(decryptReq(enc.Response.CiphertextBlob, ""))
		if err != nil || *dec.Response.Plaintext != pt {
			t.Errorf("Decrypt(copy with the token) = %v, %v; want the plaintext", dec, err)
		}
	})
}
