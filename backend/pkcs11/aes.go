//go:build cgo

package pkcs11

import (
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	p11 "github.com/miekg/pkcs11"

	"github.com/keyhaven/keyhaven/kms"
)

const (
	gcmNonceSize = 12
	gcmTagSize   = 16
)

var errOpen = errors.New("pkcs11: AES-GCM message authentication failed")

// aesMaterial is an opened AES-256 key version in the token.
type aesMaterial struct {
	aead      *gcm
	destroyed atomic.Bool
}

var _ kms.SymmetricMaterial = (*aesMaterial)(nil)

// AEAD returns AES-256-GCM computed in the token (12-byte nonce, 16-byte
// tag).
func (m *aesMaterial) AEAD() cipher.AEAD { return m.aead }

// Destroy marks the material as released. There is nothing secret to wipe:
// it holds an object handle, and the key stays in the token. The AEAD stays
// usable for callers already holding it, as the software backend's does.
func (m *aesMaterial) Destroy() { m.destroyed.Store(true) }

// String returns a description without secrets.
func (m *aesMaterial) String() string { return "pkcs11 AES-256 key " + m.aead.name }

// LogValue returns the description for log/slog.
func (m *aesMaterial) LogValue() slog.Value { return slog.StringValue(m.String()) }

// gcm is a cipher.AEAD whose key is a token object: CKM_AES_GCM with the
// caller's 12-byte nonce as IV, and a 128-bit tag appended to the
// ciphertext (the layout crypto/cipher uses, so blobs look the same as the
// software backend's).
type gcm struct {
	key  *object
	name string
}

var _ cipher.AEAD = (*gcm)(nil)

func (*gcm) NonceSize() int { return gcmNonceSize }
func (*gcm) Overhead() int  { return gcmTagSize }

// Seal encrypts and authenticates plaintext in the token and appends the
// result to dst. cipher.AEAD's Seal cannot return an error, so Seal panics,
// as crypto/cipher does for a wrong nonce length, if the token fails to
// encrypt even after its session was replaced (a token gone for good);
// net/http turns that into a failed request.
func (g *gcm) Seal(dst, nonce, plaintext, additionalData []byte) []byte {
	if len(nonce) != gcmNonceSize {
		panic("pkcs11: incorrect nonce length given to GCM")
	}
	ct, err := g.seal(context.Background(), nonce, plaintext, additionalData)
	if err != nil {
		panic(fmt.Sprintf("pkcs11: AES-GCM encryption in the HSM failed: %v", err))
	}
	ret, out := sliceForAppend(dst, len(ct))
	copy(out, ct)
	return ret
}

// Open authenticates and decrypts ciphertext in the token and appends the
// plaintext to dst. It returns an error, never panics, if the ciphertext
// does not authenticate (altered bytes, other additional data or nonce,
// another key) or the token fails.
func (g *gcm) Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error) {
	if len(nonce) != gcmNonceSize || len(ciphertext) < gcmTagSize {
		return nil, errOpen
	}
	pt, err := g.open(context.Background(), nonce, ciphertext, additionalData)
	if err != nil {
		return nil, err
	}
	ret, out := sliceForAppend(dst, len(pt))
	copy(out, pt)
	clear(pt)
	return ret, nil
}

func (g *gcm) seal(ctx context.Context, nonce, plaintext, ad []byte) ([]byte, error) {
	var ct []byte
	c := g.key.b.ctx()
	err := g.key.use(ctx, func(sh p11.SessionHandle, key p11.ObjectHandle) error {
		params := p11.NewGCMParams(nonce, ad, gcmTagSize*8)
		defer params.Free()
		if err := c.EncryptInit(sh, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_GCM, params)}, key); err != nil {
			return err
		}
		var err error
		ct, err = c.Encrypt(sh, plaintext)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pkcs11: AES-GCM seal with %s: %w", g.name, err)
	}
	if len(ct) != len(plaintext)+gcmTagSize {
		return nil, fmt.Errorf("pkcs11: AES-GCM seal with %s returned %d bytes, want %d", g.name, len(ct), len(plaintext)+gcmTagSize)
	}
	return ct, nil
}

