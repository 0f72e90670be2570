package software

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/keyhaven/keyhaven/backend/backendtest"
	"github.com/keyhaven/keyhaven/kms"
)

const (
	keyA = "0b3e4a1c-5d6f-4a8b-9c0d-1e2f3a4b5c6d"
	keyB = "7f000000-0000-4000-8000-000000000001"
)

func newBackend(t *testing.T, seed byte) *Backend {
	t.Helper()
	b, err := New(bytes.Repeat([]byte{seed}, RootKeySize), rand.Reader)
	if err != nil {
		t.Fatalf("New() err = %v", err)
	}
	return b
}

// recordingReader hands out random bytes and remembers them.
type recordingReader struct{ got []byte }

func (r *recordingReader) Read(p []byte) (int, error) {
	n, err := rand.Read(p)
	r.got = append(r.got, p[:n]...)
	return n, err
}

func TestConformance(t *testing.T) {
	backendtest.Run(t, newBackend(t, 1), supportedSpecs...)
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		key     []byte
		wantErr bool
	}{
		{"32 bytes", make([]byte, 32), false},
		{"nil", nil, true},
		{"16 bytes", make([]byte, 16), true},
		{"33 bytes", make([]byte, 33), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.key, rand.Reader)
			if (err != nil) != tt.wantErr {
				t.Errorf("New(%d bytes) err = %v, want error %v", len(tt.key), err, tt.wantErr)
			}
		})
	}
	if _, err := New(make([]byte, 32), nil); err == nil {
		t.Errorf("New(key, nil rand) err = nil, want an error")
	}
}

func TestNewCopiesRootKey(t *testing.T) {
	root := bytes.Repeat([]byte{9}, RootKeySize)
	b, err := New(root, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := b.Generate(context.Background(), keyA, 1, kms.SpecSymmetricDefault)
	if err != nil {
		t.Fatal(err)
	}
	clear(root)
	if _, err := b.Open(context.Background(), keyA, 1, kms.SpecSymmetricDefault, stored); err != nil {
		t.Errorf("Open() after the caller wiped its root key err = %v, want nil", err)
	}
}

func TestSealedMaterialHidesKey(t *testing.T) {
	rec := &recordingReader{}
	b, err := New(bytes.Repeat([]byte{1}, RootKeySize), rec)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := b.Generate(context.Background(), keyA, 1, kms.SpecSymmetricDefault)
	if err != nil {
		t.Fatal(err)
	}
	raw := rec.got[:symmetricKey] // Generate draws the material first
	if bytes.Contains(stored, raw) || bytes.Contains(stored, raw[:8]) || bytes.Contains(stored, raw[24:]) {
		t.Errorf("Generate() = %x contains the plaintext material %x", stored, raw)
	}
	if got, want := len(stored), sealOverhead+symmetricKey; got != want {
		t.Errorf("len(Generate()) = %d, want %d", got, want)
	}
	m, err := b.Open(context.Background(), keyA, 1, kms.SpecSymmetricDefault, stored)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.(*material).key, raw) {
		t.Errorf("Open() key = %x, want the generated %x", m.(*material).key, raw)
	}
	m.Destroy()
	if !bytes.Equal(m.(*material).key, make([]byte, symmetricKey)) {
		t.Errorf("after Destroy key = %x, want zeros", m.(*material).key)
	}
}

func TestOpenFailures(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t, 1)
	stored, err := b.Generate(ctx, keyA, 5, kms.SpecSymmetricDefault)
	if err != nil {
		t.Fatal(err)
	}
	badFormat := bytes.Clone(stored)
	badFormat[0] = 2
	tests := []struct {
		name    string
		b       *Backend
		keyID   string
		version uint32
		spec    kms.KeySpec
		stored  []byte
	}{
		{"other key id", b, keyB, 5, kms.SpecSymmetricDefault, stored},
		{"other version", b, keyA, 6, kms.SpecSymmetricDefault, stored},
		{"other root key", newBackend(t, 2), keyA, 5, kms.SpecSymmetricDefault, stored},
		{"other spec", b, keyA, 5, "SM4", stored},
		{"unknown format", b, keyA, 5, kms.SpecSymmetricDefault, badFormat},
		{"truncated", b, keyA, 5, kms.SpecSymmetricDefault, stored[:sealOverhead-1]},
		{"id prefix", b, keyA[:35], 5, kms.SpecSymmetricDefault, stored},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if m, err := tt.b.Open(ctx, tt.keyID, tt.version, tt.spec, tt.stored); err == nil {
				t.Errorf("Open(%s, %d, %s) = %v, want an error", tt.keyID, tt.version, tt.spec, m)
			}
		})
	}
	// Every single-bit flip and every truncation fails.
	for i := range stored {
		for bit := range 8 {
			m := bytes.Clone(stored)
			m[i] ^= 1 << bit
			if _, err := b.Open(ctx, keyA, 5, kms.SpecSymmetricDefault, m); err == nil {
				t.Fatalf("Open(material with byte %d bit %d flipped) err = nil, want an error", i, bit)
			}
		}
	}
	for n := range stored {
		if _, err := b.Open(ctx, keyA, 5, kms.SpecSymmetricDefault, stored[:n]); err == nil {
			t.Fatalf("Open(material[:%d]) err = nil, want an error", n)
		}
	}
}

