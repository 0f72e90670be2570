package software

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/keyhaven/keyhaven/kms"
)

// newTestPrivate generates a key for spec and opens it as material.
func newTestPrivate(t *testing.T, spec kms.KeySpec) kms.PrivateMaterial {
	t.Helper()
	der, err := generatePrivate(spec, rand.Reader)
	if err != nil {
		t.Fatalf("generatePrivate(%s) err = %v", spec, err)
	}
	m, err := newPrivateMaterial(spec, der)
	if err != nil {
		t.Fatalf("newPrivateMaterial(%s) err = %v", spec, err)
	}
	return m
}

// privateKeyOf returns the key inside material (nil once destroyed).
func privateKeyOf(m kms.Material) crypto.Signer {
	switch m := m.(type) {
	case *rsaMaterial:
		return m.key
	case *ecdsaMaterial:
		return m.key
	case *sm2Material:
		return m.key
	}
	return nil
}

func privateScalar(k crypto.Signer) *big.Int {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return k.D
	case *ecdsa.PrivateKey:
		return k.D
	case *sm2.PrivateKey:
		return k.D
	}
	return nil
}

// TestSealedPrivateMaterialHidesKey checks that stored bytes hold neither the
// PKCS #8 DER nor any 16-byte window of the private scalar. RSA-4096 is
// left to the conformance suite, which generates it twice already.
func TestSealedPrivateMaterialHidesKey(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t, 1)
	for _, spec := range []kms.KeySpec{kms.SpecRSA2048, kms.SpecRSA3072, kms.SpecECP256, kms.SpecECP384, kms.SpecECSM2} {
		t.Run(string(spec), func(t *testing.T) {
			stored, err := b.Generate(ctx, keyA, 1, spec)
			if err != nil {
				t.Fatal(err)
			}
			m, err := b.Open(ctx, keyA, 1, spec, stored)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Destroy()
			key := privateKeyOf(m)
			der, err := smx509.MarshalPKCS8PrivateKey(key)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(stored), sealOverhead+len(der); got != want {
				t.Errorf("len(Generate(%s)) = %d, want %d (sealed PKCS #8)", spec, got, want)
			}
			if bytes.Contains(stored, der) {
				t.Fatalf("Generate(%s) contains the private key DER", spec)
			}
			d := privateScalar(key).Bytes()
			for i := 0; i+16 <= len(d); i++ {
				if bytes.Contains(stored, d[i:i+16]) {
					t.Fatalf("Generate(%s) contains bytes %d..%d of the private scalar", spec, i, i+16)
				}
			}
		})
	}
}

func TestNewPrivateMaterialMismatch(t *testing.T) {
	p256, _ := generatePrivate(kms.SpecECP256, rand.Reader)
	sm2DER, _ := generatePrivate(kms.SpecECSM2, rand.Reader)
	rsaDER, _ := generatePrivate(kms.SpecRSA2048, rand.Reader)
	tests := []struct {
		name string
		spec kms.KeySpec
		der  []byte
	}{
		{"P-256 as P-384", kms.SpecECP384, p256},
		{"P-256 as SM2", kms.SpecECSM2, p256},
		{"P-256 as RSA", kms.SpecRSA2048, p256},
		{"SM2 as P-256", kms.SpecECP256, sm2DER},
		{"RSA-2048 as RSA-3072", kms.SpecRSA3072, rsaDER},
		{"RSA-2048 as SM2", kms.SpecECSM2, rsaDER},
		{"symmetric spec", kms.SpecSymmetricDefault, p256},
		{"truncated", kms.SpecECP256, p256[:len(p256)-1]},
		{"empty", kms.SpecECP256, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if m, err := newPrivateMaterial(tt.spec, tt.der); err == nil {
				t.Errorf("newPrivateMaterial(%s, %d bytes) = %T, want an error", tt.spec, len(tt.der), m)
			}
		})
	}
}

