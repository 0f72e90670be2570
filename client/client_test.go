package client_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/keyhaven/keyhaven/client"
	"github.com/keyhaven/keyhaven/kms"
)

// must fails the test if err is not nil.
func must[T any](t *testing.T, call string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", call, err)
		}
		return v
	}
}

// TestSymmetricKeyLifecycle walks a symmetric key through every action of
// the management and data planes.
func TestSymmetricKeyLifecycle(t *testing.T) {
	c := newClient(t, startServer(t, kms.SuiteFIPS))
	ctx := context.Background()

	created := must[*client.CreateKeyResponse](t, "CreateKey")(c.CreateKey(ctx, client.CreateKeyRequest{Alias: "app", Description: "d", Tags: []client.Tag{{Key: "team", Value: "a"}}}))
	id := created.KeyID
	if !client.IsKeyID(id) || created.KeyState != client.StateEnabled || created.KeyUsage != client.UsageEncryptDecrypt || created.RequestID == "" {
		t.Fatalf("CreateKey = %+v", created)
	}
	desc := must[*client.DescribeKeyResponse](t, "DescribeKey")(c.DescribeKey(ctx, id))
	if m := desc.KeyMetadata; m.Alias != "app" || m.Description != "d" || m.ProtectionLevel != client.ProtectionSoftware || client.UnixTime(m.CreateTime).IsZero() {
		t.Errorf("DescribeKey = %+v", m)
	}
	if r := must[*client.DescribeKeysResponse](t, "DescribeKeys")(c.DescribeKeys(ctx, []string{id})); len(r.KeyMetadatas) != 1 {
		t.Errorf("DescribeKeys = %+v", r)
	}
	if r := must[*client.ListKeysResponse](t, "ListKeys")(c.ListKeys(ctx, client.ListKeysRequest{Limit: 100})); r.TotalCount != 1 || r.Keys[0].KeyID != id {
		t.Errorf("ListKeys = %+v", r)
	}
	must[*client.Response](t, "UpdateAlias")(c.UpdateAlias(ctx, client.UpdateAliasRequest{KeyID: id, Alias: "app2"}))
	must[*client.Response](t, "UpdateKeyDescription")(c.UpdateKeyDescription(ctx, client.UpdateKeyDescriptionRequest{KeyID: id, Description: "e"}))
	if r := must[*client.ListKeyDetailResponse](t, "ListKeyDetail")(c.ListKeyDetail(ctx, client.ListKeyDetailRequest{SearchKeyAlias: "app2", TagFilters: []client.TagFilter{{Key: "team"}}})); r.TotalCount != 1 || r.KeyMetadatas[0].Description != "e" {
		t.Errorf("ListKeyDetail = %+v", r)
	}

	// Data plane: the []byte fields and the context survive the round trip.
	secret := []byte{0, 1, 2, 0xff}
	encCtx := client.EncryptionContext{"app": "x", "b": "y"}
	enc := must[*client.EncryptResponse](t, "Encrypt")(c.Encrypt(ctx, client.EncryptRequest{KeyID: id, Plaintext: secret, EncryptionContext: encCtx}))
	dec := must[*client.DecryptResponse](t, "Decrypt")(c.Decrypt(ctx, client.DecryptRequest{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: encCtx}))
	if !bytes.Equal(dec.Plaintext, secret) || dec.KeyID != id {
		t.Errorf("Decrypt = %x (%s), want %x", dec.Plaintext, dec.KeyID, secret)
	}
	_, err := c.Decrypt(ctx, client.DecryptRequest{CiphertextBlob: enc.CiphertextBlob})
	if !client.IsCode(err, "InvalidParameterValue.InvalidCiphertext") {
		t.Errorf("Decrypt without context: %v, want InvalidCiphertext", err)
	}
	re := must[*client.ReEncryptResponse](t, "ReEncrypt")(c.ReEncrypt(ctx, client.ReEncryptRequest{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: encCtx}))
	if !re.ReEncrypted || re.SourceKeyID != id {
		t.Errorf("ReEncrypt = %+v", re)
	}
	dk := must[*client.GenerateDataKeyResponse](t, "GenerateDataKey")(c.GenerateDataKey(ctx, client.GenerateDataKeyRequest{KeyID: id, KeySpec: "AES_256"}))
	if dec := must[*client.DecryptResponse](t, "Decrypt data key")(c.Decrypt(ctx, client.DecryptRequest{CiphertextBlob: dk.CiphertextBlob})); len(dk.Plaintext) != 32 || !bytes.Equal(dec.Plaintext, dk.Plaintext) {
		t.Errorf("data key of %d bytes does not decrypt to itself", len(dk.Plaintext))
	}
	if r := must[*client.GenerateRandomResponse](t, "GenerateRandom")(c.GenerateRandom(ctx, 17)); len(r.Plaintext) != 17 {
		t.Errorf("GenerateRandom(17) = %d bytes", len(r.Plaintext))
	}

	// Lifecycle.
	must[*client.Response](t, "EnableKeyRotation")(c.EnableKeyRotation(ctx, client.EnableKeyRotationRequest{KeyID: id, RotateDays: 90}))
	if r := must[*client.GetKeyRotationStatusResponse](t, "GetKeyRotationStatus")(c.GetKeyRotationStatus(ctx, id)); !r.KeyRotationEnabled || r.RotateDays != 90 || r.NextRotateTime == 0 || r.KeyVersion != 1 {
		t.Errorf("GetKeyRotationStatus = %+v", r)
	}
	must[*client.Response](t, "DisableKeyRotation")(c.DisableKeyRotation(ctx, id))
	if r := must[*client.RotateKeyResponse](t, "RotateKey")(c.RotateKey(ctx, id)); r.KeyVersion != 2 {
		t.Errorf("RotateKey = %+v, want version 2", r)
	}
	steps := []struct {
		name  string
		call  func() (*client.Response, error)
		state client.KeyState
	}{
		{"DisableKey", func() (*client.Response, error) { return c.DisableKey(ctx, id) }, client.StateDisabled},
		{"EnableKey", func() (*client.Response, error) { return c.EnableKey(ctx, id) }, client.StateEnabled},
		{"DisableKeys", func() (*client.Response, error) { return c.DisableKeys(ctx, []string{id}) }, client.StateDisabled},
		{"EnableKeys", func() (*client.Response, error) { return c.EnableKeys(ctx, []string{id}) }, client.StateEnabled},
		{"ArchiveKey", func() (*client.Response, error) { return c.ArchiveKey(ctx, id) }, client.StateArchived},
		{"CancelKeyArchive", func() (*client.Response, error) { return c.CancelKeyArchive(ctx, id) }, client.StateEnabled},
		{"DisableKey", func() (*client.Response, error) { return c.DisableKey(ctx, id) }, client.StateDisabled},
		{"ScheduleKeyDeletion", func() (*client.Response, error) {
			r, err := c.ScheduleKeyDeletion(ctx, client.ScheduleKeyDeletionRequest{KeyID: id, PendingWindowInDays: 7})
			if err == nil && r.DeletionDate == 0 {
				t.Errorf("ScheduleKeyDeletion = %+v", r)
			}
			return &r.Response, err
		}, client.StatePendingDelete},
		{"CancelKeyDeletion", func() (*client.Response, error) {
			r, err := c.CancelKeyDeletion(ctx, id)
			return &r.Response, err
		}, client.StateDisabled},
	}
	for _, s := range steps {
		r, err := s.call()
		if err != nil || r.RequestID == "" {
			t.Fatalf("%s = %+v, %v", s.name, r, err)
		}
		if got := must[*client.DescribeKeyResponse](t, "DescribeKey")(c.DescribeKey(ctx, id)).KeyMetadata.KeyState; got != s.state {
			t.Errorf("after %s the key is %s, want %s", s.name, got, s.state)
		}
	}

	// Service actions.
	if r := must[*client.GetServiceStatusResponse](t, "GetServiceStatus")(c.GetServiceStatus(ctx)); !r.ServiceEnabled {
		t.Errorf("GetServiceStatus = %+v", r)
	}
	if r := must[*client.GetRegionsResponse](t, "GetRegions")(c.GetRegions(ctx)); len(r.Regions) != 1 || r.Regions[0] != "local" {
		t.Errorf("GetRegions = %+v", r)
	}
	if r := must[*client.ListAlgorithmsResponse](t, "ListAlgorithms")(c.ListAlgorithms(ctx)); len(r.SymmetricAlgorithms) != 1 || r.SymmetricAlgorithms[0].Algorithm != "AES_256" || len(r.AsymmetricSignVerifyAlgorithms) == 0 {
		t.Errorf("ListAlgorithms = %+v", r)
	}
}

