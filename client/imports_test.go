package client_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/keyhaven/keyhaven/client"
	"github.com/keyhaven/keyhaven/kms"
)

// TestImportKeyMaterial brings material into an EXTERNAL key with every
// wrapping algorithm of each suite: import, encrypt, delete the material,
// import the same material again, decrypt.
func TestImportKeyMaterial(t *testing.T) {
	cases := []struct {
		suite kms.Suite
		alg   client.WrappingAlgorithm
		size  int
	}{
		{kms.SuiteFIPS, client.WrapRSAOAEPSHA256, 32},
		{kms.SuiteFIPS, client.WrapRSAOAEPSHA1, 32},
		{kms.SuiteFIPS, client.WrapRSAPKCS1, 32},
		{kms.SuiteSM, client.WrapSM2, 16},
	}
	servers := map[kms.Suite]*client.Client{
		kms.SuiteFIPS: newClient(t, startServer(t, kms.SuiteFIPS)),
		kms.SuiteSM:   newClient(t, startServer(t, kms.SuiteSM)),
	}
	for _, tc := range cases {
		t.Run(string(tc.alg), func(t *testing.T) {
			c := servers[tc.suite]
			ctx := context.Background()
			k := must[*client.CreateKeyResponse](t, "CreateKey")(c.CreateKey(ctx, client.CreateKeyRequest{Alias: "byok-" + string(tc.alg), Type: 2}))
			if k.KeyState != client.StatePendingImport {
				t.Fatalf("CreateKey Type 2: state %s, want PendingImport", k.KeyState)
			}
			material := make([]byte, tc.size)
			rand.Read(material)
			importIt := func(m []byte) error {
				p := must[*client.GetParametersForImportResponse](t, "GetParametersForImport")(c.GetParametersForImport(ctx, client.GetParametersForImportRequest{
					KeyID: k.KeyID, WrappingAlgorithm: tc.alg, WrappingKeySpec: tc.alg.KeySpec(),
				}))
				if p.KeyID != k.KeyID || p.ImportToken == "" || len(p.PublicKey) == 0 || p.ParametersValidTo == 0 {
					t.Fatalf("GetParametersForImport = %+v", p)
				}
				wrapped, err := client.WrapKeyMaterial(rand.Reader, tc.alg, p.PublicKey, m)
				if err != nil {
					t.Fatalf("WrapKeyMaterial(%s): %v", tc.alg, err)
				}
				_, err = c.ImportKeyMaterial(ctx, client.ImportKeyMaterialRequest{KeyID: k.KeyID, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped})
				return err
			}
			if err := importIt(material); err != nil {
				t.Fatalf("ImportKeyMaterial: %v", err)
			}
			enc := must[*client.EncryptResponse](t, "Encrypt")(c.Encrypt(ctx, client.EncryptRequest{KeyID: k.KeyID, Plaintext: []byte("payroll")}))
			must[*client.Response](t, "DeleteImportedKeyMaterial")(c.DeleteImportedKeyMaterial(ctx, k.KeyID))
			if d := must[*client.DescribeKeyResponse](t, "DescribeKey")(c.DescribeKey(ctx, k.KeyID)); d.KeyMetadata.KeyState != client.StatePendingImport {
				t.Errorf("after DeleteImportedKeyMaterial the key is %s, want PendingImport", d.KeyMetadata.KeyState)
			}
			if _, err := c.Decrypt(ctx, client.DecryptRequest{CiphertextBlob: enc.CiphertextBlob}); err == nil {
				t.Error("Decrypt succeeded after DeleteImportedKeyMaterial")
			}
			other := bytes.Clone(material)
			other[0] ^= 1
			if err := importIt(other); !client.IsCode(err, "InvalidParameterValue.MaterialNotMatch") {
				t.Errorf("ImportKeyMaterial of other material: %v, want InvalidParameterValue.MaterialNotMatch", err)
			}
			if err := importIt(material); err != nil {
				t.Fatalf("ImportKeyMaterial of the same material again: %v", err)
			}
			if d := must[*client.DecryptResponse](t, "Decrypt")(c.Decrypt(ctx, client.DecryptRequest{CiphertextBlob: enc.CiphertextBlob})); string(d.Plaintext) != "payroll" {
				t.Errorf("Decrypt after re-import = %q", d.Plaintext)
			}
		})
	}
}