// TestPrivateMaterialRefuses checks the operations the materials do not
// offer: raw or unlisted-hash signing, PKCS #1 v1.5 decryption, raw SM2
// ciphertext.
func TestPrivateMaterialRefuses(t *testing.T) {
	rsaM := newTestPrivate(t, kms.SpecRSA2048)
	ecM := newTestPrivate(t, kms.SpecECP256)
	sm2M := newTestPrivate(t, kms.SpecECSM2)
	digest := sha256.Sum256([]byte("m"))
	sm2Pub := sm2M.Public().(*ecdsa.PublicKey)
	raw, err := sm2.Encrypt(rand.Reader, sm2Pub, []byte("m"), nil) // raw C1C3C2
	if err != nil {
		t.Fatal(err)
	}
	pkcs1, err := rsa.EncryptPKCS1v15(rand.Reader, rsaM.Public().(*rsa.PublicKey), []byte("m"))
	if err != nil {
		t.Fatal(err)
	}
	sign := func(m kms.PrivateMaterial, r bool, d []byte, opts crypto.SignerOpts) func() ([]byte, error) {
		return func() ([]byte, error) {
			if !r {
				return m.Sign(nil, d, opts)
			}
			return m.Sign(rand.Reader, d, opts)
		}
	}
	decrypt := func(m kms.PrivateMaterial, ct []byte, opts crypto.DecrypterOpts) func() ([]byte, error) {
		return func() ([]byte, error) { return m.(crypto.Decrypter).Decrypt(rand.Reader, ct, opts) }
	}
	tests := []struct {
		name string
		call func() ([]byte, error)
		want string // substring of the error
	}{
		{"RSA raw (hash 0)", sign(rsaM, true, digest[:], crypto.Hash(0)), "not offered"},
		{"RSA nil opts", sign(rsaM, true, digest[:], nil), "needs opts"},
		{"RSA nil PSS opts", sign(rsaM, true, digest[:], (*rsa.PSSOptions)(nil)), "needs opts"},
		{"RSA SHA-1", sign(rsaM, true, digest[:20], crypto.SHA1), "not offered"},
		{"RSA short digest", sign(rsaM, true, digest[:31], crypto.SHA256), "want 32"},
		{"RSA PKCS1v15 nil opts", decrypt(rsaM, pkcs1, nil), "PKCS #1 v1.5 decryption is not offered"},
		{"RSA PKCS1v15 opts", decrypt(rsaM, pkcs1, &rsa.PKCS1v15DecryptOptions{}), "PKCS #1 v1.5 decryption is not offered"},
		{"RSA PKCS1v15 session key", decrypt(rsaM, pkcs1, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: 1}), "PKCS #1 v1.5 decryption is not offered"},
		{"RSA OAEP SHA-512", decrypt(rsaM, pkcs1, &rsa.OAEPOptions{Hash: crypto.SHA512}), "not offered"},
		{"RSA OAEP MGF1 mismatch", decrypt(rsaM, pkcs1, &rsa.OAEPOptions{Hash: crypto.SHA256, MGFHash: crypto.SHA1}), "not offered"},
		{"RSA OAEP nil pointer", decrypt(rsaM, pkcs1, (*rsa.OAEPOptions)(nil)), "takes *rsa.OAEPOptions"},
		{"ECDSA nil opts", sign(ecM, true, digest[:], nil), "needs opts"},
		{"ECDSA raw message", sign(ecM, true, []byte("a raw message of some length"), crypto.Hash(0)), "not offered"},
		{"ECDSA digest size", sign(ecM, true, digest[:], crypto.SHA384), "want 48"},
		{"SM2 SHA-256 digest", sign(sm2M, true, digest[:], crypto.SHA256), "not a SHA-256 digest"},
		{"SM2 nil signer option", sign(sm2M, true, digest[:], (*sm2.SM2SignerOption)(nil)), "nil *sm2.SM2SignerOption"},
		{"SM2 short e", sign(sm2M, true, digest[:31], nil), "want 32"},
		{"SM2 nil rand", sign(sm2M, false, digest[:], nil), "random source"},
		{"SM2 raw C1C3C2", decrypt(sm2M, raw, nil), "not ASN.1"},
		{"SM2 plain opts", decrypt(sm2M, raw, sm2.NewPlainDecrypterOpts(sm2.C1C3C2)), "takes nil or sm2.ASN1DecrypterOpts"},
		{"SM2 OAEP opts", decrypt(sm2M, raw, &rsa.OAEPOptions{Hash: crypto.SHA256}), "takes nil or sm2.ASN1DecrypterOpts"},
		{"SM2 empty", decrypt(sm2M, nil, nil), "not ASN.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.call()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s = %x, %v; want an error containing %q", tt.name, got, err, tt.want)
			}
		})
	}
	if _, ok := ecM.(crypto.Decrypter); ok {
		t.Errorf("ECDSA material is a crypto.Decrypter; want signing only")
	}
}