func (g *gcm) open(ctx context.Context, nonce, ciphertext, ad []byte) ([]byte, error) {
	var pt []byte
	var authErr bool
	c := g.key.b.ctx()
	err := g.key.use(ctx, func(sh p11.SessionHandle, key p11.ObjectHandle) error {
		params := p11.NewGCMParams(nonce, ad, gcmTagSize*8)
		defer params.Free()
		if err := c.DecryptInit(sh, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_GCM, params)}, key); err != nil {
			return err
		}
		var err error
		pt, err = c.Decrypt(sh, ciphertext)
		authErr = err != nil && !sessionBroken(err) && !isCode(err, p11.CKR_KEY_HANDLE_INVALID) && !isCode(err, p11.CKR_OBJECT_HANDLE_INVALID)
		return err
	})
	switch {
	case authErr:
		return nil, errOpen
	case err != nil:
		return nil, fmt.Errorf("pkcs11: AES-GCM open with %s: %w", g.name, err)
	case len(pt) != len(ciphertext)-gcmTagSize:
		clear(pt)
		return nil, errOpen
	}
	return pt, nil
}

// sliceForAppend extends in by n bytes, reusing its capacity when it can
// (as crypto/cipher does, so that in-place Seal works).
func sliceForAppend(in []byte, n int) (head, tail []byte) {
	if total := len(in) + n; cap(in) >= total {
		head = in[:total]
	} else {
		head = make([]byte, total)
		copy(head, in)
	}
	return head, head[len(in):]
}

// AESKey is a named AES-256 key in the token, created non-extractable and
// sensitive, that encrypts small secrets with AES-GCM. The root key seal
// provider (seal/pkcs11seal) wraps the root key with one. It is safe for
// concurrent use.
type AESKey struct {
	g *gcm
}

// NamedAESKey returns the AES-256 token key whose CKA_LABEL is label. If
// there is none and create is set, it generates one (CKA_ID = label) and
// reports created. It returns an error if there is none and create is not
// set, if more than one key has the label, or if the token fails.
func (b *Backend) NamedAESKey(ctx context.Context, label string, create bool) (key *AESKey, created bool, err error) {
	tmpl := []*p11.Attribute{
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_AES),
		p11.NewAttribute(p11.CKA_LABEL, label),
	}
	var h p11.ObjectHandle
	err = b.do(ctx, func(sh p11.SessionHandle) error {
		hs, err := findObjects(b.ctx(), sh, tmpl)
		switch {
		case err != nil:
			return err
		case len(hs) > 1:
			return fmt.Errorf("%d AES keys are labelled %q; want one", len(hs), label)
		case len(hs) == 1:
			h = hs[0]
			return nil
		case !create:
			return fmt.Errorf("no AES key is labelled %q", label)
		}
		h, err = b.ctx().GenerateKey(sh, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_GEN, nil)}, aesTemplate(label, []byte(label)))
		created = err == nil
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("pkcs11: token %q: named key: %w", b.token, err)
	}
	o := &object{b: b, class: p11.CKO_SECRET_KEY, keyType: p11.CKK_AES, id: []byte(label)}
	o.h.Store(uint64(h))
	return &AESKey{g: &gcm{key: o, name: label}}, created, nil
}

// Seal encrypts plaintext with AES-256-GCM in the token under a 12-byte
// nonce and returns ciphertext ‖ tag. It returns an error if the nonce is
// not 12 bytes or the token fails.
func (k *AESKey) Seal(ctx context.Context, nonce, plaintext, additionalData []byte) ([]byte, error) {
	if len(nonce) != gcmNonceSize {
		return nil, fmt.Errorf("pkcs11: nonce is %d bytes, want %d", len(nonce), gcmNonceSize)
	}
	return k.g.seal(ctx, nonce, plaintext, additionalData)
}

// Open decrypts what Seal returned. It returns an error if the ciphertext
// does not authenticate (another key, nonce or additional data, or altered
// bytes) or the token fails.
func (k *AESKey) Open(ctx context.Context, nonce, ciphertext, additionalData []byte) ([]byte, error) {
	if len(nonce) != gcmNonceSize || len(ciphertext) < gcmTagSize {
		return nil, errOpen
	}
	return k.g.open(ctx, nonce, ciphertext, additionalData)
}
