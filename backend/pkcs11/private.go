//go:build cgo

package pkcs11

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	_ "crypto/sha1" // RSA-OAEP SHA-1
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"sync/atomic"

	p11 "github.com/miekg/pkcs11"

	"github.com/keyhaven/keyhaven/kms"
)

var (
	errDestroyed = errors.New("pkcs11: key material was destroyed")
	errDecrypt   = errors.New("pkcs11: RSA-OAEP decryption failed")
)

// privateBase is what RSA and ECDSA material share: the private key
// object's handle and the Destroy state.
type privateBase struct {
	key       *object
	name      string // the objects' CKA_ID
	destroyed atomic.Bool
}

// Destroy drops the material's use of the token object; Sign and Decrypt
// then return an error. The object stays in the token (DestroyKey deletes
// it). It may be called more than once.
func (p *privateBase) Destroy() { p.destroyed.Store(true) }

// String returns a description without secrets.
func (p *privateBase) String() string { return "pkcs11 private key " + p.name }

// LogValue returns the description for log/slog.
func (p *privateBase) LogValue() slog.Value { return slog.StringValue(p.String()) }

// run runs one single-part operation with the private key: init, then the
// call on input.
func (p *privateBase) run(mech *p11.Mechanism, sign bool, input []byte) ([]byte, error) {
	if p.destroyed.Load() {
		return nil, errDestroyed
	}
	var out []byte
	c := p.key.b.ctx()
	err := p.key.use(context.Background(), func(sh p11.SessionHandle, key p11.ObjectHandle) error {
		var err error
		if sign {
			if err = c.SignInit(sh, []*p11.Mechanism{mech}, key); err == nil {
				out, err = c.Sign(sh, input)
			}
		} else {
			if err = c.DecryptInit(sh, []*p11.Mechanism{mech}, key); err == nil {
				out, err = c.Decrypt(sh, input)
			}
		}
		return err
	})
	return out, err
}

// rsaMaterial is an opened RSA key version in the token: a crypto.Signer
// (PKCS #1 v1.5 or PSS) and a crypto.Decrypter for OAEP only.
type rsaMaterial struct {
	privateBase
	pub *rsa.PublicKey
}

var (
	_ kms.PrivateMaterial = (*rsaMaterial)(nil)
	_ crypto.Decrypter    = (*rsaMaterial)(nil)
)

// Public returns the *rsa.PublicKey, read from the token when the material
// was opened. It stays usable after Destroy.
func (m *rsaMaterial) Public() crypto.PublicKey { return m.pub }

// digestInfo prefixes of PKCS #1 v1.5 signatures (RFC 8017 §9.2 note 1).
var digestInfo = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// PKCS #11 names of hashes and their MGF1 functions.
var (
	hashMech = map[crypto.Hash]uint{crypto.SHA1: p11.CKM_SHA_1, crypto.SHA256: p11.CKM_SHA256, crypto.SHA384: p11.CKM_SHA384, crypto.SHA512: p11.CKM_SHA512}
	mgfMech  = map[crypto.Hash]uint{crypto.SHA1: p11.CKG_MGF1_SHA1, crypto.SHA256: p11.CKG_MGF1_SHA256, crypto.SHA384: p11.CKG_MGF1_SHA384, crypto.SHA512: p11.CKG_MGF1_SHA512}
)

// Sign signs digest, a SHA-256, SHA-384 or SHA-512 hash named by
// opts.HashFunc(), in the token: RSASSA-PSS (CKM_RSA_PKCS_PSS) if opts is a
// *rsa.PSSOptions, RSASSA-PKCS1-v1_5 (CKM_RSA_PKCS over the DigestInfo)
// otherwise. rand is not used; the token has its own. A PSS salt length of
// rsa.PSSSaltLengthAuto signs with the largest salt, as crypto/rsa does. It
// returns an error for any other hash (or none), a digest of the wrong
// length, an impossible salt length, destroyed material or a token failure.
func (m *rsaMaterial) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if err := checkDigest("RSA", digest, opts); err != nil {
		return nil, err
	}
	h := opts.HashFunc()
	var mech *p11.Mechanism
	input := digest
	if pss, ok := opts.(*rsa.PSSOptions); ok {
		maxSalt := (m.pub.N.BitLen()-1+7)/8 - h.Size() - 2
		salt := pss.SaltLength
		switch {
		case salt == rsa.PSSSaltLengthAuto:
			salt = maxSalt
		case salt == rsa.PSSSaltLengthEqualsHash:
			salt = h.Size()
		case salt < 0 || salt > maxSalt:
			return nil, fmt.Errorf("pkcs11: PSS salt length %d is out of range for a %d-bit key", pss.SaltLength, m.pub.N.BitLen())
		}
		mech = p11.NewMechanism(p11.CKM_RSA_PKCS_PSS, p11.NewPSSParams(hashMech[h], mgfMech[h], uint(salt)))
	} else {
		mech = p11.NewMechanism(p11.CKM_RSA_PKCS, nil)
		input = append(append([]byte(nil), digestInfo[h]...), digest...)
	}
	sig, err := m.run(mech, true, input)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: RSA sign with %s: %w", m.name, err)
	}
	return sig, nil
}

