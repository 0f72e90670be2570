package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHSMCapable checks which operations get an HSM row: all but SM2's.
func TestHSMCapable(t *testing.T) {
	for _, op := range knownOps {
		if want := !strings.Contains(op, "SM2"); hsmCapable(op) != want {
			t.Errorf("hsmCapable(%s) = %v, want %v", op, !want, want)
		}
	}
	if hsmCapable("Nope") {
		t.Error("hsmCapable(Nope) = true")
	}
	if got := "Sign-P256" + levelSuffix(protectionHSM); got != "Sign-P256"+hsmSuffix || levelSuffix("") != "" {
		t.Errorf("levelSuffix: %q", got)
	}
}

// TestSoftToken makes a token in its own directory and finds it there
// through its own SOFTHSM2_CONF.
func TestSoftToken(t *testing.T) {
	if err := hsmAvailable(defaultHSMModule); err != nil {
		t.Skipf("skipping: %v", err)
	}
	tok, err := newSoftToken(filepath.Join(t.TempDir(), "softhsm2"))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(tok.pinFile)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 17 {
		t.Errorf("PIN file %s: %v, %v; want a 0600 file of 16 digits and a newline", tok.pinFile, fi, err)
	}
	cmd := exec.Command("softhsm2-util", "--show-slots")
	cmd.Env = append(os.Environ(), tok.env()...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), hsmTokenLabel) {
		t.Errorf("softhsm2-util --show-slots: %v; want the token %s in\n%s", err, hsmTokenLabel, out)
	}
}

// TestOpWidth checks that the op column stays 16 wide without -hsm.
func TestOpWidth(t *testing.T) {
	rep := &report{Results: []*result{{Op: "Encrypt audit=durable"}}}
	if w := rep.opWidth(); w != 16 {
		t.Errorf("without -hsm: width %d, want 16", w)
	}
	rep.Env.HSM = &hsmInfo{}
	if w := rep.opWidth(); w != len("Encrypt audit=durable") {
		t.Errorf("with -hsm: width %d, want %d", w, len("Encrypt audit=durable"))
	}
}