func TestImportErrors(t *testing.T) {
	c := newClient(t, startServer(t, kms.SuiteFIPS))
	ctx := context.Background()
	ext := must[*client.CreateKeyResponse](t, "CreateKey")(c.CreateKey(ctx, client.CreateKeyRequest{Alias: "ext", Type: 2}))
	own := must[*client.CreateKeyResponse](t, "CreateKey")(c.CreateKey(ctx, client.CreateKeyRequest{Alias: "own"}))
	p := must[*client.GetParametersForImportResponse](t, "GetParametersForImport")(c.GetParametersForImport(ctx, client.GetParametersForImportRequest{
		KeyID: ext.KeyID, WrappingAlgorithm: client.WrapRSAOAEPSHA256, WrappingKeySpec: client.WrappingKeyRSA2048,
	}))
	wrapped, _ := client.WrapKeyMaterial(rand.Reader, client.WrapRSAOAEPSHA256, p.PublicKey, make([]byte, 32))
	must[*client.Response](t, "ImportKeyMaterial")(c.ImportKeyMaterial(ctx, client.ImportKeyMaterialRequest{KeyID: ext.KeyID, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped}))
	cases := []struct {
		name string
		call func() error
		code string
	}{
		{"token used twice", func() error {
			_, err := c.ImportKeyMaterial(ctx, client.ImportKeyMaterialRequest{KeyID: ext.KeyID, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped})
			return err
		}, "ResourceUnavailable.TokenExpired"},
		{"key not EXTERNAL", func() error {
			_, err := c.GetParametersForImport(ctx, client.GetParametersForImportRequest{KeyID: own.KeyID, WrappingAlgorithm: client.WrapRSAOAEPSHA256, WrappingKeySpec: client.WrappingKeyRSA2048})
			return err
		}, "UnsupportedOperation.NotExternalCmk"},
		{"delete material of a key not EXTERNAL", func() error { _, err := c.DeleteImportedKeyMaterial(ctx, own.KeyID); return err }, "UnsupportedOperation.NotExternalCmk"},
		{"SM2 on a FIPS server", func() error {
			_, err := c.GetParametersForImport(ctx, client.GetParametersForImportRequest{KeyID: ext.KeyID, WrappingAlgorithm: client.WrapSM2, WrappingKeySpec: client.WrappingKeySM2})
			return err
		}, "UnsupportedOperation"},
	}
	for _, tc := range cases {
		if err := tc.call(); !client.IsCode(err, tc.code) {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
}

// TestWrapKeyMaterial checks each algorithm against its inverse, and that a
// key of the wrong kind or an unknown algorithm is refused.
func TestWrapKeyMaterial(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	sm2Key, _ := sm2.GenerateKey(rand.Reader)
	sm2DER, _ := smx509.MarshalPKIXPublicKey(&sm2Key.PublicKey)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p256DER, _ := x509.MarshalPKIXPublicKey(&p256.PublicKey)
	material := []byte("0123456789abcdef0123456789abcdef")
	unwrap := map[client.WrappingAlgorithm]func([]byte) ([]byte, error){
		client.WrapRSAOAEPSHA256: func(b []byte) ([]byte, error) { return rsa.DecryptOAEP(sha256.New(), nil, rsaKey, b, nil) },
		client.WrapRSAOAEPSHA1:   func(b []byte) ([]byte, error) { return rsa.DecryptOAEP(sha1.New(), nil, rsaKey, b, nil) },
		client.WrapRSAPKCS1:      func(b []byte) ([]byte, error) { return rsa.DecryptPKCS1v15(nil, rsaKey, b) },
		client.WrapSM2:           func(b []byte) ([]byte, error) { return sm2.Decrypt(sm2Key, b) },
	}
	for alg, open := range unwrap {
		der := rsaDER
		if alg == client.WrapSM2 {
			der = sm2DER
		}
		wrapped, err := client.WrapKeyMaterial(rand.Reader, alg, der, material)
		if err != nil {
			t.Fatalf("WrapKeyMaterial(%s): %v", alg, err)
		}
		if got, err := open(wrapped); err != nil || !bytes.Equal(got, material) {
			t.Errorf("WrapKeyMaterial(%s) unwraps to %q, %v; want the material", alg, got, err)
		}
	}
	bad := []struct {
		name string
		alg  client.WrappingAlgorithm
		der  []byte
	}{
		{"SM2 with an RSA key", client.WrapSM2, rsaDER},
		{"SM2 with a P-256 key", client.WrapSM2, p256DER},
		{"OAEP with an SM2 key", client.WrapRSAOAEPSHA256, sm2DER},
		{"unknown algorithm", "RSAES_RAW", rsaDER},
		{"not DER", client.WrapRSAOAEPSHA256, []byte("not a key")},
	}
	for _, tc := range bad {
		if _, err := client.WrapKeyMaterial(rand.Reader, tc.alg, tc.der, material); err == nil {
			t.Errorf("WrapKeyMaterial(%s) succeeded, want an error", tc.name)
		}
	}
}