func TestUnsupportedSpec(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t, 1)
	stored, err := b.Generate(ctx, keyA, 1, kms.SpecECP256)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		spec kms.KeySpec
		want string
	}{
		{"NO_SUCH_SPEC", `software: key spec "NO_SUCH_SPEC": key spec not supported by this backend`},
		{"", `software: key spec "": key spec not supported by this backend`},
		{kms.SpecECP256K, `software: key spec "EC_P256K" needs a secp256k1 implementation, which this build does not include: key spec not supported by this backend`},
	}
	for _, tt := range tests {
		t.Run(string(tt.spec), func(t *testing.T) {
			if got, err := b.Generate(ctx, keyA, 1, tt.spec); err == nil || err.Error() != tt.want {
				t.Errorf("Generate(%q) = %x, %v; want error %q", tt.spec, got, err, tt.want)
			} else if !errors.Is(err, kms.ErrUnsupportedKeySpec) {
				t.Errorf("Generate(%q) err = %v; want it to wrap kms.ErrUnsupportedKeySpec", tt.spec, err)
			}
			if m, err := b.Open(ctx, keyA, 1, tt.spec, stored); err == nil || err.Error() != tt.want {
				t.Errorf("Open(%q) = %v, %v; want error %q", tt.spec, m, err, tt.want)
			}
		})
	}
}

func TestSealer(t *testing.T) {
	b := newBackend(t, 1)
	s := b.Sealer()
	secret := []byte("access key secret 0123456789")
	sealed, err := s.Seal(secret, []byte("accesskey/AKID1"))
	if err != nil {
		t.Fatalf("Seal() err = %v", err)
	}
	if bytes.Contains(sealed, secret[:8]) {
		t.Errorf("Seal() = %x contains the secret", sealed)
	}
	got, err := s.Open(sealed, []byte("accesskey/AKID1"))
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open() = %q, %v; want %q", got, err, secret)
	}
	// Material sealed by Generate does not open as a secret: the labels differ.
	stored, err := b.Generate(context.Background(), keyA, 1, kms.SpecSymmetricDefault)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		s      *Sealer
		sealed []byte
		ad     []byte
	}{
		{"other additional data", s, sealed, []byte("accesskey/AKID2")},
		{"no additional data", s, sealed, nil},
		{"other root key", newBackend(t, 2).Sealer(), sealed, []byte("accesskey/AKID1")},
		{"material as secret", s, stored, materialAD(keyA, 1, kms.SpecSymmetricDefault)[len(materialLabel):]},
		{"empty", s, nil, nil},
		{"truncated", s, sealed[:len(sealed)-1], []byte("accesskey/AKID1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := tt.s.Open(tt.sealed, tt.ad); err == nil {
				t.Errorf("Open(%x, %q) = %q, want an error", tt.sealed, tt.ad, got)
			}
		})
	}
}

func TestRedacted(t *testing.T) {
	b := newBackend(t, 7)
	m, err := newMaterial(bytes.Repeat([]byte{0xab}, 32))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{b, b.Sealer(), m} {
		for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
			if got := fmt.Sprintf(format, v); got != "[REDACTED]" {
				t.Errorf("Sprintf(%q, %T) = %q, want [REDACTED]", format, v, got)
			}
		}
		var buf bytes.Buffer
		slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "v", v)
		if !strings.Contains(buf.String(), "v=[REDACTED]") {
			t.Errorf("slog of %T = %q, want v=[REDACTED]", v, buf.String())
		}
	}
}

func TestNewMaterial(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := newMaterial(make([]byte, n)); err == nil {
			t.Errorf("newMaterial(%d bytes) err = nil, want an error", n)
		}
	}
}

func TestWycheproofAESGCM(t *testing.T) {
	vs := backendtest.LoadAEADVectors(t, "../../../shared/testdata/wycheproof/aes_gcm_test.json")
	st := backendtest.RunAEADVectors(t, vs, 256, func(key []byte) (cipher.AEAD, error) {
		m, err := newMaterial(key)
		if err != nil {
			return nil, err
		}
		return m.AEAD(), nil
	})
	t.Logf("AES-GCM Wycheproof: %d vectors; 256-bit through material: %d passed, %d skipped (IV/tag size); %d skipped (128/192-bit keys)",
		len(vs), st.Passed, st.Unsupported, st.OtherKey)
	if st.Passed == 0 {
		t.Errorf("no Wycheproof vector ran")
	}
	if got := st.Passed + st.Unsupported + st.OtherKey; got != len(vs) && !t.Failed() {
		t.Errorf("accounted for %d vectors, loaded %d", got, len(vs))
	}
}

// supportedSpecs is every spec the software backend generates and opens.
var supportedSpecs = []kms.KeySpec{
	kms.SpecSymmetricDefault, kms.SpecSM4,
	kms.SpecRSA2048, kms.SpecRSA3072, kms.SpecRSA4096,
	kms.SpecECP256, kms.SpecECP384, kms.SpecECSM2,
}
