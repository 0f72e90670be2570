// Command tour is the five-minute tour of Keyhaven with the official Tencent
// Cloud SDK for Go: it creates a CMK, encrypts and decrypts a secret, and
// envelope-encrypts a larger message with a data key.
//
// Start a server (`go run ./cmd/keyhaven server`) and run, from the
// repository root:
//
//	go run ./examples/tour
//
// It reads the root credentials from ./keyhaven-data/root-credentials.json,
// or from KEYHAVEN_SECRET_ID and KEYHAVEN_SECRET_KEY, and the endpoint from
// KEYHAVEN_ENDPOINT (default 127.0.0.1:8400).
package main

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	tkms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms/v20190118"
)

func main() {
	endpoint := getenv("KEYHAVEN_ENDPOINT", "127.0.0.1:8400")
	id, key, err := credentials()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tour:", err)
		os.Exit(1)
	}
	if err := tour(os.Stdout, endpoint, id, key); err != nil {
		fmt.Fprintln(os.Stderr, "tour:", err)
		os.Exit(1)
	}
}

func getenv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func credentials() (secretID, secretKey string, err error) {
	if id := os.Getenv("KEYHAVEN_SECRET_ID"); id != "" {
		return id, os.Getenv("KEYHAVEN_SECRET_KEY"), nil
	}
	b, err := os.ReadFile("keyhaven-data/root-credentials.json")
	if err != nil {
		return "", "", fmt.Errorf("no credentials: set KEYHAVEN_SECRET_ID and KEYHAVEN_SECRET_KEY, or run from the directory holding keyhaven-data: %w", err)
	}
	var c struct{ SecretId, SecretKey string }
	if err := json.Unmarshal(b, &c); err != nil {
		return "", "", fmt.Errorf("root-credentials.json: %w", err)
	}
	return c.SecretId, c.SecretKey, nil
}

// tour runs the walk-through against the server at endpoint.
func tour(out io.Writer, endpoint, secretID, secretKey string) error {
	p := profile.NewClientProfile()
	p.HttpProfile.Endpoint = endpoint
	p.HttpProfile.Scheme = "http" // use "https" when the server has --tls-cert
	client, err := tkms.NewClient(common.NewCredential(secretID, secretKey), "local", p)
	if err != nil {
		return err
	}

	// 1. A customer master key. Aliases are unique, so make one per run.
	create := tkms.NewCreateKeyRequest()
	create.Alias = common.StringPtr(fmt.Sprintf("tour-%d", time.Now().UnixNano()))
	create.Description = common.StringPtr("made by examples/tour")
	created, err := client.CreateKey(create)
	if err != nil {
		return fmt.Errorf("CreateKey: %w", err)
	}
	keyID := *created.Response.KeyId
	fmt.Fprintf(out, "created CMK %s (alias %s)\n", keyID, *created.Response.Alias)

	// 2. Encrypt a small secret (up to 4 KB) directly, bound to a context.
	encCtx := `{"app":"tour"}`
	enc := tkms.NewEncryptRequest()
	enc.KeyId = common.StringPtr(keyID)
	enc.Plaintext = common.StringPtr(base64.StdEncoding.EncodeToString([]byte("database password: hunter2")))
	enc.EncryptionContext = common.StringPtr(encCtx)
	encrypted, err := client.Encrypt(enc)
	if err != nil {
		return fmt.Errorf("Encrypt: %w", err)
	}
	fmt.Fprintf(out, "ciphertext blob: %.40s...\n", *encrypted.Response.CiphertextBlob)

	// 3. Decrypt: the blob names its key, so no KeyId is needed.
	dec := tkms.NewDecryptRequest()
	dec.CiphertextBlob = encrypted.Response.CiphertextBlob
	dec.EncryptionContext = common.StringPtr(encCtx)
	decrypted, err := client.Decrypt(dec)
	if err != nil {
		return fmt.Errorf("Decrypt: %w", err)
	}
	plain, _ := base64.StdEncoding.DecodeString(*decrypted.Response.Plaintext)
	fmt.Fprintf(out, "decrypted: %q\n", plain)

	// 4. Envelope encryption: a data key encrypts large data locally; only
	// the encrypted data key is kept beside the data.
	gen := tkms.NewGenerateDataKeyRequest()
	gen.KeyId = common.StringPtr(keyID)
	gen.KeySpec = common.StringPtr("AES_256")
	dataKey, err := client.GenerateDataKey(gen)
	if err != nil {
		return fmt.Errorf("GenerateDataKey: %w", err)
	}
	dk, _ := base64.StdEncoding.DecodeString(*dataKey.Response.Plaintext)
	big := make([]byte, 1<<20)
	sealed, err := sealLocally(dk, big)
	clear(dk) // forget the plaintext data key as soon as it is used
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "envelope-encrypted %d bytes locally; stored with encrypted data key %.40s...\n", len(big), *dataKey.Response.CiphertextBlob)

	// Later: decrypt the data key with KMS, then the data locally.
	dec = tkms.NewDecryptRequest()
	dec.CiphertextBlob = dataKey.Response.CiphertextBlob
	recovered, err := client.Decrypt(dec)
	if err != nil {
		return fmt.Errorf("Decrypt(data key): %w", err)
	}
	dk, _ = base64.StdEncoding.DecodeString(*recovered.Response.Plaintext)
	opened, err := openLocally(dk, sealed)
	clear(dk)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "envelope-decrypted %d bytes\n", len(opened))
	return nil
}

func sealLocally(key, plaintext []byte) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, plaintext, nil), nil
}

func openLocally(key, sealed []byte) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize() {
		return nil, fmt.Errorf("sealed data too short")
	}
	return aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], nil)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
