// Package backendtest is the conformance suite and the known-answer runners
// for every kms.Backend: Run checks the behaviour the domain relies on for
// each key spec a backend claims; LoadAEADVectors/RunAEADVectors,
// LoadRSAOAEPVectors/RunRSAOAEPVectors and
// LoadSignatureVectors/RunSignatureVectors drive Wycheproof vectors through
// a backend's AEAD, its RSA decryption, or a signature verifier.
//
// It is imported only by tests. It imports the domain (kms), leaf packages
// and gmsm (SM2), never a concrete backend or store.
package backendtest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"

	"github.com/emmansun/gmsm/sm2"

	"github.com/keyhaven/keyhaven/internal/blob"
	"github.com/keyhaven/keyhaven/kms"
)

// specWant is what Run expects of a spec's opened material.
type specWant struct {
	symmetric bool
	rsaBits   int            // RSA modulus size; 0 for other algorithms
	curve     elliptic.Curve // ECDSA or SM2 curve
	sm2       bool
}

func (w specWant) decrypter() bool { return w.rsaBits > 0 || w.sm2 }

func wantFor(spec kms.KeySpec) (specWant, bool) {
	switch spec {
	case kms.SpecSymmetricDefault, kms.SpecSM4:
		return specWant{symmetric: true}, true
	case kms.SpecRSA2048:
		return specWant{rsaBits: 2048}, true
	case kms.SpecRSA3072:
		return specWant{rsaBits: 3072}, true
	case kms.SpecRSA4096:
		return specWant{rsaBits: 4096}, true
	case kms.SpecECP256:
		return specWant{curve: elliptic.P256()}, true
	case kms.SpecECP384:
		return specWant{curve: elliptic.P384()}, true
	case kms.SpecECSM2:
		return specWant{curve: sm2.P256(), sm2: true}, true
	}
	return specWant{}, false
}

// Run checks that b behaves as the domain expects for each of specs (the
// specs b claims to support; at least one). Per spec: generated material
// opens, twice, into the same key; symmetric material is a
// kms.SymmetricMaterial whose AEAD round-trips blob ciphertext; asymmetric
// material is a kms.PrivateMaterial whose signatures verify with its public
// key (RSA PKCS #1 v1.5 and PSS, ECDSA ASN.1, SM2 over e and over a message
// with a user id), whose public key marshals to PKIX DER, and, for RSA and
// SM2, which decrypts what the public key encrypted (RSA-OAEP with SHA-1 and
// SHA-256; SM2 ASN.1 ciphertext) and refuses PKCS #1 v1.5 decryption. Each
// version has its own material; material opens only under the key id,
// version and spec it was generated for; stored bytes hold no plaintext
// private key; Destroy may be called twice; opened material is safe for
// concurrent use. Unknown specs are refused.
//
// RSA keys are generated twice per RSA spec (versions 1 and 2), so a 4096-bit
// run costs about two key generations.
func Run(t *testing.T, b kms.Backend, specs ...kms.KeySpec) {
	t.Helper()
	if len(specs) == 0 {
		t.Fatal("backendtest.Run: no key specs given; pass every spec the backend supports")
	}
	for _, spec := range specs {
		t.Run(string(spec), func(t *testing.T) { runSpec(t, b, spec, specs) })
	}
	t.Run("UnknownSpec", func(t *testing.T) {
		if stored, err := b.Generate(context.Background(), newID(t), 1, "NO_SUCH_SPEC"); err == nil {
			t.Errorf("Generate(spec NO_SUCH_SPEC) = %x, want an error", stored)
		}
	})
}

