package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestCLIKeyCommands(t *testing.T) {
	e := startCLI(t, true)
	out := e.ok("", "key", "create", "--alias", "app", "--description", "app secrets", "--tag", "team=a")
	for _, want := range []string{"KeyId", "app secrets", "Enabled", "RequestId"} {
		if !strings.Contains(out, want) {
			t.Errorf("key create table lacks %q:\n%s", want, out)
		}
	}
	id := str(e.json("key", "describe", "--key-id", "alias/app"), "KeyMetadata", "KeyId")
	if len(id) != 36 {
		t.Fatalf("key describe --key-id alias/app: KeyId %q", id)
	}
	e.json("key", "create", "--alias", "signer", "--key-usage", "ASYMMETRIC_SIGN_VERIFY_ECC")

	if out := e.ok("", "key", "list"); !strings.Contains(out, "KeyMetadatas:") || !strings.Contains(out, "signer") || !strings.Contains(out, "ASYMMETRIC_SIGN_VERIFY_ECC") {
		t.Errorf("key list table:\n%s", out)
	}
	if got := str(e.json("key", "list"), "TotalCount"); got != "2" {
		t.Errorf("key list: TotalCount %s, want 2 (every usage)", got)
	}
	if got := str(e.json("key", "list", "--key-usage", "ENCRYPT_DECRYPT", "--key-state", "enabled"), "TotalCount"); got != "1" {
		t.Errorf("key list --key-usage ENCRYPT_DECRYPT: TotalCount %s, want 1", got)
	}

	steps := []struct {
		args  []string
		field []string // a JSON member to check, and its value
		want  string
		state string // the key's state after the step ("" to skip)
	}{
		{[]string{"key", "update", "--key-id", "app", "--alias", "app2", "--description", "new"}, []string{"KeyMetadata", "Description"}, "new", "Enabled"},
		{[]string{"key", "disable", "--key-id", "alias/app2"}, nil, "", "Disabled"},
		{[]string{"key", "enable", "--key-id", "app2", "--key-id", "signer"}, nil, "", "Enabled"},
		{[]string{"key", "rotate", "--key-id", "app2"}, []string{"KeyVersion"}, "2", ""},
		{[]string{"key", "rotation", "enable", "--key-id", "app2", "--rotate-days", "30"}, nil, "", ""},
		{[]string{"key", "rotation", "status", "--key-id", "app2"}, []string{"RotateDays"}, "30", ""},
		{[]string{"key", "rotation", "disable", "--key-id", "app2"}, nil, "", ""},
		{[]string{"key", "rotation", "status", "--key-id", "app2"}, []string{"KeyRotationEnabled"}, "false", ""},
		{[]string{"key", "archive", "--key-id", "app2"}, nil, "", "Archived"},
		{[]string{"key", "cancel-archive", "--key-id", "app2"}, nil, "", "Enabled"},
		{[]string{"key", "disable", "--key-id", id}, nil, "", "Disabled"},
		{[]string{"key", "schedule-deletion", "--key-id", "app2", "--pending-window-in-days", "7"}, []string{"KeyId"}, id, "PendingDelete"},
		{[]string{"key", "cancel-deletion", "--key-id", "app2"}, []string{"KeyId"}, id, "Disabled"},
	}
	for _, s := range steps {
		m := e.json(s.args...)
		if str(m, "RequestId") == "" {
			t.Errorf("keyhaven %s: no RequestId in %v", strings.Join(s.args, " "), m)
		}
		if s.field != nil && str(m, s.field...) != s.want {
			t.Errorf("keyhaven %s: %s = %q, want %q", strings.Join(s.args, " "), strings.Join(s.field, "."), str(m, s.field...), s.want)
		}
		if s.state != "" {
			if got := str(e.json("key", "describe", "--key-id", id), "KeyMetadata", "KeyState"); got != s.state {
				t.Errorf("after keyhaven %s the key is %s, want %s", strings.Join(s.args, " "), got, s.state)
			}
		}
	}
	// Table output of times is readable.
	if out := e.ok("", "key", "describe", "--key-id", "app2"); !strings.Contains(out, "DeletionDate") || !strings.Contains(out, "T") {
		t.Errorf("key describe table:\n%s", out)
	}
}