func TestAsymmetric(t *testing.T) {
	c := newClient(t, startServer(t, kms.SuiteFIPS))
	ctx := context.Background()
	create := func(alias string, usage client.KeyUsage) (string, any) {
		t.Helper()
		k := must[*client.CreateKeyResponse](t, "CreateKey")(c.CreateKey(ctx, client.CreateKeyRequest{Alias: alias, KeyUsage: usage}))
		pk := must[*client.GetPublicKeyResponse](t, "GetPublicKey")(c.GetPublicKey(ctx, k.KeyID))
		if !strings.Contains(pk.PublicKeyPem, "BEGIN PUBLIC KEY") {
			t.Errorf("GetPublicKey PEM = %q", pk.PublicKeyPem)
		}
		pub, err := smx509.ParsePKIXPublicKey(pk.PublicKey)
		if err != nil {
			t.Fatalf("GetPublicKey DER: %v", err)
		}
		return k.KeyID, pub
	}

	signer, _ := create("signer", client.UsageSignECC)
	msg := []byte("message")
	sig := must[*client.SignByAsymmetricKeyResponse](t, "Sign")(c.SignByAsymmetricKey(ctx, client.SignByAsymmetricKeyRequest{KeyID: signer, Algorithm: "ECC_P256_R1", Message: msg}))
	for _, tc := range []struct {
		name string
		msg  []byte
		want bool
	}{{"same message", msg, true}, {"other message", []byte("massage"), false}} {
		r := must[*client.VerifyByAsymmetricKeyResponse](t, "Verify")(c.VerifyByAsymmetricKey(ctx, client.VerifyByAsymmetricKeyRequest{
			KeyID: signer, Algorithm: "ECC_P256_R1", Message: tc.msg, SignatureValue: sig.Signature, MessageType: client.MessageRaw,
		}))
		if r.SignatureValid != tc.want {
			t.Errorf("Verify(%s) = %v, want %v", tc.name, r.SignatureValid, tc.want)
		}
	}

	secret := []byte("asymmetric secret")
	rsaKey, rsaPub := create("rsa", client.UsageDecryptRSA2048)
	ct, _ := rsa.EncryptOAEP(sha256.New(), rand.Reader, rsaPub.(*rsa.PublicKey), secret, nil)
	if r := must[*client.AsymmetricDecryptResponse](t, "AsymmetricRsaDecrypt")(c.AsymmetricRsaDecrypt(ctx, client.AsymmetricRsaDecryptRequest{KeyID: rsaKey, Ciphertext: ct, Algorithm: "RSAES_OAEP_SHA_256"})); !bytes.Equal(r.Plaintext, secret) {
		t.Errorf("AsymmetricRsaDecrypt = %q", r.Plaintext)
	}
	sm2Key, sm2Pub := create("sm2", client.UsageDecryptSM2)
	ct, _ = sm2.EncryptASN1(rand.Reader, sm2Pub.(*ecdsa.PublicKey), secret)
	if r := must[*client.AsymmetricDecryptResponse](t, "AsymmetricSm2Decrypt")(c.AsymmetricSm2Decrypt(ctx, client.AsymmetricSm2DecryptRequest{KeyID: sm2Key, Ciphertext: ct})); !bytes.Equal(r.Plaintext, secret) {
		t.Errorf("AsymmetricSm2Decrypt = %q", r.Plaintext)
	}
}

