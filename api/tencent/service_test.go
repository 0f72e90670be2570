package tencent_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tkms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms/v20190118"
)

func TestServiceActions(t *testing.T) {
	e := start(t, "")
	st, err := e.client.GetServiceStatus(tkms.NewGetServiceStatusRequest())
	if err != nil || !*st.Response.ServiceEnabled {
		t.Errorf("GetServiceStatus = %v, %v; want ServiceEnabled", st, err)
	}
	reg, err := e.client.GetRegions(tkms.NewGetRegionsRequest())
	if err != nil || len(reg.Response.Regions) != 1 || *reg.Response.Regions[0] != "local" {
		t.Errorf("GetRegions = %v, %v; want [local]", reg, err)
	}
	alg, err := e.client.ListAlgorithms(tkms.NewListAlgorithmsRequest())
	if err != nil {
		t.Fatalf("ListAlgorithms: %v", err)
	}
	r := alg.Response
	if len(r.SymmetricAlgorithms) != 1 || *r.SymmetricAlgorithms[0].KeyUsage != "ENCRYPT_DECRYPT" || *r.SymmetricAlgorithms[0].Algorithm != "AES_256" ||
		len(r.AsymmetricAlgorithms) != 2 || len(r.AsymmetricSignVerifyAlgorithms) != 4 {
		t.Errorf("ListAlgorithms = %s; want AES_256, two decryption and four signing usages", alg.ToJsonString())
	}
	rnd := tkms.NewGenerateRandomRequest()
	rnd.NumberOfBytes = common.Uint64Ptr(1024)
	out, err := e.client.GenerateRandom(rnd)
	if err != nil {
		t.Fatalf("GenerateRandom: %v", err)
	}
	if b, _ := base64.StdEncoding.DecodeString(*out.Response.Plaintext); len(b) != 1024 || bytes.Equal(b, make([]byte, 1024)) {
		t.Errorf("GenerateRandom(1024) gave %d bytes", len(b))
	}
}

// TestEncryptionPublicKey checks the option that returns a data key, or a
// decrypted plaintext, encrypted under the caller's public key.
func TestEncryptionPublicKey(t *testing.T) {
	e := start(t, "")
	keyID := createKey(t, e.client, "envelope")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	sm2Key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sm2DER, _ := smx509.MarshalPKIXPublicKey(&sm2Key.PublicKey)
	pemOf := func(der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	}
	cases := []struct {
		alg, pub string
		open     func([]byte) ([]byte, error)
	}{
		{"RSAES_OAEP_SHA_256", pemOf(rsaDER), func(c []byte) ([]byte, error) { return rsa.DecryptOAEP(sha256.New(), nil, rsaKey, c, nil) }},
		{"RSAES_OAEP_SHA_1", pemOf(rsaDER), func(c []byte) ([]byte, error) { return rsa.DecryptOAEP(sha1.New(), nil, rsaKey, c, nil) }},
		{"RSAES_PKCS1_V1_5", pemOf(rsaDER), func(c []byte) ([]byte, error) { return rsa.DecryptPKCS1v15(nil, rsaKey, c) }},
		{"SM2_C1C3C2_ASN1", pemOf(sm2DER), func(c []byte) ([]byte, error) { return sm2.Decrypt(sm2Key, c) }},
		{"", pemOf(sm2DER), func(c []byte) ([]byte, error) { return sm2.Decrypt(sm2Key, c) }}, // default SM2, C1C3C2
	}
	for _, tc := range cases {
		t.Run("alg "+tc.alg, func(t *testing.T) {
			g := tkms.NewGenerateDataKeyRequest()
			g.KeyId, g.KeySpec = common.StringPtr(keyID), common.StringPtr("AES_256")
			g.EncryptionPublicKey = common.StringPtr(tc.pub)
			if tc.alg != "" {
				g.EncryptionAlgorithm = common.StringPtr(tc.alg)
			}
			dk, err := e.client.GenerateDataKey(g)
			if err != nil {
				t.Fatalf("GenerateDataKey: %v", err)
			}
			wrapped, _ := base64.StdEncoding.DecodeString(*dk.Response.Plaintext)
			plain, err := tc.open(wrapped)
			if err != nil || len(plain) != 32 {
				t.Fatalf("opening the returned data key: %d bytes, %v", len(plain), err)
			}
			d := tkms.NewDecryptRequest()
			d.CiphertextBlob = dk.Response.CiphertextBlob
			d.EncryptionPublicKey = g.EncryptionPublicKey
			d.EncryptionAlgorithm = g.EncryptionAlgorithm
			dec, err := e.client.Decrypt(d)
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			wrapped, _ = base64.StdEncoding.DecodeString(*dec.Response.Plaintext)
			again, err := tc.open(wrapped)
			if err != nil || !bytes.Equal(again, plain) {
				t.Errorf("Decrypt with the public key gave %x, %v; want the data key %x", again, err, plain)
			}
		})
	}
	g := tkms.NewGenerateDataKeyRequest()
	g.KeyId, g.KeySpec = common.StringPtr(keyID), common.StringPtr("AES_256")
	g.EncryptionPublicKey, g.EncryptionAlgorithm = common.StringPtr(pemOf(sm2DER)), common.StringPtr("RSAES_OAEP_SHA_256")
	if _, err := e.client.GenerateDataKey(g); code(t, err) != "InvalidParameterValue" {
		t.Errorf("GenerateDataKey with an SM2 key for RSA: %v, want InvalidParameterValue", err)
	}
	g.EncryptionPublicKey, g.EncryptionAlgorithm = common.StringPtr("garbage"), nil
	if _, err := e.client.GenerateDataKey(g); code(t, err) != "InvalidParameterValue" {
		t.Errorf("GenerateDataKey with a garbage public key: %v, want InvalidParameterValue", err)
	}
}
