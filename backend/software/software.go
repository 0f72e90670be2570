// Package software implements kms.Backend with software-protected key
// material (DESIGN rule 1): material is generated in process memory and
// sealed with AES-256-GCM under the root key before it is returned for the
// Store, with the KeyId, key version and key spec as associated data. Its
// Sealer implements kms.Sealer, protecting small secrets under the same root
// key with a distinct label.
//
// Every kms.KeySpec but secp256k1 is supported. Symmetric specs (AES-256-GCM,
// SM4-GCM) open into a kms.SymmetricMaterial; the sealed plaintext is the
// raw key. Asymmetric specs (RSA 2048/3072/4096, ECDSA P-256/P-384, SM2)
// open into a kms.PrivateMaterial; the sealed plaintext is the private key
// as PKCS #8 DER. RSA and SM2 material is also a crypto.Decrypter (RSA-OAEP
// only; SM2 with ASN.1 ciphertext). No material verifies: the domain
// verifies with the public key from Public().
//
// The package imports the domain (kms), the standard library and gmsm (SM2,
// SM4, smx509) only; it must not import a store, a dialect or another
// backend.
package software

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/keyhaven/keyhaven/kms"
)

// RootKeySize is the length of the root key in bytes (AES-256).
const RootKeySize = 32

const (
	formatV1     = 1 // leading byte of everything this package seals
	nonceSize    = 12
	tagSize      = 16
	sealOverhead = 1 + nonceSize + tagSize

	materialLabel = "keyhaven/material/v1\x00"
	secretLabel   = "keyhaven/secret/v1\x00"
)

var errUnseal = errors.New("software: sealed value failed authentication (wrong root key, key id, version or spec, or altered)")

// Backend generates and opens software-protected key material, and seals
// small secrets, under one root key. It is safe for concurrent use.
type Backend struct {
	root cipher.AEAD
	rand io.Reader
}

// Sealer protects small secrets (access key secrets) under a Backend's root
// key. It is safe for concurrent use.
type Sealer struct {
	b *Backend
}

var (
	_ kms.Backend = (*Backend)(nil)
	_ kms.Sealer  = (*Sealer)(nil)
)

// New returns a Backend whose root key is rootKey (copied; the caller may
// wipe its slice) and which draws randomness from rand: sealing nonces,
// symmetric keys and SM2 keys. (Since Go 1.26, crypto/rsa and crypto/ecdsa
// key generation ignores rand and uses the system's secure source.) It
// returns an error if rootKey is not 32 bytes or rand is nil.
func New(rootKey []byte, rand io.Reader) (*Backend, error) {
	if len(rootKey) != RootKeySize {
		return nil, fmt.Errorf("software: root key is %d bytes, want %d", len(rootKey), RootKeySize)
	}
	if rand == nil {
		return nil, errors.New("software: nil rand")
	}
	key := make([]byte, RootKeySize)
	copy(key, rootKey)
	defer clear(key)
	root, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	return &Backend{root: root, rand: rand}, nil
}

// String returns "[REDACTED]": a Backend holds the root key.
func (*Backend) String() string { return "[REDACTED]" }

// GoString returns "[REDACTED]", so %#v does not print the root key.
func (*Backend) GoString() string { return "[REDACTED]" }

// LogValue returns "[REDACTED]" for log/slog.
func (*Backend) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// Generate creates fresh material for one version of a key and returns it
// sealed under the root key: a random key for kms.SpecSymmetricDefault (32
// bytes) and kms.SpecSM4 (16 bytes), a new key pair as PKCS #8 DER for the
// RSA, ECDSA and SM2 specs. It returns an error for kms.SpecECP256K (this
// build has no secp256k1), for an unknown spec, or if the randomness source
// fails.
func (b *Backend) Generate(_ context.Context, keyID string, version uint32, spec kms.KeySpec) ([]byte, error) {
	if err := checkSpec(spec); err != nil {
		return nil, err
	}
	var raw []byte
	switch spec {
	case kms.SpecSymmetricDefault, kms.SpecSM4:
		raw = make([]byte, symmetricSize(spec))
		if _, err := io.ReadFull(b.rand, raw); err != nil {
			return nil, fmt.Errorf("software: generate key material: %w", err)
		}
	default:
		der, err := generatePrivate(spec, b.rand)
		if err != nil {
			return nil, err
		}
		raw = der
	}
	defer clear(raw)
	return b.seal(raw, materialAD(keyID, version, spec))
}

// Import seals symmetric material made elsewhere (bring your own key) as
// Generate seals its own. It returns an error wrapping
// kms.ErrInvalidParameter if the spec is not symmetric or the material's
// length is not the spec's (32 bytes for AES-256, 16 for SM4).
func (b *Backend) Import(_ context.Context, keyID string, version uint32, spec kms.KeySpec, material []byte) ([]byte, error) {
	if !spec.Symmetric() {
		return nil, fmt.Errorf("software: import: %w: only symmetric material can be imported, not %s", kms.ErrInvalidParameter, spec)
	}
	if len(material) != symmetricSize(spec) {
		return nil, fmt.Errorf("software: import: %w: %s material has %d bytes, not %d", kms.ErrInvalidParameter, spec, symmetricSize(spec), len(material))
	}
	return b.seal(material, materialAD(keyID, version, spec))
}