func TestAPIErrors(t *testing.T) {
	addr := startServer(t, kms.SuiteFIPS)
	c := newClient(t, addr)
	bad := newClient(t, addr, func(cfg *client.Config) { cfg.SecretKey = "wrong" })
	ctx := context.Background()
	cases := []struct {
		name string
		call func() error
		code string
	}{
		{"unknown key", func() error { _, err := c.DescribeKey(ctx, "00000000-0000-4000-8000-000000000000"); return err }, "ResourceUnavailable.CmkNotFound"},
		{"bad alias", func() error { _, err := c.CreateKey(ctx, client.CreateKeyRequest{Alias: "-bad"}); return err }, "InvalidParameterValue.InvalidAlias"},
		{"random too long", func() error { _, err := c.GenerateRandom(ctx, 5000); return err }, "InvalidParameterValue"},
		{"wrong secret", func() error { _, err := bad.GetRegions(ctx); return err }, "AuthFailure.SignatureFailure"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var ae *client.APIError
			if !errors.As(err, &ae) || ae.Code != tc.code || ae.Message == "" || ae.RequestID == "" {
				t.Fatalf("err = %#v, want an *APIError %s with a message and a RequestId", err, tc.code)
			}
			if !strings.Contains(err.Error(), tc.code) || !strings.Contains(err.Error(), ae.RequestID) {
				t.Errorf("Error() = %q, want the code and RequestId", err)
			}
		})
	}
}