func TestCLICrypto(t *testing.T) {
	e := startCLI(t, true)
	e.ok("", "key", "create", "--alias", "app")
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret.bin")
	os.WriteFile(secretFile, []byte{0, 1, 2, 250}, 0o600)
	encCtx := `{"app":"x"}`

	enc := e.json("encrypt", "--key-id", "alias/app", "--plaintext", "fileb://"+secretFile, "--encryption-context", encCtx)
	blob := str(enc, "CiphertextBlob")
	blobFile := filepath.Join(dir, "blob.txt")
	os.WriteFile(blobFile, []byte(blob+"\n"), 0o600)
	dec := e.json("decrypt", "--ciphertext-blob", "@"+blobFile, "--encryption-context", encCtx)
	if got := str(dec, "Plaintext"); got != base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 250}) {
		t.Errorf("decrypt Plaintext = %q", got)
	}
	// stdin in, raw bytes out.
	e.ok("hello", "encrypt", "--key-id", "app", "--plaintext", "-", "--out", filepath.Join(dir, "blob.bin"))
	outFile := filepath.Join(dir, "plain.out")
	if out := e.ok("", "decrypt", "--ciphertext-blob", "fileb://"+filepath.Join(dir, "blob.bin"), "--out", outFile); strings.Contains(out, "Plaintext") {
		t.Errorf("decrypt --out still printed the plaintext:\n%s", out)
	}
	if b, _ := os.ReadFile(outFile); string(b) != "hello" {
		t.Errorf("decrypt --out wrote %q", b)
	}
	if out := e.ok("", "decrypt", "--ciphertext-blob", "fileb://"+filepath.Join(dir, "blob.bin"), "--out", "-"); out != "hello" {
		t.Errorf("decrypt --out - printed %q, want the raw plaintext only", out)
	}
	// A wrong context fails with the API's code.
	r := e.run("", "decrypt", "--ciphertext-blob", blob, "--encryption-context", `{"app":"y"}`)
	if r.code != 1 || !strings.Contains(r.stderr, "InvalidParameterValue.InvalidCiphertext") || r.stdout != "" {
		t.Errorf("decrypt with a wrong context: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	e.ok("", "key", "create", "--alias", "other")
	re := e.json("reencrypt", "--ciphertext-blob", blob, "--destination-key-id", "other", "--source-encryption-context", encCtx)
	if str(re, "ReEncrypted") != "true" || str(re, "KeyId") == str(re, "SourceKeyId") {
		t.Errorf("reencrypt = %v", re)
	}
	dk := e.json("data-key", "--key-id", "app", "--key-spec", "AES_128")
	if b, _ := base64.StdEncoding.DecodeString(str(dk, "Plaintext")); len(b) != 16 || str(dk, "CiphertextBlob") == "" {
		t.Errorf("data-key --key-spec AES_128 = %v", dk)
	}
	keyFile := filepath.Join(dir, "dk.bin")
	if dk := e.json("data-key", "--key-id", "app", "--out", keyFile); str(dk, "Plaintext") != "" || str(dk, "CiphertextBlob") == "" {
		t.Errorf("data-key --out printed %v", dk)
	}
	if b, _ := os.ReadFile(keyFile); len(b) != 32 {
		t.Errorf("data-key --out wrote %d bytes", len(b))
	}
	if b, _ := base64.StdEncoding.DecodeString(str(e.json("random", "--number-of-bytes", "24"), "Plaintext")); len(b) != 24 {
		t.Errorf("random --number-of-bytes 24 gave %d bytes", len(b))
	}
	if out := e.ok("", "random", "--number-of-bytes", "7", "--out", "-"); len(out) != 7 {
		t.Errorf("random --out - printed %d bytes", len(out))
	}
	if out := e.ok("", "service", "algorithms"); !strings.Contains(out, "AES_256") {
		t.Errorf("service algorithms:\n%s", out)
	}
	if got := str(e.json("service", "status"), "ServiceEnabled"); got != "true" {
		t.Errorf("service status: ServiceEnabled %s", got)
	}
	if out := e.ok("", "service", "regions"); !strings.Contains(out, "local") {
		t.Errorf("service regions:\n%s", out)
	}
}

func TestCLIAsymmetric(t *testing.T) {
	e := startCLI(t, true)
	e.ok("", "key", "create", "--alias", "signer", "--key-usage", "ASYMMETRIC_SIGN_VERIFY_ECC")
	dir := t.TempDir()
	msg := filepath.Join(dir, "m")
	os.WriteFile(msg, []byte("message"), 0o600)
	sigFile := filepath.Join(dir, "m.sig")
	e.ok("", "sign", "--key-id", "signer", "--algorithm", "ECC_P256_R1", "--message", "fileb://"+msg, "--out", sigFile)

	if out := e.ok("", "verify", "--key-id", "signer", "--algorithm", "ECC_P256_R1", "--message", "fileb://"+msg, "--signature-value", "fileb://"+sigFile); !strings.Contains(out, "true") {
		t.Errorf("verify of a good signature:\n%s", out)
	}
	os.WriteFile(msg, []byte("massage"), 0o600)
	r := e.run("", "verify", "--key-id", "signer", "--algorithm", "ECC_P256_R1", "--message", "fileb://"+msg, "--signature-value", "fileb://"+sigFile, "-o", "json")
	if r.code != 1 || !strings.Contains(r.stdout, `"SignatureValid": false`) || !strings.Contains(r.stderr, "not valid") {
		t.Errorf("verify of a bad signature: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	e.ok("", "key", "create", "--alias", "rsa", "--key-usage", "ASYMMETRIC_DECRYPT_RSA_2048")
	pemFile := filepath.Join(dir, "rsa.pem")
	e.ok("", "public-key", "--key-id", "alias/rsa", "--out", pemFile)
	raw, _ := os.ReadFile(pemFile)
	block, _ := pem.Decode(raw)
	if block == nil {
		t.Fatalf("public-key --out wrote %q", raw)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub.(*rsa.PublicKey), []byte("for rsa"), nil)
	out := e.ok("", "asymmetric-decrypt", "--key-id", "rsa", "--ciphertext", base64.StdEncoding.EncodeToString(ct), "--out", "-")
	if out != "for rsa" {
		t.Errorf("asymmetric-decrypt = %q", out)
	}
}

func TestCLIEnvelope(t *testing.T) {
	e := startCLI(t, true)
	e.ok("", "key", "create", "--alias", "files")
	data := make([]byte, 200<<10+3)
	rand.Read(data)
	sealed := e.ok(string(data), "envelope", "encrypt", "--key", "alias/files", "--context", "app=x", "--context", "env=test")
	if got := e.ok(sealed, "envelope", "decrypt", "--context", "env=test", "--context", "app=x"); got != string(data) {
		t.Fatalf("envelope decrypt gave %d bytes, want the %d encrypted", len(got), len(data))
	}
	if h := e.jsonIn(sealed, "envelope", "inspect"); str(h, "Algorithm") != "AES-256-GCM" || str(h, "EncryptionContext") != `{"app":"x","env":"test"}` {
		t.Errorf("envelope inspect = %v", h)
	}

	dir := t.TempDir()
	in, enc, out := filepath.Join(dir, "in"), filepath.Join(dir, "in.khv"), filepath.Join(dir, "out")
	os.WriteFile(in, data, 0o600)
	e.ok("", "envelope", "encrypt", "--key-id", "files", "--in", in, "--out", enc, "--context", "app=x")
	cases := []struct {
		name    string
		stream  func([]byte) []byte
		context []string
		want    string
	}{
		{"wrong context", nil, []string{"--context", "app=y"}, "encryption context does not match"},
		{"missing context", nil, nil, "encryption context does not match"},
		{"flipped bit", func(b []byte) []byte { b[len(b)/2] ^= 1; return b }, []string{"--context", "app=x"}, "authentication failed"},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1000] }, []string{"--context", "app=x"}, "authentication failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := enc
			if tc.stream != nil {
				b, _ := os.ReadFile(enc)
				src = filepath.Join(dir, "bad.khv")
				os.WriteFile(src, tc.stream(b), 0o600)
			}
			r := e.run("", append([]string{"envelope", "decrypt", "--in", src, "--out", out}, tc.context...)...)
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a failed decryption left %s", out)
			}
		})
	}
	e.ok("", "envelope", "decrypt", "--in", enc, "--out", out, "--context", "app=x")
	if b, _ := os.ReadFile(out); string(b) != string(data) {
		t.Errorf("envelope decrypt --out wrote %d bytes", len(b))
	}
}

