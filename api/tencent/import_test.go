package tencent_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tkms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms/v20190118"
)

func createExternal(t *testing.T, c *tkms.Client, alias string) string {
	t.Helper()
	req := tkms.NewCreateKeyRequest()
	req.Alias, req.Type = common.StringPtr(alias), common.Uint64Ptr(2)
	resp, err := c.CreateKey(req)
	if err != nil {
		t.Fatalf("CreateKey(Type 2): %v", err)
	}
	if *resp.Response.KeyState != "PendingImport" {
		t.Errorf("new EXTERNAL key is %s, want PendingImport", *resp.Response.KeyState)
	}
	return *resp.Response.KeyId
}

type importParams struct {
	token string
	pub   *rsa.PublicKey
	until time.Time
}

func getParams(t *testing.T, c *tkms.Client, keyID, alg string) (importParams, error) {
	t.Helper()
	req := tkms.NewGetParametersForImportRequest()
	req.KeyId, req.WrappingAlgorithm, req.WrappingKeySpec = common.StringPtr(keyID), common.StringPtr(alg), common.StringPtr("RSA_2048")
	resp, err := c.GetParametersForImport(req)
	if err != nil {
		return importParams{}, err
	}
	der, _ := base64.StdEncoding.DecodeString(*resp.Response.PublicKey)
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatalf("wrapping public key: %v", err)
	}
	if *resp.Response.KeyId != keyID {
		t.Errorf("GetParametersForImport KeyId = %s, want %s", *resp.Response.KeyId, keyID)
	}
	return importParams{*resp.Response.ImportToken, pub.(*rsa.PublicKey), time.Unix(int64(*resp.Response.ParametersValidTo), 0)}, nil
}

func wrapOAEP(t *testing.T, pub *rsa.PublicKey, material []byte) []byte {
	t.Helper()
	w, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, material, nil)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func importMaterial(c *tkms.Client, keyID, token string, wrapped []byte, validTo uint64) error {
	req := tkms.NewImportKeyMaterialRequest()
	req.KeyId, req.ImportToken = common.StringPtr(keyID), common.StringPtr(token)
	req.EncryptedKeyMaterial = common.StringPtr(base64.StdEncoding.EncodeToString(wrapped))
	if validTo != 0 {
		req.ValidTo = common.Uint64Ptr(validTo)
	}
	_, err := c.ImportKeyMaterial(req)
	return err
}

