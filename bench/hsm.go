package main

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/keyhaven/keyhaven/backend/pkcs11"
)

// The -hsm mode: the operations of -ops that a PKCS #11 token supports run
// again, after the software ones, against a keyhaven child configured with
// a SoftHSM2 token made in the bench's temporary directory, on keys created
// with ProtectionLevel HSM. Their rows are named after the software ones
// with hsmSuffix.
const (
	defaultHSMModule = "/usr/lib/softhsm/libsofthsm2.so" // Debian's softhsm2 package
	protectionHSM    = "HSM"                             // CreateKey's ProtectionLevel
	hsmSuffix        = "-" + protectionHSM
	hsmTokenLabel    = "keyhaven-bench"
)

// levelSuffix is what the names of the operations on keys of protection
// level end in: nothing for the default (software) level.
func levelSuffix(level string) string {
	if level == "" {
		return ""
	}
	return "-" + level
}

// hsmCapable says whether the operation name has an HSM variant: all but
// SM2's, which PKCS #11 has no standard mechanism for.
func hsmCapable(name string) bool {
	if slices.Contains(symmetricOps, name) {
		return true
	}
	spec, ok := asymSpecByName(name)
	return ok && spec.usage != usageSM2Sign
}

// hsmInfo describes the HSM of the -hsm rows, or why there are none.
type hsmInfo struct {
	Module   string `json:"module"`
	Token    string `json:"token,omitempty"`
	Sessions int    `json:"sessions"` // the server's PKCS #11 session pool
	// Skipped says why no HSM row was measured.
	Skipped string `json:"skipped,omitempty"`
}

// softToken is a SoftHSM2 token in a directory of its own, reached through
// its own SOFTHSM2_CONF, never the machine's.
type softToken struct {
	conf    string // the SOFTHSM2_CONF file
	label   string
	pinFile string
}

// hsmAvailable returns nil if module and softhsm2-util are installed and
// this binary can use PKCS #11, and otherwise says what is missing.
func hsmAvailable(module string) error {
	if !cgoEnabled {
		return errors.New("this bench was built without cgo, which PKCS #11 needs (build with CGO_ENABLED=1)")
	}
	if _, err := os.Stat(module); err != nil {
		return fmt.Errorf("PKCS #11 module %s not found (apt-get install softhsm2, or give -hsm-module)", module)
	}
	if _, err := exec.LookPath("softhsm2-util"); err != nil {
		return errors.New("softhsm2-util not found (apt-get install softhsm2)")
	}
	return nil
}

// newSoftToken makes dir (which must not exist) with a SoftHSM2
// configuration whose token directory is inside it, a random user PIN in a
// 0600 file, and an initialized token labelled hsmTokenLabel.
func newSoftToken(dir string) (*softToken, error) {
	tokens := filepath.Join(dir, "tokens")
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		return nil, err
	}
	tok := &softToken{
		conf:    filepath.Join(dir, "softhsm2.conf"),
		label:   hsmTokenLabel,
		pinFile: filepath.Join(dir, "user.pin"),
	}
	body := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens)
	if err := os.WriteFile(tok.conf, []byte(body), 0o600); err != nil {
		return nil, err
	}
	pin, soPIN := randomPIN(), randomPIN()
	if err := os.WriteFile(tok.pinFile, []byte(pin+"\n"), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command("softhsm2-util", "--init-token", "--free", "--label", tok.label, "--pin", pin, "--so-pin", soPIN)
	cmd.Env = append(os.Environ(), tok.env()...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("softhsm2-util --init-token --label %s: %v\n%s", tok.label, err, out)
	}
	return tok, nil
}

// randomPIN returns a throwaway PIN of 16 hex digits.
func randomPIN() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// env is what a process that uses the token needs in its environment.
func (tok *softToken) env() []string { return []string{"SOFTHSM2_CONF=" + tok.conf} }

// childFlags are the keyhaven child's flags for the token.
func (tok *softToken) childFlags(module string, sessions int) []string {
	return []string{
		"-hsm-module=" + module,
		"-hsm-token-label=" + tok.label,
		"-hsm-pin-file=" + tok.pinFile,
		"-hsm-sessions=" + strconv.Itoa(sessions),
	}
}

// setupHSM is the start of the -hsm mode: it records in rep which operations
// will get HSM rows and makes their token in dir. It returns a nil token,
// and says why on stderr and in rep, when there is nothing to measure or
// SoftHSM2 is missing; only a token it cannot make is an error.
func setupHSM(cfg config, rep *report, dir string) (*softToken, error) {
	info := &hsmInfo{Module: cfg.hsmModule, Sessions: cfg.hsmSessions}
	if info.Sessions == 0 {
		info.Sessions = pkcs11.DefaultSessions
	}
	rep.Env.HSM = info
	if !slices.ContainsFunc(cfg.ops, hsmCapable) {
		info.Skipped = "no operation of -ops has an HSM variant (SM2 has none)"
	} else if err := hsmAvailable(cfg.hsmModule); err != nil {
		info.Skipped = err.Error()
	}
	if info.Skipped != "" {
		fmt.Fprintf(os.Stderr, "bench: -hsm: skipping the HSM rows: %s\n", info.Skipped)
		return nil, nil
	}
	tok, err := newSoftToken(filepath.Join(dir, "softhsm2"))
	if err != nil {
		return nil, fmt.Errorf("-hsm: SoftHSM2 token: %w", err)
	}
	info.Token = tok.label
	return tok, nil
}

// measureHSM runs the HSM-capable operations of cfg.ops against a keyhaven
// child that uses tok with sessions PKCS #11 sessions, on HSM-protected keys
// in a fresh data dir.
func measureHSM(ctx context.Context, cfg config, rep *report, roots *x509.CertPool, tlsFlags []string, dir string, ticks int64, tok *softToken, sessions int) error {
	var names []string
	for _, name := range cfg.ops {
		if hsmCapable(name) {
			names = append(names, name)
		}
	}
	flags := append(slices.Clone(tlsFlags), "-data-dir="+filepath.Join(dir, "data-hsm"))
	flags = append(flags, tok.childFlags(cfg.hsmModule, sessions)...)
	return withServer(kindKeyhaven, cfg, roots, flags, tok.env(), func(ch *child, t *target) error {
		ops, err := prepare(t, names, protectionHSM)
		if err != nil {
			return fmt.Errorf("HSM setup: %w", err)
		}
		for _, name := range names {
			if err := ctx.Err(); err != nil {
				return err
			}
			r, err := measure(ctx, cfg, ch, t, ops[name], ticks, name+hsmSuffix)
			if r != nil {
				rep.add(r)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}
