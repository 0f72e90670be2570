package software

import (
	"crypto/cipher"
	"fmt"
	"log/slog"

	"github.com/emmansun/gmsm/sm4"

	"github.com/keyhaven/keyhaven/kms"
)

// Symmetric material sizes, in bytes.
const (
	symmetricKey = 32 // AES-256 material (kms.SpecSymmetricDefault)
	sm4Key       = 16 // SM4 material (kms.SpecSM4)
)

// material is an opened symmetric key version: AES-256-GCM or SM4-GCM.
type material struct {
	key  []byte // raw key bytes; zeroed by Destroy
	aead cipher.AEAD
}

var _ kms.SymmetricMaterial = (*material)(nil)

// newMaterial returns material for a 32-byte AES key; key is copied.
func newMaterial(key []byte) (*material, error) {
	return newSymmetric("AES-256", key, symmetricKey, newGCM)
}

// newSM4Material returns SM4-GCM material for a 16-byte SM4 key; key is
// copied.
func newSM4Material(key []byte) (*material, error) {
	return newSymmetric("SM4", key, sm4Key, newSM4GCM)
}

// newSymmetricMaterial returns the material for a symmetric spec.
func newSymmetricMaterial(spec kms.KeySpec, key []byte) (*material, error) {
	switch spec {
	case kms.SpecSymmetricDefault:
		return newMaterial(key)
	case kms.SpecSM4:
		return newSM4Material(key)
	}
	return nil, fmt.Errorf("software: %q is not a symmetric key spec", spec)
}

func newSymmetric(name string, key []byte, size int, newAEAD func([]byte) (cipher.AEAD, error)) (*material, error) {
	if len(key) != size {
		return nil, fmt.Errorf("software: %s key material is %d bytes, want %d", name, len(key), size)
	}
	m := &material{key: make([]byte, size)}
	copy(m.key, key)
	aead, err := newAEAD(m.key)
	if err != nil {
		return nil, err
	}
	m.aead = aead
	return m, nil
}

// AEAD returns the key version's AES-256-GCM or SM4-GCM (12-byte nonce,
// 16-byte tag), built once when the material was opened.
func (m *material) AEAD() cipher.AEAD { return m.aead }

// Destroy zeroes the raw key bytes. It may be called more than once. The
// AEAD stays usable for callers already holding it: its key schedule belongs
// to crypto/aes or gmsm's sm4, which offer no way to wipe it, and is freed
// with the material by the garbage collector.
func (m *material) Destroy() { clear(m.key) }

// String returns "[REDACTED]".
func (*material) String() string { return "[REDACTED]" }

// GoString returns "[REDACTED]".
func (*material) GoString() string { return "[REDACTED]" }

// LogValue returns "[REDACTED]" for log/slog.
func (*material) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// newSM4GCM returns SM4 in GCM mode with the standard 12-byte nonce and
// 16-byte tag.
func newSM4GCM(key []byte) (cipher.AEAD, error) {
	block, err := sm4.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("software: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("software: %w", err)
	}
	return aead, nil
}
