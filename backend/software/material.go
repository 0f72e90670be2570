package software

import (
	"crypto/cipher"
	"fmt"
	"log/slog"

	"github.com/keyhaven/keyhaven/kms"
)

// material is an opened AES-256-GCM key version.
type material struct {
	key  []byte // raw key bytes; zeroed by Destroy
	aead cipher.AEAD
}

var _ kms.SymmetricMaterial = (*material)(nil)

// newMaterial returns material for a 32-byte AES key; key is copied.
func newMaterial(key []byte) (*material, error) {
	if len(key) != symmetricKey {
		return nil, fmt.Errorf("software: key material is %d bytes, want %d", len(key), symmetricKey)
	}
	m := &material{key: make([]byte, symmetricKey)}
	copy(m.key, key)
	aead, err := newGCM(m.key)
	if err != nil {
		return nil, err
	}
	m.aead = aead
	return m, nil
}

// AEAD returns the key version's AES-256-GCM, built once when the material
// was opened.
func (m *material) AEAD() cipher.AEAD { return m.aead }

// Destroy zeroes the raw key bytes. It may be called more than once. The
// AEAD stays usable for callers already holding it: its key schedule belongs
// to crypto/aes, which offers no way to wipe it, and is freed with the
// material by the garbage collector.
func (m *material) Destroy() { clear(m.key) }

// String returns "[REDACTED]".
func (*material) String() string { return "[REDACTED]" }

// GoString returns "[REDACTED]".
func (*material) GoString() string { return "[REDACTED]" }

// LogValue returns "[REDACTED]" for log/slog.
func (*material) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }
