//go:build cgo

package pkcs11

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"sync"

	p11 "github.com/miekg/pkcs11"
)

// A PKCS #11 module is process-wide state: C_Initialize may be called once
// per process, C_Finalize ends it for every user, and a token's login is
// shared by all sessions of the process. So the loaded modules are kept in
// one reference-counted registry, the only package-level state here;
// everything else hangs off a Backend.
var modules = struct {
	sync.Mutex
	m map[string]*module
}{m: map[string]*module{}}

// module is one loaded and initialized PKCS #11 library.
type module struct {
	path string
	ctx  *p11.Ctx
	refs int // guarded by modules.Mutex

	mu     sync.Mutex
	logins map[uint][sha256.Size]byte // slot → SHA-256 of the PIN that logged it in
}

// loadModule returns the module at path, loading and initializing it on
// first use. Every successful call must be paired with release.
func loadModule(path string) (*module, error) {
	modules.Lock()
	defer modules.Unlock()
	if m, ok := modules.m[path]; ok {
		m.refs++
		return m, nil
	}
	ctx := p11.New(path)
	if ctx == nil {
		return nil, fmt.Errorf("pkcs11: cannot load PKCS #11 module %s (missing file, or not a PKCS #11 library)", path)
	}
	if err := ctx.Initialize(); err != nil && !isCode(err, p11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		ctx.Destroy()
		return nil, fmt.Errorf("pkcs11: initialize module %s: %w", path, err)
	}
	m := &module{path: path, ctx: ctx, refs: 1, logins: map[uint][sha256.Size]byte{}}
	modules.m[path] = m
	return m, nil
}

// release drops one reference; the last one finalizes and unloads the
// module.
func (m *module) release() {
	modules.Lock()
	defer modules.Unlock()
	m.refs--
	if m.refs > 0 {
		return
	}
	delete(modules.m, m.path)
	m.ctx.Finalize()
	m.ctx.Destroy()
}

// findToken returns the slot holding the initialized token labelled label.
// Slot numbers are not stable across restarts (SoftHSM2 derives them from
// the token's serial; hardware reorders them), labels are.
func (m *module) findToken(label string) (uint, error) {
	slots, err := m.ctx.GetSlotList(true)
	if err != nil {
		return 0, fmt.Errorf("pkcs11: list slots of module %s: %w", m.path, err)
	}
	var (
		found  []uint
		labels []string
	)
	for _, s := range slots {
		info, err := m.ctx.GetTokenInfo(s)
		if err != nil || info.Flags&p11.CKF_TOKEN_INITIALIZED == 0 {
			continue
		}
		l := strings.TrimRight(info.Label, " \x00")
		labels = append(labels, fmt.Sprintf("%q", l))
		if l == label {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		have := "none"
		if len(labels) > 0 {
			have = strings.Join(labels, ", ")
		}
		return 0, fmt.Errorf("pkcs11: module %s has no initialized token labelled %q (tokens present: %s)", m.path, label, have)
	default:
		return 0, fmt.Errorf("pkcs11: module %s has %d tokens labelled %q; labels must be unique", m.path, len(found), label)
	}
}

// login logs the process in to the token in slot as the normal user through
// session sh. A login is shared by every session of the process; when the
// token reports it is already logged in, the PIN is checked against the one
// that logged it in through this registry, so that a second Backend with a
// wrong PIN still fails. Errors never contain the PIN.
func (m *module) login(sh p11.SessionHandle, slot uint, token string, pin *secret) error {
	sum := sha256.Sum256(pin.b)
	m.mu.Lock()
	defer m.mu.Unlock()
	err := m.ctx.Login(sh, p11.CKU_USER, string(pin.b))
	switch {
	case err == nil:
		m.logins[slot] = sum
		return nil
	case isCode(err, p11.CKR_USER_ALREADY_LOGGED_IN):
		if prev, ok := m.logins[slot]; ok && subtle.ConstantTimeCompare(prev[:], sum[:]) != 1 {
			return fmt.Errorf("pkcs11: log in to token %q of module %s: wrong PIN (the token is logged in with another PIN in this process)", token, m.path)
		}
		m.logins[slot] = sum
		return nil
	case isCode(err, p11.CKR_PIN_INCORRECT), isCode(err, p11.CKR_PIN_LEN_RANGE), isCode(err, p11.CKR_PIN_INVALID):
		return fmt.Errorf("pkcs11: log in to token %q of module %s: wrong PIN (%v)", token, m.path, err)
	case isCode(err, p11.CKR_PIN_LOCKED):
		return fmt.Errorf("pkcs11: log in to token %q of module %s: the user PIN is locked (%v)", token, m.path, err)
	default:
		return fmt.Errorf("pkcs11: log in to token %q of module %s: %w", token, m.path, err)
	}
}

// isCode reports whether err is the PKCS #11 return value code.
func isCode(err error, code uint) bool {
	var e p11.Error
	return errors.As(err, &e) && uint(e) == code
}

// secret holds a PIN. It cannot be printed by accident.
type secret struct{ b []byte }

func (*secret) String() string   { return "[REDACTED]" }
func (*secret) GoString() string { return "[REDACTED]" }
func (s *secret) wipe()          { clear(s.b) }
