//go:build cgo

package server_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	sdkerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	tkms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms/v20190118"

	"github.com/keyhaven/keyhaven/backend/pkcs11/pkcs11test"
	"github.com/keyhaven/keyhaven/server"
)

func TestMain(m *testing.M) { pkcs11test.Main(m) }

const (
	hsmSecretID  = "AKIDkeyhavenhsmtest000000000000001"
	hsmSecretKey = "keyhavenhsmtestsecretkey000000001"
)

// hsmServer is a server with an HSM on a loopback port, and SDK clients.
type hsmServer struct {
	t      *testing.T
	srv    *server.Server
	done   chan error
	typed  *tkms.Client
	common *common.Client
}

// hsmConfig is a server configuration over dir using tok, with the PIN in
// a file that ends in a newline.
func hsmConfig(t *testing.T, dir string, tok pkcs11test.Token, rootSeal string) server.Config {
	t.Helper()
	pinFile := filepath.Join(t.TempDir(), "pin")
	if err := os.WriteFile(pinFile, []byte(tok.PIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return server.Config{
		DataDir:       dir,
		Region:        "local",
		RootSecretID:  hsmSecretID,
		RootSecretKey: hsmSecretKey,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		HSM:           server.HSMConfig{Module: tok.Module, TokenLabel: tok.Label, PINFile: pinFile, Sessions: 4},
		RootSeal:      rootSeal,
	}
}

func startHSM(t *testing.T, cfg server.Config) *hsmServer {
	t.Helper()
	srv, err := server.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("server.Open: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hsmServer{t: t, srv: srv, done: make(chan error, 1)}
	go func() { h.done <- srv.Serve(ln) }()
	p := profile.NewClientProfile()
	p.HttpProfile.Endpoint = ln.Addr().String()
	p.HttpProfile.Scheme = "http"
	p.HttpProfile.ReqTimeout = 30
	cred := common.NewCredential(hsmSecretID, hsmSecretKey)
	if h.typed, err = tkms.NewClient(cred, "local", p); err != nil {
		t.Fatal(err)
	}
	h.common = common.NewCommonClient(cred, "local", p)
	t.Cleanup(h.stop)
	return h
}

func (h *hsmServer) stop() {
	if h.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		h.t.Errorf("Shutdown: %v", err)
	}
	if err := <-h.done; err != nil {
		h.t.Errorf("Serve: %v", err)
	}
	h.srv = nil
}

// call sends action through the SDK's common client, for the parameters
// the typed requests lack (ProtectionLevel) and the actions it lacks.
func (h *hsmServer) call(action string, params map[string]any) (map[string]any, error) {
	req := tchttp.NewCommonRequest("kms", "2019-01-18", action)
	if err := req.SetActionParameters(params); err != nil {
		h.t.Fatal(err)
	}
	resp := tchttp.NewCommonResponse()
	if err := h.common.Send(req, resp); err != nil {
		return nil, err
	}
	var out struct{ Response map[string]any }
	if err := json.Unmarshal(resp.GetBody(), &out); err != nil {
		h.t.Fatalf("%s response: %v", action, err)
	}
	return out.Response, nil
}

func (h *hsmServer) mustCall(action string, params map[string]any) map[string]any {
	h.t.Helper()
	out, err := h.call(action, params)
	if err != nil {
		h.t.Fatalf("%s(%v) err = %v", action, params, err)
	}
	return out
}

func (h *hsmServer) createKey(alias, usage, level string) string {
	h.t.Helper()
	out := h.mustCall("CreateKey", map[string]any{"Alias": alias, "KeyUsage": usage, "ProtectionLevel": level})
	return out["KeyId"].(string)
}

func (h *hsmServer) publicKey(id string) crypto.PublicKey {
	h.t.Helper()
	req := tkms.NewGetPublicKeyRequest()
	req.KeyId = &id
	out, err := h.typed.GetPublicKey(req)
	if err != nil {
		h.t.Fatalf("GetPublicKey(%s) err = %v", id, err)
	}
	der, _ := base64.StdEncoding.DecodeString(*out.Response.PublicKey)
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		h.t.Fatalf("GetPublicKey(%s): %v", id, err)
	}
	return pub
}

func sdkCode(err error) string {
	var e *sdkerrors.TencentCloudSDKError
	if errors.As(err, &e) {
		return e.GetCode()
	}
	return ""
}

func ptr(s string) *string { return &s }

// encryptReq and decryptReq build requests; context "" sends none.
func encryptReq(id, plaintext, context string) *tkms.EncryptRequest {
	r := tkms.NewEncryptRequest()
	r.KeyId, r.Plaintext = &id, &plaintext
	if context != "" {
		r.EncryptionContext = &context
	}
	return r
}

func decryptReq(blob *string, context string) *tkms.DecryptRequest {
	r := tkms.NewDecryptRequest()
	r.CiphertextBlob = blob
	if context != "" {
		r.EncryptionContext = &context
	}
	return r
}

// TestHSMEndToEnd creates HSM keys of every spec the Tencent dialect can
// ask for through the official SDK, uses them, and checks the results
// outside with the public keys; the root key is wrapped by the same token.
// movableClock is a clock tests move forward.
type movableClock struct{ off atomic.Int64 }

func (c *movableClock) Now() time.Time { return time.Now().Add(time.Duration(c.off.Load())) }

func TestHSMEndToEnd(t *testing.T) {
	tok := pkcs11test.NewToken(t, "e2e")
	clock := &movableClock{}
	cfg := hsmConfig(t, t.TempDir(), tok, server.RootSealPKCS11)
	cfg.Clock = clock
	h := startHSM(t, cfg)

	keys := map[string]string{} // usage → key id
	for _, usage := range []string{"ENCRYPT_DECRYPT", "ASYMMETRIC_DECRYPT_RSA_2048", "ASYMMETRIC_SIGN_VERIFY_RSA_2048", "ASYMMETRIC_SIGN_VERIFY_ECC", "ASYMMETRIC_SIGN_VERIFY_ECDSA384"} {
		id := h.createKey("hsm-"+strings.ToLower(strings.ReplaceAll(usage, "_", "-")), usage, "HSM")
		keys[usage] = id
		md := h.mustCall("DescribeKey", map[string]any{"KeyId": id})["KeyMetadata"].(map[string]any)
		if md["ProtectionLevel"] != "HSM" || md["KeyUsage"] != usage {
			t.Errorf("DescribeKey(%s key) ProtectionLevel, KeyUsage = %v, %v; want HSM, %s", usage, md["ProtectionLevel"], md["KeyUsage"], usage)
		}
	}
	soft := h.createKey("software", "ENCRYPT_DECRYPT", "SOFTWARE")

	t.Run("EncryptDecrypt", func(t *testing.T) {
		for _, id := range []string{keys["ENCRYPT_DECRYPT"], soft} {
			pt := base64.StdEncoding.EncodeToString([]byte("secret through the HSM"))
			enc, err := h.typed.Encrypt(encryptReq(id, pt, `{"app":"e2e"}`))
			if err != nil {
				t.Fatalf("Encrypt(%s) err = %v", id, err)
			}
			dec, err := h.typed.Decrypt(decryptReq(enc.Response.CiphertextBlob, `{"app":"e2e"}`))
			if err != nil || *dec.Response.Plaintext != pt {
				t.Fatalf("Decrypt(Encrypt(%s)) = %v, %v; want the plaintext", id, dec, err)
			}
			if _, err := h.typed.Decrypt(decryptReq(enc.Response.CiphertextBlob, `{"app":"other"}`)); err == nil {
				t.Errorf("Decrypt(other encryption context) err = nil, want an error")
			}
		}
		id := keys["ENCRYPT_DECRYPT"]
		dk, err := h.typed.GenerateDataKey(func() *tkms.GenerateDataKeyRequest {
			r := tkms.NewGenerateDataKeyRequest()
			r.KeyId = &id
			r.KeySpec = ptr("AES_256")
			return r
		}())
		if err != nil {
			t.Fatalf("GenerateDataKey(HSM key) err = %v", err)
		}
		dec, err := h.typed.Decrypt(decryptReq(dk.Response.CiphertextBlob, ""))
		if err != nil || *dec.Response.Plaintext != *dk.Response.Plaintext {
			t.Errorf("Decrypt(data key) = %v, %v; want the data key", dec, err)
		}
	})

	t.Run("AsymmetricRsaDecrypt", func(t *testing.T) {
		id := keys["ASYMMETRIC_DECRYPT_RSA_2048"]
		pub := h.publicKey(id).(*rsa.PublicKey)
		for _, tt := range []struct {
			alg  string
			hash crypto.Hash
		}{{"RSAES_OAEP_SHA_1", crypto.SHA1}, {"RSAES_OAEP_SHA_256", crypto.SHA256}} {
			msg := []byte("a data key made outside, " + tt.alg)
			ct, err := rsa.EncryptOAEP(tt.hash.New(), rand.Reader, pub, msg, nil)
			if err != nil {
				t.Fatal(err)
			}
			out, err := h.typed.AsymmetricRsaDecrypt(func() *tkms.AsymmetricRsaDecryptRequest {
				r := tkms.NewAsymmetricRsaDecryptRequest()
				r.KeyId = &id
				r.Algorithm = ptr(tt.alg)
				r.Ciphertext = ptr(base64.StdEncoding.EncodeToString(ct))
				return r
			}())
			if err != nil {
				t.Fatalf("AsymmetricRsaDecrypt(%s) err = %v", tt.alg, err)
			}
			if got, _ := base64.StdEncoding.DecodeString(*out.Response.Plaintext); !bytes.Equal(got, msg) {
				t.Errorf("AsymmetricRsaDecrypt(%s) = %q, want %q", tt.alg, got, msg)
			}
		}
	})

	t.Run("SignVerifyOutside", func(t *testing.T) {
		msg := []byte("document signed in the HSM")
		d256, d384 := sha256.Sum256(msg), sha512.Sum384(msg)
		for _, tt := range []struct {
			usage, alg string
			verify     func(pub crypto.PublicKey, sig []byte) error
		}{
			{"ASYMMETRIC_SIGN_VERIFY_RSA_2048", "RSA_PSS_SHA_256", func(pub crypto.PublicKey, sig []byte) error {
				return rsa.VerifyPSS(pub.(*rsa.PublicKey), crypto.SHA256, d256[:], sig, nil)
			}},
			{"ASYMMETRIC_SIGN_VERIFY_RSA_2048", "RSA_PKCS1_SHA_256", func(pub crypto.PublicKey, sig []byte) error {
				return rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, d256[:], sig)
			}},
			{"ASYMMETRIC_SIGN_VERIFY_ECC", "ECC_P256_R1", func(pub crypto.PublicKey, sig []byte) error {
				if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), d256[:], sig) {
					return errors.New("ECDSA P-256 signature does not verify")
				}
				return nil
			}},
			{"ASYMMETRIC_SIGN_VERIFY_ECDSA384", "ECC_P384_R1", func(pub crypto.PublicKey, sig []byte) error {
				if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), d384[:], sig) {
					return errors.New("ECDSA P-384 signature does not verify")
				}
				return nil
			}},
		} {
			id := keys[tt.usage]
			out, err := h.typed.SignByAsymmetricKey(func() *tkms.SignByAsymmetricKeyRequest {
				r := tkms.NewSignByAsymmetricKeyRequest()
				r.KeyId = &id
				r.Algorithm = ptr(tt.alg)
				r.MessageType = ptr("RAW")
				r.Message = ptr(base64.StdEncoding.EncodeToString(msg))
				return r
			}())
			if err != nil {
				t.Errorf("SignByAsymmetricKey(%s) err = %v", tt.alg, err)
				continue
			}
			sig, _ := base64.StdEncoding.DecodeString(*out.Response.Signature)
			if err := tt.verify(h.publicKey(id), sig); err != nil {
				t.Errorf("verify SignByAsymmetricKey(%s) outside: %v", tt.alg, err)
			}
		}
	})

	t.Run("RotateCreatesTokenObject", func(t *testing.T) {
		id := keys["ENCRYPT_DECRYPT"]
		pt := base64.StdEncoding.EncodeToString([]byte("before rotation"))
		before, err := h.typed.Encrypt(encryptReq(id, pt, ""))
		if err != nil {
			t.Fatal(err)
		}
		if n := tokenObjects(t, tok, id+"/2"); n != 0 {
			t.Fatalf("before RotateKey the token has %d objects labelled %s/2", n, id)
		}
		out := h.mustCall("RotateKey", map[string]any{"KeyId": id})
		if v, _ := out["KeyVersion"].(float64); v != 2 {
			t.Errorf("RotateKey(%s) KeyVersion = %v, want 2", id, out["KeyVersion"])
		}
		if n := tokenObjects(t, tok, id+"/2"); n != 1 {
			t.Errorf("after RotateKey the token has %d objects labelled %s/2, want 1", n, id)
		}
		after, err := h.typed.Encrypt(encryptReq(id, pt, ""))
		if err != nil {
			t.Fatal(err)
		}
		for _, blob := range []*string{before.Response.CiphertextBlob, after.Response.CiphertextBlob} {
			if dec, err := h.typed.Decrypt(decryptReq(blob, "")); err != nil || *dec.Response.Plaintext != pt {
				t.Errorf("Decrypt after rotation = %v, %v; want the plaintext", dec, err)
			}
		}
	})

	t.Run("ScheduledDeletionDestroysObjects", func(t *testing.T) {
		id := h.createKey("hsm-doomed", "ENCRYPT_DECRYPT", "HSM")
		h.mustCall("RotateKey", map[string]any{"KeyId": id})
		h.mustCall("DisableKey", map[string]any{"KeyId": id})
		h.mustCall("ScheduleKeyDeletion", map[string]any{"KeyId": id, "PendingWindowInDays": 7})
		for _, v := range []string{"/1", "/2"} {
			if n := tokenObjects(t, tok, id+v); n != 1 {
				t.Fatalf("before deletion the token has %d objects labelled %s%s, want 1", n, id, v)
			}
		}
		clock.off.Add(int64(8 * 24 * time.Hour))
		rep, err := h.srv.Service.RunScheduledJobs(context.Background(), h.srv.Node, time.Minute)
		if err != nil || len(rep.Deleted) != 1 {
			t.Fatalf("RunScheduledJobs = %+v, %v; want one deletion", rep, err)
		}
		for _, v := range []string{"/1", "/2"} {
			if n := tokenObjects(t, tok, id+v); n != 0 {
				t.Errorf("after deletion the token still has %d objects labelled %s%s", n, id, v)
			}
		}
		if _, err := h.call("DescribeKey", map[string]any{"KeyId": id}); sdkCode(err) != "ResourceUnavailable.CmkNotFound" {
			t.Errorf("DescribeKey of the deleted HSM key: %v, want ResourceUnavailable.CmkNotFound", err)
		}
	})

	t.Run("TokenObjectsNotReadable", func(t *testing.T) {
		for usage, id := range keys {
			checkUnreadable(t, tok, id+"/1", usage)
		}
	})

	t.Run("UnsupportedSpecs", func(t *testing.T) {
		for _, usage := range []string{"ASYMMETRIC_SIGN_VERIFY_SM2", "ASYMMETRIC_DECRYPT_SM2"} {
			out, err := h.call("CreateKey", map[string]any{"Alias": "sm2-" + strings.ToLower(usage[11:18]), "KeyUsage": usage, "ProtectionLevel": "HSM"})
			if c := sdkCode(err); c != "UnsupportedOperation" {
				t.Errorf("CreateKey(%s, HSM) = %v, %v; want UnsupportedOperation", usage, out, err)
			}
		}
	})

	t.Run("ListKeyDetailFilter", func(t *testing.T) {
		for level, want := range map[string]int{"HSM": len(keys), "SOFTWARE": 1} {
			out := h.mustCall("ListKeyDetail", map[string]any{"ProtectionLevel": level, "KeyUsage": "ALL", "Limit": 100})
			mds, _ := out["KeyMetadatas"].([]any)
			if len(mds) != want {
				t.Errorf("ListKeyDetail(ProtectionLevel %s) = %d keys, want %d", level, len(mds), want)
			}
			for _, md := range mds {
				if got := md.(map[string]any)["ProtectionLevel"]; got != level {
					t.Errorf("ListKeyDetail(ProtectionLevel %s) listed a %v key", level, got)
				}
			}
		}
	})
}
