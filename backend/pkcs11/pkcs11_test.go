//go:build cgo

package pkcs11

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keyhaven/keyhaven/backend/backendtest"
	"github.com/keyhaven/keyhaven/backend/pkcs11/pkcs11test"
	"github.com/keyhaven/keyhaven/kms"
)

func TestMain(m *testing.M) { pkcs11test.Main(m) }

// open makes a token labelled label and opens a Backend with sessions
// sessions on it, closed at the end of the test.
func open(t *testing.T, label string, sessions int) *Backend {
	t.Helper()
	tok := pkcs11test.NewToken(t, label)
	b, err := Open(Config{Module: tok.Module, TokenLabel: tok.Label, PIN: tok.PIN, Sessions: sessions})
	if err != nil {
		t.Fatalf("Open(token %s) err = %v", label, err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestConformance(t *testing.T) {
	b := open(t, "conformance", 4)
	backendtest.Run(t, b, kms.SpecSymmetricDefault, kms.SpecRSA2048, kms.SpecRSA3072, kms.SpecECP256, kms.SpecECP384)
}

// TestConformanceRSA4096 runs the suite on RSA-4096 alone: SoftHSM2 takes
// seconds per 4096-bit key pair.
func TestConformanceRSA4096(t *testing.T) {
	if testing.Short() {
		t.Skip("RSA-4096 key generation is slow; skipped with -short")
	}
	b := open(t, "conformance-4096", 4)
	start := time.Now()
	backendtest.Run(t, b, kms.SpecRSA4096)
	t.Logf("RSA-4096 conformance took %v", time.Since(start))
}

func TestUnsupportedSpecs(t *testing.T) {
	b := open(t, "unsupported", 1)
	for _, spec := range []kms.KeySpec{kms.SpecECSM2, kms.SpecSM4, kms.SpecECP256K, "NO_SUCH_SPEC"} {
		stored, err := b.Generate(context.Background(), "0b9e6a0c-4f0e-4b5e-9d8b-1f2a3b4c5d6e", 1, spec)
		if !errors.Is(err, kms.ErrUnsupportedKeySpec) {
			t.Errorf("Generate(%s) = %x, %v; want an error wrapping kms.ErrUnsupportedKeySpec", spec, stored, err)
		}
		if spec != "NO_SUCH_SPEC" && (err == nil || !strings.Contains(err.Error(), "not supported by this HSM")) {
			t.Errorf("Generate(%s) err = %v; want it to say the spec is not supported by this HSM", spec, err)
		}
	}
}