// Decrypt decrypts RSAES-OAEP ciphertext in the token. opts must be a
// *rsa.OAEPOptions with Hash SHA-1 or SHA-256 and MGFHash zero or equal to
// Hash; PKCS #1 v1.5 decryption is not offered. Without a label it uses
// CKM_RSA_PKCS_OAEP; if the token refuses those OAEP parameters (SoftHSM2
// 2.6 takes only SHA-1), and always for a label (SoftHSM2 accepts one and
// silently ignores it, so a wrong label would decrypt), it uses
// CKM_RSA_X_509 and decodes OAEP in Go in constant time: the private key
// operation stays in the token. It returns one error for a ciphertext that
// does not decrypt, whatever the reason, and another for destroyed material.
func (m *rsaMaterial) Decrypt(_ io.Reader, ciphertext []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	o, ok := opts.(*rsa.OAEPOptions)
	if !ok || o == nil {
		return nil, fmt.Errorf("pkcs11: RSA decryption takes *rsa.OAEPOptions, not %T (PKCS #1 v1.5 decryption is not offered)", opts)
	}
	if o.Hash != crypto.SHA1 && o.Hash != crypto.SHA256 {
		return nil, fmt.Errorf("pkcs11: RSA-OAEP with hash %v is not offered (SHA-1 or SHA-256)", o.Hash)
	}
	if o.MGFHash != 0 && o.MGFHash != o.Hash {
		return nil, fmt.Errorf("pkcs11: RSA-OAEP with MGF1 hash %v and hash %v is not offered", o.MGFHash, o.Hash)
	}
	if m.destroyed.Load() {
		return nil, errDestroyed
	}
	k := (m.pub.N.BitLen() + 7) / 8
	if len(ciphertext) != k {
		return nil, errDecrypt
	}
	raw := &m.key.b.oaepRaw[oaepIndex(o)]
	if len(o.Label) == 0 && !raw.Load() {
		mech := p11.NewMechanism(p11.CKM_RSA_PKCS_OAEP, p11.NewOAEPParams(hashMech[o.Hash], mgfMech[o.Hash], p11.CKZ_DATA_SPECIFIED, o.Label))
		pt, err := m.run(mech, false, ciphertext)
		switch {
		case err == nil:
			return pt, nil
		case isCode(err, p11.CKR_MECHANISM_PARAM_INVALID), isCode(err, p11.CKR_ARGUMENTS_BAD), isCode(err, p11.CKR_MECHANISM_INVALID):
			// The token refused the parameters at DecryptInit, before
			// looking at the ciphertext: use raw RSA from now on.
			raw.Store(true)
		case errors.Is(err, errDestroyed), sessionBroken(err):
			return nil, fmt.Errorf("pkcs11: RSA decrypt with %s: %w", m.name, err)
		default:
			return nil, errDecrypt
		}
	}
	em, err := m.run(p11.NewMechanism(p11.CKM_RSA_X_509, nil), false, ciphertext)
	if err != nil {
		if errors.Is(err, errDestroyed) || sessionBroken(err) {
			return nil, fmt.Errorf("pkcs11: RSA decrypt with %s: %w", m.name, err)
		}
		return nil, errDecrypt
	}
	defer clear(em)
	pt, ok := decodeOAEP(o.Hash, em, k, o.Label)
	if !ok {
		return nil, errDecrypt
	}
	return pt, nil
}

// oaepIndex numbers the hashes of the OAEP parameter sets Decrypt tries
// natively.
func oaepIndex(o *rsa.OAEPOptions) int {
	if o.Hash == crypto.SHA256 {
		return 1
	}
	return 0
}

// ecdsaMaterial is an opened P-256 or P-384 key version in the token.
type ecdsaMaterial struct {
	privateBase
	pub *ecdsa.PublicKey
}

var _ kms.PrivateMaterial = (*ecdsaMaterial)(nil)

// Public returns the *ecdsa.PublicKey, read from the token when the
// material was opened. It stays usable after Destroy.
func (m *ecdsaMaterial) Public() crypto.PublicKey { return m.pub }

// Sign returns the ASN.1 DER ECDSA signature of digest, a SHA-256, SHA-384
// or SHA-512 hash named by opts.HashFunc(), made by CKM_ECDSA in the token
// (a digest longer than the curve order is truncated to its leftmost bits,
// as ECDSA prescribes). rand is not used. It returns an error for another
// hash or none, a digest of the wrong length, destroyed material or a token
// failure.
func (m *ecdsaMaterial) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if err := checkDigest("ECDSA", digest, opts); err != nil {
		return nil, err
	}
	size := (m.pub.Curve.Params().N.BitLen() + 7) / 8 // P-256 and P-384 orders are whole bytes
	if len(digest) > size {
		digest = digest[:size]
	}
	rs, err := m.run(p11.NewMechanism(p11.CKM_ECDSA, nil), true, digest)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: ECDSA sign with %s: %w", m.name, err)
	}
	if len(rs) != 2*size {
		return nil, fmt.Errorf("pkcs11: ECDSA signature from the token is %d bytes, want %d", len(rs), 2*size)
	}
	return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(rs[:size]), new(big.Int).SetBytes(rs[size:])})
}

// checkDigest makes the same demands as the software backend: opts name
// SHA-256, SHA-384 or SHA-512 and digest has that hash's length.
func checkDigest(alg string, digest []byte, opts crypto.SignerOpts) error {
	if pss, ok := opts.(*rsa.PSSOptions); opts == nil || ok && pss == nil {
		return fmt.Errorf("pkcs11: %s signing needs opts naming the digest's hash", alg)
	}
	switch h := opts.HashFunc(); h {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
		if len(digest) != h.Size() {
			return fmt.Errorf("pkcs11: %s digest is %d bytes, want %d for %v", alg, len(digest), h.Size(), h)
		}
		return nil
	default:
		return fmt.Errorf("pkcs11: %s signing with hash %v is not offered (SHA-256, SHA-384 or SHA-512)", alg, h)
	}
}
