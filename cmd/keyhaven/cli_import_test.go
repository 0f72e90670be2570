package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIImport brings key material into an EXTERNAL key with `keyhaven key
// import` (wrapped here, and wrapped beforehand as with openssl), deletes it
// and imports the same file again: what was encrypted before decrypts.
func TestCLIImport(t *testing.T) {
	e := startCLI(t, true)
	dir := t.TempDir()
	material := filepath.Join(dir, "material.bin")
	m := make([]byte, 32)
	rand.Read(m)
	os.WriteFile(material, m, 0o600)
	state := func() string { return str(e.json("key", "describe", "--key-id", "byok"), "KeyMetadata", "KeyState") }

	k := e.json("key", "create", "--alias", "byok", "--type", "2")
	id := str(k, "KeyId")
	if str(k, "KeyState") != "PendingImport" {
		t.Fatalf("key create --type 2 = %v, want PendingImport", k)
	}
	e.fails("ResourceUnavailable", "encrypt", "--key-id", "byok", "--plaintext", "aGk=")

	imp := e.json("key", "import", "--key-id", "alias/byok", "--material", "fileb://"+material, "--valid-to", "2030-01-01T00:00:00Z")
	if str(imp, "KeyId") != id || str(imp, "RequestId") == "" {
		t.Errorf("key import = %v", imp)
	}
	d := e.json("key", "describe", "--key-id", "byok")
	if str(d, "KeyMetadata", "KeyState") != "Enabled" || str(d, "KeyMetadata", "Origin") != "EXTERNAL" || str(d, "KeyMetadata", "ValidTo") != "1893456000" {
		t.Errorf("after key import: %v", d)
	}
	blob := str(e.json("encrypt", "--key-id", "byok", "--plaintext", "fileb://"+material), "CiphertextBlob")

	if out := e.ok("", "key", "delete-imported-material", "--key-id", "byok"); !strings.Contains(out, "RequestId") {
		t.Errorf("key delete-imported-material:\n%s", out)
	}
	if got := state(); got != "PendingImport" {
		t.Errorf("after delete-imported-material the key is %s, want PendingImport", got)
	}
	e.fails("ResourceUnavailable", "decrypt", "--ciphertext-blob", blob)

	// Other material is refused; the same file, with another algorithm, is not.
	other := filepath.Join(dir, "other.bin")
	os.WriteFile(other, make([]byte, 32), 0o600)
	e.fails("InvalidParameterValue.MaterialNotMatch", "key", "import", "--key-id", "byok", "--material", "fileb://"+other)
	if out := e.ok("", "key", "import", "--key-id", "byok", "--material", "fileb://"+material, "--wrapping-algorithm", "RSAES_PKCS1_V1_5"); !strings.Contains(out, id) {
		t.Errorf("key import (table):\n%s", out)
	}
	if got := str(e.json("decrypt", "--ciphertext-blob", blob), "Plaintext"); got != base64.StdEncoding.EncodeToString(m) {
		t.Errorf("decrypt after re-import = %q", got)
	}

	// Wrapped beforehand, as openssl would: get-parameters-for-import, then
	// import --encrypted-key-material with the token.
	e.ok("", "key", "delete-imported-material", "--key-id", "byok")
	der := filepath.Join(dir, "wrapping.der")
	p := e.json("key", "get-parameters-for-import", "--key-id", "byok", "--out", der)
	if str(p, "PublicKey") != "" || str(p, "ImportToken") == "" || str(p, "ParametersValidTo") == "" {
		t.Errorf("get-parameters-for-import --out printed %v", p)
	}
	raw, _ := os.ReadFile(der)
	pub, err := x509.ParsePKIXPublicKey(raw)
	if err != nil {
		t.Fatalf("get-parameters-for-import --out wrote no DER public key: %v", err)
	}
	wrapped, _ := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub.(*rsa.PublicKey), m, nil)
	wrappedFile := filepath.Join(dir, "wrapped.bin")
	os.WriteFile(wrappedFile, wrapped, 0o600)
	e.json("key", "import", "--key-id", "byok", "--encrypted-key-material", "fileb://"+wrappedFile, "--import-token", str(p, "ImportToken"))
	if got := state(); got != "Enabled" {
		t.Errorf("after import --encrypted-key-material the key is %s", got)
	}
	e.fails("ResourceUnavailable.TokenExpired", "key", "import", "--key-id", "byok", "--encrypted-key-material", "fileb://"+wrappedFile, "--import-token", str(p, "ImportToken"))
	if got := str(e.json("key", "get-parameters-for-import", "--key-id", "byok", "--wrapping-algorithm", "RSAES_OAEP_SHA_1"), "PublicKey"); got == "" {
		t.Error("get-parameters-for-import printed no PublicKey")
	}

	e.json("key", "create", "--alias", "own")
	cases := []struct {
		want string
		args []string
	}{
		{"give --material", []string{"key", "import", "--key-id", "byok"}},
		{"give --material", []string{"key", "import", "--key-id", "byok", "--material", "fileb://" + material, "--encrypted-key-material", "aGk="}},
		{"go together", []string{"key", "import", "--key-id", "byok", "--encrypted-key-material", "aGk="}},
		{"wrapping algorithm \"RSA_RAW\"", []string{"key", "import", "--key-id", "byok", "--material", "fileb://" + material, "--wrapping-algorithm", "RSA_RAW"}},
		{"--valid-to is Unix seconds or an RFC 3339 time", []string{"key", "import", "--key-id", "byok", "--material", "fileb://" + material, "--valid-to", "tomorrow"}},
		{"InvalidParameter", []string{"key", "import", "--key-id", "byok", "--material", "fileb://" + material, "--valid-to", "1000"}},
		{"UnsupportedOperation.NotExternalCmk", []string{"key", "import", "--key-id", "own", "--material", "fileb://" + material}},
		{"UnsupportedOperation.NotExternalCmk", []string{"key", "delete-imported-material", "--key-id", "own"}},
		{"UnsupportedOperation", []string{"key", "get-parameters-for-import", "--key-id", "byok", "--wrapping-algorithm", "SM2PKE"}},
		{"no key has this alias", []string{"key", "import", "--key-id", "nope", "--material", "fileb://" + material}},
	}
	for _, tc := range cases {
		e.fails(tc.want, tc.args...)
	}
}