func TestDestroyPrivate(t *testing.T) {
	for _, spec := range []kms.KeySpec{kms.SpecRSA2048, kms.SpecECP256, kms.SpecECSM2} {
		t.Run(string(spec), func(t *testing.T) {
			m := newTestPrivate(t, spec)
			pub := m.Public()
			key := privateKeyOf(m)
			d := privateScalar(key)
			var primes []*big.Int
			if k, ok := key.(*rsa.PrivateKey); ok {
				primes = k.Primes
			}
			m.Destroy()
			m.Destroy()
			for _, x := range append([]*big.Int{d}, primes...) {
				for i, w := range x.Bits() {
					if w != 0 {
						t.Fatalf("after Destroy a secret big.Int word %d = %x, want 0", i, w)
					}
				}
			}
			if privateKeyOf(m) != nil {
				t.Errorf("after Destroy the material still references its key")
			}
			digest := sha256.Sum256([]byte("m"))
			var opts crypto.SignerOpts = crypto.SHA256
			if spec == kms.SpecECSM2 {
				opts = nil
			}
			if sig, err := m.Sign(rand.Reader, digest[:], opts); err != errDestroyed {
				t.Errorf("Sign() after Destroy = %x, %v; want %v", sig, err, errDestroyed)
			}
			if d, ok := m.(crypto.Decrypter); ok {
				var dopts crypto.DecrypterOpts = &rsa.OAEPOptions{Hash: crypto.SHA256}
				if spec == kms.SpecECSM2 {
					dopts = nil
				}
				if pt, err := d.Decrypt(rand.Reader, []byte{0x30, 1, 2}, dopts); err != errDestroyed {
					t.Errorf("Decrypt() after Destroy = %x, %v; want %v", pt, err, errDestroyed)
				}
			}
			if got := m.Public(); !publicKeyEqual(got, pub) {
				t.Errorf("Public() after Destroy = %v, want the public key", got)
			}
		})
	}
}

func publicKeyEqual(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

func TestPrivateRedacted(t *testing.T) {
	for _, spec := range []kms.KeySpec{kms.SpecRSA2048, kms.SpecECP256, kms.SpecECSM2} {
		m := newTestPrivate(t, spec)
		for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
			if got := fmt.Sprintf(format, m); got != "[REDACTED]" {
				t.Errorf("Sprintf(%q, %T) = %q, want [REDACTED]", format, m, got)
			}
		}
		var buf bytes.Buffer
		slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "v", m)
		if !strings.Contains(buf.String(), "v=[REDACTED]") {
			t.Errorf("slog of %T = %q, want v=[REDACTED]", m, buf.String())
		}
	}
}

// TestPKCS8Encoders checks that the sealed encoding is the standard one:
// crypto/x509 reads what RSA and ECDSA material seals.
func TestPKCS8Encoders(t *testing.T) {
	for _, spec := range []kms.KeySpec{kms.SpecRSA2048, kms.SpecECP256, kms.SpecECP384} {
		der, err := generatePrivate(spec, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := x509.ParsePKCS8PrivateKey(der); err != nil {
			t.Errorf("x509.ParsePKCS8PrivateKey(generatePrivate(%s)) err = %v", spec, err)
		}
	}
}
