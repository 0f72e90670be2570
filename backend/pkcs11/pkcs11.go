//go:build cgo

package pkcs11

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"

	p11 "github.com/miekg/pkcs11"

	"github.com/keyhaven/keyhaven/kms"
)

// Backend makes and uses key material inside one PKCS #11 token. It is safe
// for concurrent use.
type Backend struct {
	mod    *module
	pool   *pool
	pin    *secret
	token  string
	rand   io.Reader
	closed atomic.Bool
	// oaepRaw records, per OAEP hash (SHA-1, SHA-256), that the token
	// refused CKM_RSA_PKCS_OAEP with it, so that decryption goes straight
	// to raw RSA plus OAEP decoding in Go (see private.go).
	oaepRaw [2]atomic.Bool
}

var _ kms.Backend = (*Backend)(nil)

// Open loads the module, finds the token labelled cfg.TokenLabel, opens
// cfg.Sessions sessions and logs in. It returns an error naming the module
// or the token, never the PIN, if the module cannot be loaded, no token (or
// more than one) has the label, or the PIN is wrong.
func Open(cfg Config) (*Backend, error) {
	if cfg.Module == "" || cfg.TokenLabel == "" {
		return nil, errors.New("pkcs11: a module path and a token label are required")
	}
	if cfg.PIN == "" {
		return nil, fmt.Errorf("pkcs11: no PIN given for token %q", cfg.TokenLabel)
	}
	if cfg.Sessions < 0 {
		return nil, fmt.Errorf("pkcs11: %d sessions; want at least 1", cfg.Sessions)
	}
	if cfg.Sessions == 0 {
		cfg.Sessions = DefaultSessions
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	mod, err := loadModule(cfg.Module)
	if err != nil {
		return nil, err
	}
	slot, err := mod.findToken(cfg.TokenLabel)
	if err != nil {
		mod.release()
		return nil, err
	}
	pin := &secret{b: []byte(cfg.PIN)}
	pool, err := newPool(mod, slot, cfg.TokenLabel, pin, cfg.Sessions)
	if err != nil {
		pin.wipe()
		mod.release()
		return nil, err
	}
	return &Backend{mod: mod, pool: pool, pin: pin, token: cfg.TokenLabel, rand: cfg.Rand}, nil
}

// Close closes the sessions and releases the module. Operations must have
// ended; material opened from b fails afterwards. It may be called more
// than once. The token's login ends when the process's last session on it
// closes.
func (b *Backend) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	b.pool.close()
	b.pin.wipe()
	b.mod.release()
	return nil
}

// Token returns the label of b's token.
func (b *Backend) Token() string { return b.token }

// do runs op on a pooled session (see pool.do).
func (b *Backend) do(ctx context.Context, op func(sh p11.SessionHandle) error) error {
	if b.closed.Load() {
		return errClosed
	}
	return b.pool.do(ctx, op)
}

func (b *Backend) ctx() *p11.Ctx { return b.mod.ctx }

// Generate creates the material of one key version inside the token, as
// token objects labelled keyID + "/" + version, and returns a reference to
// them for the Store. It returns an error wrapping kms.ErrUnsupportedKeySpec
// for SM2, SM4, secp256k1 and unknown specs, and the token's error if
// generation fails.
func (b *Backend) Generate(ctx context.Context, keyID string, version uint32, spec kms.KeySpec) ([]byte, error) {
	if err := b.checkSpec(spec); err != nil {
		return nil, err
	}
	var nonce [8]byte
	if _, err := io.ReadFull(b.rand, nonce[:]); err != nil {
		return nil, fmt.Errorf("pkcs11: object id: %w", err)
	}
	label := objectLabel(keyID, version)
	id := []byte(label + "/" + hex.EncodeToString(nonce[:]))
	err := b.do(ctx, func(sh p11.SessionHandle) error {
		return generate(b.ctx(), sh, spec, label, id)
	})
	if err != nil {
		return nil, fmt.Errorf("pkcs11: generate %s key %s in token %q: %w", spec, label, b.token, err)
	}
	return encodeRef(spec, id), nil
}

