// Package pkcs11test makes SoftHSM2 tokens for the tests of the HSM backend,
// the PKCS #11 root seal and the server. Main points SOFTHSM2_CONF at a
// fresh token directory for one test binary; NewToken initializes a token
// there, or skips the test with a clear message when SoftHSM2 is not
// installed (Debian package softhsm2), so that `go test ./...` passes on a
// bare machine.
//
// It is imported only by tests and imports only the standard library.
package pkcs11test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Module is where the Debian softhsm2 package installs SoftHSM2's PKCS #11
// library.
const Module = "/usr/lib/softhsm/libsofthsm2.so"

// PIN and SOPIN are the PINs of every test token.
const (
	PIN   = "1234-user-pin"
	SOPIN = "5678-so-pin"
)

// dirVar names the token directory Main made; NewToken refuses to run
// without it, so a test can never touch a real SoftHSM2 configuration.
const dirVar = "KEYHAVEN_TEST_SOFTHSM2_DIR"

// Token is an initialized test token.
type Token struct {
	Module string
	Label  string
	PIN    string
}

// Available returns nil if SoftHSM2 (its module and softhsm2-util) is
// installed, and otherwise an error saying what is missing.
func Available() error {
	if _, err := os.Stat(Module); err != nil {
		return fmt.Errorf("SoftHSM2 module %s not found (apt-get install softhsm2)", Module)
	}
	if _, err := exec.LookPath("softhsm2-util"); err != nil {
		return fmt.Errorf("softhsm2-util not found (apt-get install softhsm2)")
	}
	return nil
}

// Main runs a test binary's tests (call it from TestMain) with
// SOFTHSM2_CONF pointing at a configuration whose token directory is a new
// temporary directory, removed afterwards. Without SoftHSM2 it just runs
// the tests; NewToken skips them.
func Main(m *testing.M) {
	dir, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pkcs11test:", err)
		os.Exit(1)
	}
	code := m.Run()
	if dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

func setup() (string, error) {
	if Available() != nil {
		return "", nil
	}
	dir, err := os.MkdirTemp("", "keyhaven-softhsm2-")
	if err != nil {
		return "", err
	}
	tokens := filepath.Join(dir, "tokens")
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		return "", err
	}
	body := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		return "", err
	}
	os.Setenv("SOFTHSM2_CONF", conf)
	os.Setenv(dirVar, dir)
	return dir, nil
}

// NewToken initializes a token labelled label (unique within the test
// binary) with PIN and SOPIN and returns it. SoftHSM2 reads its token
// directory when its module is initialized, that is when the first Backend
// of the process opens: a test that needs several tokens at once makes
// them all before opening any. It skips t if SoftHSM2 is not
// installed and fails it if Main did not set up the token directory.
func NewToken(t testing.TB, label string) Token {
	t.Helper()
	if err := Available(); err != nil {
		t.Skipf("skipping HSM test: %v", err)
	}
	if os.Getenv(dirVar) == "" {
		t.Fatal("pkcs11test: call pkcs11test.Main(m) from TestMain so that tests use a temporary token directory")
	}
	out, err := exec.Command("softhsm2-util", "--init-token", "--free", "--label", label, "--pin", PIN, "--so-pin", SOPIN).CombinedOutput()
	if err != nil {
		t.Fatalf("softhsm2-util --init-token --label %s: %v\n%s", label, err, out)
	}
	return Token{Module: Module, Label: label, PIN: PIN}
}