func TestResolveKeyID(t *testing.T) {
	c := newClient(t, startServer(t, kms.SuiteFIPS))
	ctx := context.Background()
	sym := must[*client.CreateKeyResponse](t, "CreateKey")(c.CreateKey(ctx, client.CreateKeyRequest{Alias: "app"}))
	// "app-2" contains "app": the match must be exact.
	must[*client.CreateKeyResponse](t, "CreateKey")(c.CreateKey(ctx, client.CreateKeyRequest{Alias: "app-2"}))
	sig := must[*client.CreateKeyResponse](t, "CreateKey")(c.CreateKey(ctx, client.CreateKeyRequest{Alias: "signer", KeyUsage: client.UsageSignECC}))
	cases := []struct {
		ref, want string
		err       error
	}{
		{"alias/app", sym.KeyID, nil},
		{"app", sym.KeyID, nil},
		{sym.KeyID, sym.KeyID, nil},
		{"signer", sig.KeyID, nil}, // not ENCRYPT_DECRYPT: found with KeyUsage ALL
		{"alias/ap", "", client.ErrAliasNotFound},
		{"nope", "", client.ErrAliasNotFound},
	}
	for _, tc := range cases {
		got, err := c.ResolveKeyID(ctx, tc.ref)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("ResolveKeyID(%q) = %q, %v; want %q, %v", tc.ref, got, err, tc.want, tc.err)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	cases := []client.Config{
		{Endpoint: "127.0.0.1:8400", SecretID: "a", SecretKey: "b"},
		{Endpoint: "ftp://127.0.0.1", SecretID: "a", SecretKey: "b"},
		{Endpoint: "http://127.0.0.1/kms", SecretID: "a", SecretKey: "b"},
		{Endpoint: "http://127.0.0.1:8400", SecretID: "a"},
	}
	for _, cfg := range cases {
		if _, err := client.New(cfg); err == nil {
			t.Errorf("New(%q, id %q) succeeded, want an error", cfg.Endpoint, cfg.SecretID)
		}
	}
}

// TestSecretNeverPrints checks that a Config prints and marshals no secret.
func TestSecretNeverPrints(t *testing.T) {
	cfg := client.Config{Endpoint: "http://x", SecretID: "id", SecretKey: "supersecret"}
	b, _ := json.Marshal(cfg)
	for _, s := range []string{string(b), strings.Join([]string{cfg.SecretKey.String(), cfg.SecretKey.GoString()}, " ")} {
		if strings.Contains(s, "supersecret") {
			t.Errorf("secret printed: %s", s)
		}
	}
}