// Open finds the objects that stored (from Generate for the same key id,
// version and spec) refers to and returns material that uses them: a
// kms.SymmetricMaterial for SYMMETRIC_DEFAULT, a kms.PrivateMaterial (and
// crypto.Decrypter for RSA) otherwise. It returns an error if stored is
// malformed or made for another key, version or spec, or if the objects
// are not in the token.
func (b *Backend) Open(ctx context.Context, keyID string, version uint32, spec kms.KeySpec, stored []byte) (kms.Material, error) {
	if err := b.checkSpec(spec); err != nil {
		return nil, err
	}
	id, err := decodeRef(stored, keyID, version, spec)
	if err != nil {
		return nil, err
	}
	if spec == kms.SpecSymmetricDefault {
		o, err := b.findObject(ctx, p11.CKO_SECRET_KEY, p11.CKK_AES, id)
		if err != nil {
			return nil, err
		}
		return &aesMaterial{aead: &gcm{key: o, name: string(id)}}, nil
	}
	return b.openPrivate(ctx, spec, id)
}

// DestroyKey deletes the token objects of the key version that stored
// refers to (what Generate returned). Scheduled deletion calls it when a
// key's deletion date passes; after it no copy of the material exists. It
// returns nil if the objects are already gone, and an error if stored is
// malformed or the token refuses.
func (b *Backend) DestroyKey(ctx context.Context, stored []byte) error {
	_, id, err := parseRef(stored)
	if err != nil {
		return err
	}
	return b.do(ctx, func(sh p11.SessionHandle) error {
		hs, err := findObjects(b.ctx(), sh, []*p11.Attribute{
			p11.NewAttribute(p11.CKA_TOKEN, true),
			p11.NewAttribute(p11.CKA_ID, id),
		})
		if err != nil {
			return fmt.Errorf("pkcs11: find objects %s: %w", id, err)
		}
		for _, h := range hs {
			if err := b.ctx().DestroyObject(sh, h); err != nil && !isCode(err, p11.CKR_OBJECT_HANDLE_INVALID) {
				return fmt.Errorf("pkcs11: destroy object %s: %w", id, err)
			}
		}
		return nil
	})
}

func (b *Backend) checkSpec(spec kms.KeySpec) error {
	switch spec {
	case kms.SpecSymmetricDefault, kms.SpecRSA2048, kms.SpecRSA3072, kms.SpecRSA4096, kms.SpecECP256, kms.SpecECP384:
		return nil
	case kms.SpecSM4, kms.SpecECSM2, kms.SpecECP256K:
		return fmt.Errorf("pkcs11: key spec %s not supported by this HSM (token %q; PKCS #11 has no standard mechanism for it): %w", spec, b.token, kms.ErrUnsupportedKeySpec)
	}
	return fmt.Errorf("pkcs11: key spec %q: %w", spec, kms.ErrUnsupportedKeySpec)
}

// objectLabel is the CKA_LABEL of a key version's objects.
func objectLabel(keyID string, version uint32) string {
	return keyID + "/" + strconv.FormatUint(uint64(version), 10)
}

// A reference is refV1 ‖ len(spec) ‖ spec ‖ CKA_ID, where CKA_ID is
// "<keyID>/<version>/<16 hex digits>": the label plus a random part that
// keeps two generations for one version (a retried request) apart.
const refV1 = 0x01

func encodeRef(spec kms.KeySpec, id []byte) []byte {
	out := []byte{refV1, byte(len(spec))}
	out = append(out, spec...)
	return append(out, id...)
}

func parseRef(stored []byte) (kms.KeySpec, []byte, error) {
	if len(stored) < 2 || stored[0] != refV1 || len(stored) < 2+int(stored[1]) {
		return "", nil, errors.New("pkcs11: stored reference is malformed or of an unknown format")
	}
	n := int(stored[1])
	return kms.KeySpec(stored[2 : 2+n]), stored[2+n:], nil
}

// decodeRef returns the CKA_ID in stored after checking that it belongs to
// keyID, version and spec.
func decodeRef(stored []byte, keyID string, version uint32, spec kms.KeySpec) ([]byte, error) {
	s, id, err := parseRef(stored)
	if err != nil {
		return nil, err
	}
	prefix := objectLabel(keyID, version) + "/"
	rest, ok := bytes.CutPrefix(id, []byte(prefix))
	if s != spec || !ok || len(rest) != 16 || strings.Trim(string(rest), "0123456789abcdef") != "" {
		return nil, fmt.Errorf("pkcs11: stored reference does not belong to key %s version %d spec %s", keyID, version, spec)
	}
	return bytes.Clone(id), nil
}

// findObjects returns the handles of the objects matching tmpl.
func findObjects(ctx *p11.Ctx, sh p11.SessionHandle, tmpl []*p11.Attribute) ([]p11.ObjectHandle, error) {
	if err := ctx.FindObjectsInit(sh, tmpl); err != nil {
		return nil, err
	}
	var all []p11.ObjectHandle
	for {
		hs, _, err := ctx.FindObjects(sh, 16)
		if err != nil {
			ctx.FindObjectsFinal(sh)
			return nil, err
		}
		all = append(all, hs...)
		if len(hs) < 16 {
			break
		}
	}
	return all, ctx.FindObjectsFinal(sh)
}

// findOne returns the handle of the one token object of class and key type
// whose CKA_ID is id.
func (b *Backend) findOne(ctx context.Context, class, keyType uint, id []byte) (p11.ObjectHandle, error) {
	var hs []p11.ObjectHandle
	err := b.do(ctx, func(sh p11.SessionHandle) error {
		var err error
		hs, err = findObjects(b.ctx(), sh, []*p11.Attribute{
			p11.NewAttribute(p11.CKA_TOKEN, true),
			p11.NewAttribute(p11.CKA_CLASS, class),
			p11.NewAttribute(p11.CKA_KEY_TYPE, keyType),
			p11.NewAttribute(p11.CKA_ID, id),
		})
		return err
	})
	switch {
	case err != nil:
		return 0, fmt.Errorf("pkcs11: find object %s in token %q: %w", id, b.token, err)
	case len(hs) == 0:
		return 0, fmt.Errorf("pkcs11: token %q has no %s object %s (destroyed, or another token)", b.token, className(class), id)
	case len(hs) > 1:
		return 0, fmt.Errorf("pkcs11: token %q has %d %s objects %s; want one", b.token, len(hs), className(class), id)
	}
	return hs[0], nil
}

func className(class uint) string {
	switch class {
	case p11.CKO_SECRET_KEY:
		return "secret key"
	case p11.CKO_PRIVATE_KEY:
		return "private key"
	case p11.CKO_PUBLIC_KEY:
		return "public key"
	}
	return "class " + strconv.FormatUint(uint64(class), 10)
}

// object is a token key object that material uses: found by class, key
// type and CKA_ID, with its handle cached. A token may invalidate handles
// (SoftHSM2 does for private objects when the login ends with the last
// session); use then finds the object again.
type object struct {
	b       *Backend
	class   uint
	keyType uint
	id      []byte
	h       atomic.Uint64 // p11.ObjectHandle
}

// findObject finds a key object and returns it with its handle cached.
func (b *Backend) findObject(ctx context.Context, class, keyType uint, id []byte) (*object, error) {
	h, err := b.findOne(ctx, class, keyType, id)
	if err != nil {
		return nil, err
	}
	o := &object{b: b, class: class, keyType: keyType, id: id}
	o.h.Store(uint64(h))
	return o, nil
}

// use runs op on a pooled session with the object's handle, finding the
// object again and retrying once if the token says the handle is invalid.
func (o *object) use(ctx context.Context, op func(sh p11.SessionHandle, h p11.ObjectHandle) error) error {
	h := p11.ObjectHandle(o.h.Load())
	err := o.b.do(ctx, func(sh p11.SessionHandle) error { return op(sh, h) })
	if !isCode(err, p11.CKR_KEY_HANDLE_INVALID) && !isCode(err, p11.CKR_OBJECT_HANDLE_INVALID) {
		return err
	}
	nh, ferr := o.b.findOne(ctx, o.class, o.keyType, o.id)
	if ferr != nil {
		return errors.Join(err, ferr)
	}
	o.h.Store(uint64(nh))
	return o.b.do(ctx, func(sh p11.SessionHandle) error { return op(sh, nh) })
}
