//go:build !cgo

package pkcs11

import (
	"context"
	"errors"

	"github.com/keyhaven/keyhaven/kms"
)

// errNoCgo is what every entry point returns in a build without cgo.
var errNoCgo = errors.New("pkcs11: this keyhaven was built without cgo, which PKCS #11 needs (rebuild with CGO_ENABLED=1 and a C compiler)")

// Backend is unusable in a build without cgo: Open always fails.
type Backend struct{}

var _ kms.Backend = (*Backend)(nil)

// Open returns an error: PKCS #11 needs cgo.
func Open(Config) (*Backend, error) { return nil, errNoCgo }

// Close does nothing.
func (*Backend) Close() error { return nil }

// Token returns "".
func (*Backend) Token() string { return "" }

// Generate returns an error: PKCS #11 needs cgo.
func (*Backend) Generate(context.Context, string, uint32, kms.KeySpec) ([]byte, error) {
	return nil, errNoCgo
}

// Open returns an error: PKCS #11 needs cgo.
func (*Backend) Open(context.Context, string, uint32, kms.KeySpec, []byte) (kms.Material, error) {
	return nil, errNoCgo
}

// DestroyKey returns an error: PKCS #11 needs cgo.
func (*Backend) DestroyKey(context.Context, []byte) error { return errNoCgo }

// AESKey is unusable in a build without cgo.
type AESKey struct{}

// NamedAESKey returns an error: PKCS #11 needs cgo.
func (*Backend) NamedAESKey(context.Context, string, bool) (*AESKey, bool, error) {
	return nil, false, errNoCgo
}

// Seal returns an error: PKCS #11 needs cgo.
func (*AESKey) Seal(context.Context, []byte, []byte, []byte) ([]byte, error) { return nil, errNoCgo }

// Open returns an error: PKCS #11 needs cgo.
func (*AESKey) Open(context.Context, []byte, []byte, []byte) ([]byte, error) { return nil, errNoCgo }
