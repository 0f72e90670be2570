// Command byok walks through bringing your own key material to Keyhaven with
// the official Tencent Cloud SDK for Go, as a user would:
//
//  1. create an EXTERNAL CMK (CreateKey Type 2): it waits in PendingImport;
//  2. keep a local backup of the material (here: generated, 32 bytes for
//     the FIPS suite, 16 for the SM suite);
//  3. GetParametersForImport: a one-time wrapping public key and token;
//  4. wrap the material with that public key and ImportKeyMaterial;
//  5. encrypt;
//  6. DeleteImportedKeyMaterial: the key is PendingImport, nothing decrypts;
//  7. import the same material again from the backup (new parameters);
//  8. decrypt the ciphertext made in step 5.
//
// Run a server (`go run ./cmd/keyhaven server`), then from the repository root:
//
//	go run ./examples/byok [-algorithm RSAES_OAEP_SHA_256|RSAES_OAEP_SHA_1|RSAES_PKCS1_V1_5|SM2PKE]
//
// The wrapping in step 4 is what openssl does with the PEM of the public key:
//
//	openssl pkeyutl -encrypt -pubin -inkey wrapping.pem -in material.bin -out wrapped.bin \
//	    -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
//
// Credentials come from ./keyhaven-data/root-credentials.json or
// KEYHAVEN_SECRET_ID/KEYHAVEN_SECRET_KEY; the endpoint from KEYHAVEN_ENDPOINT.
package main

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	tkms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms/v20190118"
)

func main() {
	alg := flag.String("algorithm", "RSAES_OAEP_SHA_256", "wrapping algorithm: RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1, RSAES_PKCS1_V1_5, or SM2PKE (SM suite servers)")
	flag.Parse()
	endpoint := os.Getenv("KEYHAVEN_ENDPOINT")
	if endpoint == "" {
		endpoint = "127.0.0.1:8400"
	}
	id, key, err := credentials()
	if err == nil {
		err = byok(os.Stdout, endpoint, id, key, *alg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "byok:", err)
		os.Exit(1)
	}
}

func credentials() (string, string, error) {
	if id := os.Getenv("KEYHAVEN_SECRET_ID"); id != "" {
		return id, os.Getenv("KEYHAVEN_SECRET_KEY"), nil
	}
	b, err := os.ReadFile("keyhaven-data/root-credentials.json")
	if err != nil {
		return "", "", fmt.Errorf("no credentials: set KEYHAVEN_SECRET_ID and KEYHAVEN_SECRET_KEY: %w", err)
	}
	var c struct{ SecretId, SecretKey string }
	err = json.Unmarshal(b, &c)
	return c.SecretId, c.SecretKey, err
}

// byok runs the walk-through with wrapping algorithm alg.
func byok(out io.Writer, endpoint, secretID, secretKey, alg string) error {
	p := profile.NewClientProfile()
	p.HttpProfile.Endpoint, p.HttpProfile.Scheme = endpoint, "http"
	c, err := tkms.NewClient(common.NewCredential(secretID, secretKey), "local", p)
	if err != nil {
		return err
	}
	spec, size := "RSA_2048", 32
	if alg == "SM2PKE" {
		spec, size = "SM2", 16 // the SM suite imports 128-bit SM4 material
	}

	// 1. An EXTERNAL key.
	create := tkms.NewCreateKeyRequest()
	create.Alias = common.StringPtr(fmt.Sprintf("byok-%d", time.Now().UnixNano()))
	create.Type = common.Uint64Ptr(2)
	created, err := c.CreateKey(create)
	if err != nil {
		return fmt.Errorf("CreateKey: %w", err)
	}
	keyID := *created.Response.KeyId
	fmt.Fprintf(out, "created EXTERNAL key %s, state %s\n", keyID, *created.Response.KeyState)

	// 2. The material and its backup (keep it safe: it is the key).
	material := make([]byte, size)
	if _, err := rand.Read(material); err != nil {
		return err
	}

	// 3-4. Import.
	importMaterial := func() error {
		params := tkms.NewGetParametersForImportRequest()
		params.KeyId, params.WrappingAlgorithm, params.WrappingKeySpec = &keyID, &alg, &spec
		got, err := c.GetParametersForImport(params)
		if err != nil {
			return fmt.Errorf("GetParametersForImport: %w", err)
		}
		wrapped, err := wrap(alg, *got.Response.PublicKey, material)
		if err != nil {
			return err
		}
		imp := tkms.NewImportKeyMaterialRequest()
		imp.KeyId, imp.ImportToken = &keyID, got.Response.ImportToken
		imp.EncryptedKeyMaterial = common.StringPtr(base64.StdEncoding.EncodeToString(wrapped))
		if _, err := c.ImportKeyMaterial(imp); err != nil {
			return fmt.Errorf("ImportKeyMaterial: %w", err)
		}
		return nil
	}
	if err := importMaterial(); err != nil {
		return err
	}
	fmt.Fprintf(out, "imported %d-byte material wrapped with %s\n", size, alg)

	// 5. Encrypt.
	enc := tkms.NewEncryptRequest()
	enc.KeyId = &keyID
	enc.Plaintext = common.StringPtr(base64.StdEncoding.EncodeToString([]byte("payroll 2026")))
	encrypted, err := c.Encrypt(enc)
	if err != nil {
		return fmt.Errorf("Encrypt: %w", err)
	}
	fmt.Fprintln(out, "encrypted a secret")

	// 6. Delete the material: nothing decrypts.
	del := tkms.NewDeleteImportedKeyMaterialRequest()
	del.KeyId = &keyID
	if _, err := c.DeleteImportedKeyMaterial(del); err != nil {
		return fmt.Errorf("DeleteImportedKeyMaterial: %w", err)
	}
	dec := tkms.NewDecryptRequest()
	dec.CiphertextBlob = encrypted.Response.CiphertextBlob
	if _, err := c.Decrypt(dec); err == nil {
		return fmt.Errorf("Decrypt succeeded after the material was deleted")
	}
	fmt.Fprintln(out, "deleted the material: decryption is refused")

	// 7-8. Re-import from the backup and decrypt the old ciphertext.
	if err := importMaterial(); err != nil {
		return err
	}
	decrypted, err := c.Decrypt(dec)
	if err != nil {
		return fmt.Errorf("Decrypt after re-import: %w", err)
	}
	pt, _ := base64.StdEncoding.DecodeString(*decrypted.Response.Plaintext)
	fmt.Fprintf(out, "re-imported from the backup and decrypted: %q\n", pt)
	return nil
}

// wrap encrypts material with the base64 DER public key, as alg says.
func wrap(alg, publicKey string, material []byte) ([]byte, error) {
	der, err := base64.StdEncoding.DecodeString(publicKey)
	if err != nil {
		return nil, err
	}
	pub, err := smx509.ParsePKIXPublicKey(der) // reads RSA and SM2 keys
	if err != nil {
		return nil, err
	}
	switch alg {
	case "SM2PKE":
		return sm2.EncryptASN1(rand.Reader, pub.(*ecdsa.PublicKey), material)
	case "RSAES_PKCS1_V1_5":
		return rsa.EncryptPKCS1v15(rand.Reader, pub.(*rsa.PublicKey), material)
	case "RSAES_OAEP_SHA_1":
		return rsa.EncryptOAEP(sha1.New(), rand.Reader, pub.(*rsa.PublicKey), material, nil)
	default:
		return rsa.EncryptOAEP(sha256.New(), rand.Reader, pub.(*rsa.PublicKey), material, nil)
	}
}