// jsonIn is json with stdin.
func (e *cliEnv) jsonIn(stdin string, args ...string) map[string]any {
	e.t.Helper()
	r := e.run(stdin, append(args, "--output", "json")...)
	if r.code != 0 {
		e.t.Fatalf("keyhaven %s: %s", strings.Join(args, " "), r.stderr)
	}
	return decodeJSON(e.t, r.stdout)
}

// TestCLICredentials checks where settings come from: flags (before or
// after the subcommand), the environment, and profiles written by configure.
func TestCLICredentials(t *testing.T) {
	e := startCLI(t, false)
	r := e.run("", "random")
	if r.code != 1 || !strings.Contains(r.stderr, "no credentials") {
		t.Errorf("random without credentials: exit %d, %q", r.code, r.stderr)
	}
	flags := []string{"--endpoint", e.endpoint, "--secret-id", cliSecretID, "--secret-key", cliSecretKey}
	e.ok("", append([]string{"random"}, flags...)...)
	e.ok("", append(flags, "random")...)

	// configure: the default profile from prompts, "prod" from flags.
	stdin := e.endpoint + "\n" + cliSecretID + "\n" + cliSecretKey + "\njson\n"
	e.ok(stdin, "configure")
	e.ok("", "configure", "--profile", "prod", "--endpoint", e.endpoint, "--secret-id", cliSecretID, "--secret-key", cliSecretKey, "--output", "table")
	path := filepath.Join(e.home, ".keyhaven", "config")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, mode %v; want 0600", path, err, fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	for _, want := range []string{"[default]", "[prod]", "endpoint = " + e.endpoint, "secret_id = " + cliSecretID, "output = json"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("config lacks %q:\n%s", want, raw)
		}
	}
	decodeJSON(t, e.ok("", "random")) // the default profile's output is json
	if out := e.ok("", "random", "--profile", "prod"); !strings.HasPrefix(out, "Plaintext") {
		t.Errorf("random --profile prod (table):\n%s", out)
	}
	t.Setenv(envProfile, "prod")
	if out := e.ok("", "random"); !strings.HasPrefix(out, "Plaintext") {
		t.Errorf("random with %s=prod:\n%s", envProfile, out)
	}
	t.Setenv(envProfile, "")
	// Re-running configure with empty answers keeps the values.
	e.ok("\n\n\n\n", "configure")
	if raw2, _ := os.ReadFile(path); string(raw2) != string(raw) {
		t.Errorf("configure with empty answers changed the file:\n%s\nto\n%s", raw, raw2)
	}

	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unknown profile", nil, []string{"random", "--profile", "nope"}, `profile "nope" is not in`},
		{"environment over profile", map[string]string{envSecretKey: "wrong"}, []string{"random"}, "AuthFailure.SignatureFailure"},
		{"flag over environment", map[string]string{envSecretKey: cliSecretKey}, []string{"random", "--secret-key", "wrong"}, "AuthFailure.SignatureFailure"},
		{"bad output", nil, []string{"random", "--output", "yaml"}, "--output is table or json"},
		{"bad endpoint", nil, []string{"random", "--endpoint", "127.0.0.1:1"}, "not an http:// or https:// URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			r := e.run("", tc.args...)
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("keyhaven %s: exit %d, stderr %q; want 1 and %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.want)
			}
		})
	}
}