// Open unseals material that Generate returned for the same key id, version
// and spec. It returns a kms.SymmetricMaterial for the symmetric specs and a
// kms.PrivateMaterial for the asymmetric ones. It returns an error if the
// spec is unsupported or the material does not authenticate (another key's
// material, another version or spec, another root key, or altered bytes).
func (b *Backend) Open(_ context.Context, keyID string, version uint32, spec kms.KeySpec, stored []byte) (kms.Material, error) {
	if err := checkSpec(spec); err != nil {
		return nil, err
	}
	raw, err := b.open(stored, materialAD(keyID, version, spec))
	if err != nil {
		return nil, fmt.Errorf("software: open material of key %s version %d: %w", keyID, version, err)
	}
	defer clear(raw)
	if spec.Symmetric() {
		return newSymmetricMaterial(spec, raw)
	}
	return newPrivateMaterial(spec, raw)
}

// Sealer returns the kms.Sealer that shares b's root key. (Backend cannot
// be a kms.Sealer itself: both interfaces name a method Open.)
func (b *Backend) Sealer() *Sealer { return &Sealer{b: b} }

// String returns "[REDACTED]": a Sealer holds the root key.
func (*Sealer) String() string { return "[REDACTED]" }

// GoString returns "[REDACTED]", so %#v does not print the root key.
func (*Sealer) GoString() string { return "[REDACTED]" }

// LogValue returns "[REDACTED]" for log/slog.
func (*Sealer) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// Seal encrypts a small secret under the root key, bound to additionalData.
// It returns an error only if the randomness source fails.
func (s *Sealer) Seal(plaintext, additionalData []byte) ([]byte, error) {
	return s.b.seal(plaintext, secretAD(additionalData))
}

// Open decrypts a secret sealed by Seal with the same additionalData. It
// returns an error if the value is malformed or does not authenticate
// (other additional data, another root key, or altered bytes).
func (s *Sealer) Open(sealed, additionalData []byte) ([]byte, error) {
	return s.b.open(sealed, secretAD(additionalData))
}

// checkSpec returns nil for the specs this backend generates and opens.
func checkSpec(spec kms.KeySpec) error {
	switch spec {
	case kms.SpecSymmetricDefault, kms.SpecSM4,
		kms.SpecRSA2048, kms.SpecRSA3072, kms.SpecRSA4096,
		kms.SpecECP256, kms.SpecECP384, kms.SpecECSM2:
		return nil
	case kms.SpecECP256K:
		return fmt.Errorf("software: key spec %q needs a secp256k1 implementation, which this build does not include: %w", spec, kms.ErrUnsupportedKeySpec)
	}
	return fmt.Errorf("software: key spec %q: %w", spec, kms.ErrUnsupportedKeySpec)
}

// symmetricSize is the raw key length of a symmetric spec.
func symmetricSize(spec kms.KeySpec) int {
	if spec == kms.SpecSM4 {
		return sm4Key
	}
	return symmetricKey
}

// seal returns formatV1 || nonce || AES-GCM(root, nonce, plaintext, ad).
func (b *Backend) seal(plaintext, ad []byte) ([]byte, error) {
	out := make([]byte, 1+nonceSize, sealOverhead+len(plaintext))
	out[0] = formatV1
	if _, err := io.ReadFull(b.rand, out[1:]); err != nil {
		return nil, fmt.Errorf("software: read nonce: %w", err)
	}
	return b.root.Seal(out, out[1:], plaintext, ad), nil
}

func (b *Backend) open(sealed, ad []byte) ([]byte, error) {
	if len(sealed) < sealOverhead {
		return nil, fmt.Errorf("software: sealed value is %d bytes, want at least %d", len(sealed), sealOverhead)
	}
	if sealed[0] != formatV1 {
		return nil, fmt.Errorf("software: sealed value has unknown format %d", sealed[0])
	}
	pt, err := b.root.Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], ad)
	if err != nil {
		return nil, errUnseal
	}
	return pt, nil
}

// materialAD binds sealed material to its place: label, key id (length
// prefixed), version and spec.
func materialAD(keyID string, version uint32, spec kms.KeySpec) []byte {
	ad := make([]byte, 0, len(materialLabel)+2+len(keyID)+4+len(spec))
	ad = append(ad, materialLabel...)
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(keyID)))
	ad = append(ad, keyID...)
	ad = binary.BigEndian.AppendUint32(ad, version)
	return append(ad, spec...)
}

func secretAD(additionalData []byte) []byte {
	ad := make([]byte, 0, len(secretLabel)+len(additionalData))
	ad = append(ad, secretLabel...)
	return append(ad, additionalData...)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("software: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("software: %w", err)
	}
	return aead, nil
}