func newID(t *testing.T) string {
	t.Helper()
	id, err := blob.NewKeyID(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func runSpec(t *testing.T, b kms.Backend, spec kms.KeySpec, all []kms.KeySpec) {
	ctx := context.Background()
	w, ok := wantFor(spec)
	if !ok {
		t.Fatalf("backendtest.Run: spec %q has no expectations in the suite", spec)
	}
	generate := func(t *testing.T, id string, version uint32) []byte {
		t.Helper()
		stored, err := b.Generate(ctx, id, version, spec)
		if err != nil {
			t.Fatalf("Generate(%s, %d, %s) err = %v", id, version, spec, err)
		}
		return stored
	}
	open := func(t *testing.T, id string, version uint32, stored []byte) kms.Material {
		t.Helper()
		m, err := b.Open(ctx, id, version, spec, stored)
		if err != nil {
			t.Fatalf("Open(%s, %d, %s) err = %v", id, version, spec, err)
		}
		t.Cleanup(m.Destroy)
		return m
	}

	id := newID(t)
	s1, s2 := generate(t, id, 1), generate(t, id, 2)

	t.Run("GenerateOpenUse", func(t *testing.T) {
		m := open(t, id, 1, s1)
		checkMaterial(t, w, m)
		// A second Open of the same stored bytes is the same key.
		if err := sameKey(w, m, open(t, id, 1, s1)); err != nil {
			t.Errorf("Open twice: %v", err)
		}
	})

	t.Run("DistinctVersions", func(t *testing.T) {
		if bytes.Equal(s1, s2) {
			t.Fatalf("Generate returned the same stored material %x for versions 1 and 2", s1)
		}
		if err := sameKey(w, open(t, id, 1, s1), open(t, id, 2, s2)); err == nil {
			t.Errorf("versions 1 and 2 opened to the same key; want distinct material")
		}
		if w.rsaBits == 0 { // RSA generation is slow; two versions suffice
			if other := generate(t, newID(t), 1); bytes.Equal(s1, other) {
				t.Errorf("two keys got the same stored material %x", s1)
			}
		}
	})

	t.Run("OpenBoundToPlace", func(t *testing.T) {
		type place struct {
			name    string
			id      string
			version uint32
			spec    kms.KeySpec
			stored  []byte
		}
		tests := []place{
			{"other key id", newID(t), 1, spec, s1},
			{"other version", id, 3, spec, s1},
			{"version 0", id, 0, spec, s1},
			{"version 2's slot", id, 2, spec, s1},
			{"unknown spec", id, 1, "NO_SUCH_SPEC", s1},
			{"empty", id, 1, spec, nil},
			{"truncated", id, 1, spec, s1[:len(s1)-1]},
			{"flipped first bit", id, 1, spec, flip(s1, 0)},
			{"flipped last bit", id, 1, spec, flip(s1, len(s1)-1)},
		}
		for _, other := range all {
			if other != spec {
				tests = append(tests, place{"spec " + string(other), id, 1, other, s1})
			}
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if m, err := b.Open(ctx, tt.id, tt.version, tt.spec, tt.stored); err == nil {
					m.Destroy()
					t.Errorf("Open(%s, %d, %s, %d bytes) err = nil, want an error", tt.id, tt.version, tt.spec, len(tt.stored))
				}
			})
		}
	})

	if !w.symmetric {
		t.Run("NoPlaintextPrivateKey", func(t *testing.T) {
			for _, s := range [][]byte{s1, s2} {
				if off, kind, ok := findPrivateKey(s); ok {
					t.Errorf("stored material holds a plaintext %s private key at offset %d", kind, off)
				}
			}
		})
	}

	t.Run("DestroyTwice", func(t *testing.T) {
		m, err := b.Open(ctx, id, 1, spec, s1)
		if err != nil {
			t.Fatal(err)
		}
		m.Destroy()
		m.Destroy()
		// Using destroyed material may fail, but must not panic.
		_ = roundTrip(w, m)
	})

	t.Run("Concurrent", func(t *testing.T) {
		m := open(t, id, 1, s1)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				if err := roundTrip(w, m); err != nil {
					t.Errorf("concurrent use of %s material: %v", spec, err)
				}
				if w.rsaBits == 0 { // RSA generation is too slow to repeat
					if _, err := b.Generate(ctx, id, uint32(10+i), spec); err != nil {
						t.Errorf("concurrent Generate(%s) err = %v", spec, err)
					}
				}
			})
		}
		wg.Wait()
	})
}

// checkMaterial checks an opened material in depth, by kind.
func checkMaterial(t *testing.T, w specWant, m kms.Material) {
	t.Helper()
	if w.symmetric {
		checkSymmetric(t, m)
		return
	}
	checkPrivate(t, w, m)
}

func checkSymmetric(t *testing.T, m kms.Material) {
	t.Helper()
	sm, ok := m.(kms.SymmetricMaterial)
	if !ok {
		t.Fatalf("Open() = %T, want a kms.SymmetricMaterial", m)
	}
	if _, ok := m.(crypto.Signer); ok {
		t.Errorf("symmetric material %T is a crypto.Signer", m)
	}
	aead := sm.AEAD()
	if aead.NonceSize() != 12 || aead.Overhead() != 16 {
		t.Errorf("AEAD() nonce size %d, overhead %d; want 12, 16", aead.NonceSize(), aead.Overhead())
	}
	id := newID(t)
	pt := []byte("thirty-two bytes of plaintext!!!")
	ct, err := blob.Seal(aead, rand.Reader, id, 1, pt, map[string]string{"k": "v"})
	if err != nil {
		t.Fatalf("blob.Seal() err = %v", err)
	}
	if got, err := blob.Open(aead, ct, map[string]string{"k": "v"}); err != nil || !bytes.Equal(got, pt) {
		t.Errorf("blob.Open() = %q, %v; want %q, nil", got, err, pt)
	}
	if _, err := blob.Open(aead, ct, nil); err == nil {
		t.Errorf("blob.Open(without context) err = nil, want an error")
	}
	if _, err := blob.Open(aead, flip(ct, len(ct)-1), map[string]string{"k": "v"}); err == nil {
		t.Errorf("blob.Open(flipped tag) err = nil, want an error")
	}
}

// sameKey returns nil if a and b are the same key: one's AEAD opens the
// other's ciphertext, or their public keys are equal and one's signature
// verifies under the other's public key.
func sameKey(w specWant, a, b kms.Material) error {
	if w.symmetric {
		sa, ok1 := a.(kms.SymmetricMaterial)
		sb, ok2 := b.(kms.SymmetricMaterial)
		if !ok1 || !ok2 {
			return fmt.Errorf("materials %T, %T are not symmetric", a, b)
		}
		nonce := make([]byte, sa.AEAD().NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return err
		}
		pt := []byte("plaintext")
		ct := sa.AEAD().Seal(nil, nonce, pt, []byte("ad"))
		if got, err := sb.AEAD().Open(nil, nonce, ct, []byte("ad")); err != nil || !bytes.Equal(got, pt) {
			return fmt.Errorf("one AEAD does not open the other's ciphertext: got %q, %v", got, err)
		}
		return nil
	}
	pa, ok1 := a.(kms.PrivateMaterial)
	pb, ok2 := b.(kms.PrivateMaterial)
	if !ok1 || !ok2 {
		return fmt.Errorf("materials %T, %T are not private", a, b)
	}
	if !publicEqual(pa.Public(), pb.Public()) {
		return fmt.Errorf("public keys differ")
	}
	return signVerify(w, pb, pa.Public())
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	if len(c) > i {
		c[i] ^= 1
	}
	return c
}