func TestCLIErrors(t *testing.T) {
	e := startCLI(t, true)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown key", []string{"key", "describe", "--key-id", "00000000-0000-4000-8000-000000000000"}, "ResourceUnavailable.CmkNotFound"},
		{"unknown alias", []string{"encrypt", "--key-id", "alias/nope", "--plaintext", "aGk="}, "no key has this alias"},
		{"bad base64", []string{"decrypt", "--ciphertext-blob", "not base64!"}, "is not base64"},
		{"missing file", []string{"decrypt", "--ciphertext-blob", "fileb:///nonexistent"}, "no such file"},
		{"bad context", []string{"decrypt", "--ciphertext-blob", "aGk=", "--encryption-context", "app=x"}, "JSON object of strings"},
		{"missing flag", []string{"key", "create"}, `"alias" not set`},
		{"bad alias", []string{"key", "create", "--alias", "-x"}, "InvalidParameterValue.InvalidAlias"},
		{"bad window", []string{"key", "schedule-deletion", "--key-id", "00000000-0000-4000-8000-000000000000", "--pending-window-in-days", "3"}, "InvalidParameter.InvalidPendingWindowInDays"},
		{"bad key state", []string{"key", "list", "--key-state", "Gone"}, "--key-state is one of"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.run("", tc.args...)
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
				t.Errorf("keyhaven %s: exit %d, stdout %q, stderr %q; want exit 1 and %q", strings.Join(tc.args, " "), r.code, r.stdout, r.stderr, tc.want)
			}
		})
	}
}

// TestCLIHelpHasExamples checks that every command's help but the server's
// has an example. (server is not a client command and has tests of its own.)
func TestCLIHelpHasExamples(t *testing.T) {
	root := newRoot()
	if root.Example == "" {
		t.Error("keyhaven --help has no example")
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			switch sub.Name() {
			case "server", "help", "completion":
				continue
			}
			if sub.Example == "" {
				t.Errorf("keyhaven %s --help has no example", strings.TrimPrefix(sub.CommandPath(), "keyhaven "))
			}
			walk(sub)
		}
	}
	walk(root)
}
