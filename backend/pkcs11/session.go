//go:build cgo

package pkcs11

import (
	"context"
	"errors"
	"fmt"

	p11 "github.com/miekg/pkcs11"
)

// pool is a fixed number of read-write sessions on one token. A session
// runs one operation at a time (PKCS #11 allows one active operation of a
// kind per session), so each operation takes a session from the pool for
// its duration; concurrent operations use different sessions and only wait
// when all are busy.
//
// The free channel holds one entry per pool slot: a live session handle, or
// noSession for a slot whose session was lost and is reopened on next use.
type pool struct {
	mod   *module
	slot  uint
	token string
	pin   *secret
	free  chan p11.SessionHandle
}

// noSession marks a pool slot without a session (CK_INVALID_HANDLE).
const noSession p11.SessionHandle = 0

var errClosed = errors.New("pkcs11: backend is closed")

// newPool opens size sessions and logs the token in. It returns the error
// of the first session or login that fails, having closed what it opened.
func newPool(mod *module, slot uint, token string, pin *secret, size int) (*pool, error) {
	p := &pool{mod: mod, slot: slot, token: token, pin: pin, free: make(chan p11.SessionHandle, size)}
	for range size {
		sh, err := p.open()
		if err != nil {
			p.close()
			return nil, err
		}
		p.free <- sh
	}
	return p, nil
}

// open opens a read-write session and makes sure the process is logged in
// (logging in again after every session was lost, which logs a token out).
func (p *pool) open() (p11.SessionHandle, error) {
	sh, err := p.mod.ctx.OpenSession(p.slot, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
	if err != nil {
		return noSession, fmt.Errorf("pkcs11: open session on token %q: %w", p.token, err)
	}
	if err := p.mod.login(sh, p.slot, p.token, p.pin); err != nil {
		p.mod.ctx.CloseSession(sh)
		return noSession, err
	}
	return sh, nil
}

// close closes every idle session. Sessions in use are not waited for; the
// Backend's Close documents that operations must have ended.
func (p *pool) close() {
	for {
		select {
		case sh := <-p.free:
			if sh != noSession {
				p.mod.ctx.CloseSession(sh)
			}
		default:
			return
		}
	}
}

// do runs op on a session from the pool. If op fails because the session is
// gone (closed, invalid handle, device removed) or was left with an
// operation active, the session is replaced by a new one and op runs once
// more on it. It returns ctx's error if ctx ends before a session is free.
func (p *pool) do(ctx context.Context, op func(sh p11.SessionHandle) error) error {
	var sh p11.SessionHandle
	select {
	case sh = <-p.free:
	case <-ctx.Done():
		return fmt.Errorf("pkcs11: wait for a session on token %q: %w", p.token, ctx.Err())
	}
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		if sh == noSession {
			if sh, err = p.open(); err != nil {
				break
			}
		}
		err = op(sh)
		if !sessionBroken(err) {
			break
		}
		p.mod.ctx.CloseSession(sh) // best effort; it is usually gone already
		sh = noSession
	}
	p.free <- sh
	return err
}

// sessionBroken reports whether err means the session cannot be used any
// more (or is stuck in an operation) and should be replaced.
func sessionBroken(err error) bool {
	for _, code := range []uint{
		p11.CKR_SESSION_HANDLE_INVALID, p11.CKR_SESSION_CLOSED, p11.CKR_DEVICE_REMOVED,
		p11.CKR_TOKEN_NOT_PRESENT, p11.CKR_OPERATION_ACTIVE, p11.CKR_USER_NOT_LOGGED_IN,
	} {
		if isCode(err, code) {
			return true
		}
	}
	return false
}