// TestImportRefusals checks every refusal of the import flow: each gets its
// code and leaves the key as it was.
func TestImportRefusals(t *testing.T) {
	e := start(t, "")
	c := e.client
	keyID := createExternal(t, c, "byok")
	other := createExternal(t, c, "byok-other")
	material := make([]byte, 32)
	rand.Read(material)

	p, err := getParams(t, c, keyID, "RSAES_OAEP_SHA_256")
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(p.until); d < 23*time.Hour || d > 24*time.Hour+time.Minute {
		t.Errorf("ParametersValidTo is %v away, want 24 hours", d)
	}
	state := func(id string) string { return *describe(t, c, id).KeyState }

	// Wrong length: 16 bytes into a FIPS server.
	if err := importMaterial(c, keyID, p.token, wrapOAEP(t, p.pub, material[:16]), 0); code(t, err) != "InvalidParameterValue" {
		t.Errorf("importing 16 bytes: %v, want InvalidParameterValue", err)
	}
	// The token was used by that attempt.
	if err := importMaterial(c, keyID, p.token, wrapOAEP(t, p.pub, material), 0); code(t, err) != "ResourceUnavailable.TokenExpired" {
		t.Errorf("reusing a token: %v, want ResourceUnavailable.TokenExpired", err)
	}
	// Wrapped with another algorithm than the token's.
	p, _ = getParams(t, c, keyID, "RSAES_OAEP_SHA_256")
	wrongAlg, _ := rsa.EncryptOAEP(sha1.New(), rand.Reader, p.pub, material, nil)
	if err := importMaterial(c, keyID, p.token, wrongAlg, 0); code(t, err) != "InvalidParameter.DecryptMaterialError" {
		t.Errorf("material wrapped with OAEP-SHA1 for an OAEP-SHA256 token: %v, want InvalidParameter.DecryptMaterialError", err)
	}
	// A token of another key.
	po, _ := getParams(t, c, other, "RSAES_OAEP_SHA_256")
	if err := importMaterial(c, keyID, po.token, wrapOAEP(t, po.pub, material), 0); code(t, err) != "InvalidParameterValue" {
		t.Errorf("a token of another key: %v, want InvalidParameterValue", err)
	}
	// Into a key that is not EXTERNAL.
	normal := createKey(t, c, "normal")
	if _, err := getParams(t, c, normal, "RSAES_OAEP_SHA_256"); code(t, err) != "UnsupportedOperation.NotExternalCmk" {
		t.Errorf("GetParametersForImport of a KMS key: %v, want UnsupportedOperation.NotExternalCmk", err)
	}
	if err := importMaterial(c, normal, po.token, wrapOAEP(t, po.pub, material), 0); code(t, err) != "UnsupportedOperation.NotExternalCmk" {
		t.Errorf("ImportKeyMaterial into a KMS key: %v, want UnsupportedOperation.NotExternalCmk", err)
	}
	// An expired token (the server's clock moves 25 hours).
	p, _ = getParams(t, c, keyID, "RSAES_OAEP_SHA_256")
	e.clock.move(25 * time.Hour)
	if err := importMaterial(c, keyID, p.token, wrapOAEP(t, p.pub, material), 0); code(t, err) != "ResourceUnavailable.TokenExpired" {
		t.Errorf("an expired token: %v, want ResourceUnavailable.TokenExpired", err)
	}
	// Unsupported wrapping.
	req := tkms.NewGetParametersForImportRequest()
	req.KeyId, req.WrappingAlgorithm, req.WrappingKeySpec = common.StringPtr(keyID), common.StringPtr("SM2PKE"), common.StringPtr("SM2")
	if _, err := c.GetParametersForImport(req); code(t, err) != "UnsupportedOperation" {
		t.Errorf("SM2 wrapping in the FIPS suite: %v, want UnsupportedOperation", err)
	}
	if s := state(keyID); s != "PendingImport" {
		t.Fatalf("after refusals the key is %s, want PendingImport", s)
	}
	if _, err := encrypt(t, c, keyID, []byte("x"), ""); code(t, err) != "ResourceUnavailable.CmkStateNotSupport" {
		t.Errorf("Encrypt before import: %v, want ResourceUnavailable.CmkStateNotSupport", err)
	}

	// The good import, then other material is refused for ever.
	p, _ = getParams(t, c, keyID, "RSAES_OAEP_SHA_256")
	validTo := uint64(e.clock.Now().Add(48 * time.Hour).Unix())
	if err := importMaterial(c, keyID, p.token, wrapOAEP(t, p.pub, material), validTo); err != nil {
		t.Fatalf("ImportKeyMaterial: %v", err)
	}
	md := describe(t, c, keyID)
	if *md.KeyState != "Enabled" || *md.Origin != "EXTERNAL" || *md.ValidTo != validTo || *md.Type != 2 {
		t.Errorf("after import: state %s, origin %s, ValidTo %d, type %d", *md.KeyState, *md.Origin, *md.ValidTo, *md.Type)
	}
	blob, err := encrypt(t, c, keyID, []byte("imported"), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.common("RotateKey", map[string]any{"KeyId": keyID}); code(t, err) != "UnsupportedOperation.ExternalCmkCanNotRotate" {
		t.Errorf("RotateKey of an EXTERNAL key: %v, want UnsupportedOperation.ExternalCmkCanNotRotate", err)
	}
	del := tkms.NewDeleteImportedKeyMaterialRequest()
	del.KeyId = common.StringPtr(keyID)
	if _, err := c.DeleteImportedKeyMaterial(del); err != nil {
		t.Fatal(err)
	}
	different := make([]byte, 32)
	rand.Read(different)
	p, _ = getParams(t, c, keyID, "RSAES_OAEP_SHA_256")
	if err := importMaterial(c, keyID, p.token, wrapOAEP(t, p.pub, different), 0); code(t, err) != "InvalidParameterValue.MaterialNotMatch" {
		t.Errorf("importing different material: %v, want InvalidParameterValue.MaterialNotMatch", err)
	}
	if s := state(keyID); s != "PendingImport" {
		t.Errorf("after a refused re-import the key is %s, want PendingImport", s)
	}
	p, _ = getParams(t, c, keyID, "RSAES_OAEP_SHA_256")
	if err := importMaterial(c, keyID, p.token, wrapOAEP(t, p.pub, material), validTo); err != nil {
		t.Fatalf("re-import of the same material: %v", err)
	}
	if pt, _, err := decrypt(c, blob, ""); err != nil || string(pt) != "imported" {
		t.Errorf("Decrypt after re-import = %q, %v", pt, err)
	}

	// The material expires at ValidTo: the scheduler takes it away.
	e.clock.move(49 * time.Hour)
	rep, err := e.srv.Service.RunScheduledJobs(t.Context(), e.srv.Node, time.Minute)
	if err != nil || len(rep.Expired) != 1 {
		t.Fatalf("RunScheduledJobs = %+v, %v; want one expiry", rep, err)
	}
	if s := state(keyID); s != "PendingImport" {
		t.Errorf("after expiry the key is %s, want PendingImport", s)
	}
	if _, _, err := decrypt(c, blob, ""); code(t, err) != "ResourceUnavailable.CmkStateNotSupport" {
		t.Errorf("Decrypt after expiry: %v, want ResourceUnavailable.CmkStateNotSupport", err)
	}
	// Re-importing the same material brings the old ciphertexts back.
	p, _ = getParams(t, c, keyID, "RSAES_OAEP_SHA_256")
	if err := importMaterial(c, keyID, p.token, wrapOAEP(t, p.pub, material), 0); err != nil {
		t.Fatalf("re-import after expiry: %v", err)
	}
	if pt, _, err := decrypt(c, blob, ""); err != nil || string(pt) != "imported" {
		t.Errorf("Decrypt after re-import following expiry = %q, %v", pt, err)
	}
	if md := describe(t, c, keyID); *md.ValidTo != 0 {
		t.Errorf("ValidTo after an import without expiry = %d, want 0", *md.ValidTo)
	}
}
