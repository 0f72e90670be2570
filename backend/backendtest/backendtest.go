// Package backendtest is the conformance suite and the known-answer runners
// for every kms.Backend: Run checks the behaviour the domain relies on, and
// LoadAEADVectors and RunAEADVectors drive a backend's AEAD through the
// Wycheproof AES-GCM vectors.
//
// It is imported only by tests. It imports the domain (kms) and leaf
// packages, never a concrete backend or store.
package backendtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"sync"
	"testing"

	"github.com/keyhaven/keyhaven/internal/blob"
	"github.com/keyhaven/keyhaven/kms"
)

// Run checks that b behaves as the domain expects for
// kms.SpecSymmetricDefault: generated material opens into a working AEAD,
// each version has its own material, material opens only under the key id
// and version it was generated for, unknown specs are refused, Destroy may
// be called twice, and opened material is safe for concurrent use.
func Run(t *testing.T, b kms.Backend) {
	ctx := context.Background()
	spec := kms.SpecSymmetricDefault

	newID := func(t *testing.T) string {
		t.Helper()
		id, err := blob.NewKeyID(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	generate := func(t *testing.T, id string, version uint32) []byte {
		t.Helper()
		stored, err := b.Generate(ctx, id, version, spec)
		if err != nil {
			t.Fatalf("Generate(%s, %d, %s) err = %v", id, version, spec, err)
		}
		return stored
	}
	open := func(t *testing.T, id string, version uint32, stored []byte) kms.SymmetricMaterial {
		t.Helper()
		m, err := b.Open(ctx, id, version, spec, stored)
		if err != nil {
			t.Fatalf("Open(%s, %d, %s) err = %v", id, version, spec, err)
		}
		sm, ok := m.(kms.SymmetricMaterial)
		if !ok {
			t.Fatalf("Open(%s, %d, %s) = %T, want a kms.SymmetricMaterial", id, version, spec, m)
		}
		t.Cleanup(sm.Destroy)
		return sm
	}

	t.Run("GenerateOpenEncrypt", func(t *testing.T) {
		id := newID(t)
		stored := generate(t, id, 1)
		m := open(t, id, 1, stored)
		pt := []byte("thirty-two bytes of plaintext!!!")
		ct, err := blob.Seal(m.AEAD(), rand.Reader, id, 1, pt, map[string]string{"k": "v"})
		if err != nil {
			t.Fatalf("blob.Seal() err = %v", err)
		}
		// A second Open of the same stored bytes is the same key.
		got, err := blob.Open(open(t, id, 1, stored).AEAD(), ct, map[string]string{"k": "v"})
		if err != nil || !bytes.Equal(got, pt) {
			t.Errorf("blob.Open() = %q, %v; want %q, nil", got, err, pt)
		}
		if _, err := blob.Open(m.AEAD(), ct, nil); err == nil {
			t.Errorf("blob.Open(without context) err = nil, want an error")
		}
	})

	t.Run("DistinctVersions", func(t *testing.T) {
		id := newID(t)
		s1, s2 := generate(t, id, 1), generate(t, id, 2)
		if bytes.Equal(s1, s2) {
			t.Fatalf("Generate returned the same stored material %x for versions 1 and 2", s1)
		}
		m1, m2 := open(t, id, 1, s1), open(t, id, 2, s2)
		ct, err := blob.Seal(m1.AEAD(), rand.Reader, id, 1, []byte("v1"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := blob.Open(m2.AEAD(), ct, nil); err == nil {
			t.Errorf("version 2's AEAD opened version 1's ciphertext; want distinct material")
		}
		other := generate(t, newID(t), 1)
		if bytes.Equal(s1, other) {
			t.Errorf("two keys got the same stored material %x", s1)
		}
	})

	t.Run("OpenBoundToPlace", func(t *testing.T) {
		id, other := newID(t), newID(t)
		stored := generate(t, id, 3)
		tests := []struct {
			name    string
			id      string
			version uint32
			spec    kms.KeySpec
			stored  []byte
		}{
			{"other key id", other, 3, spec, stored},
			{"other version", id, 4, spec, stored},
			{"version 0", id, 0, spec, stored},
			{"unknown spec", id, 3, "NO_SUCH_SPEC", stored},
			{"empty", id, 3, spec, nil},
			{"truncated", id, 3, spec, stored[:len(stored)-1]},
			{"flipped last bit", id, 3, spec, flipLast(stored)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if m, err := b.Open(ctx, tt.id, tt.version, tt.spec, tt.stored); err == nil {
					m.Destroy()
					t.Errorf("Open(%s, %d, %s, %x) err = nil, want an error", tt.id, tt.version, tt.spec, tt.stored)
				}
			})
		}
	})

	t.Run("UnknownSpec", func(t *testing.T) {
		if stored, err := b.Generate(ctx, newID(t), 1, "NO_SUCH_SPEC"); err == nil {
			t.Errorf("Generate(spec NO_SUCH_SPEC) = %x, want an error", stored)
		}
	})

	t.Run("DestroyTwice", func(t *testing.T) {
		id := newID(t)
		m, err := b.Open(ctx, id, 1, spec, generate(t, id, 1))
		if err != nil {
			t.Fatal(err)
		}
		m.Destroy()
		m.Destroy()
	})

	t.Run("Concurrent", func(t *testing.T) {
		id := newID(t)
		stored := generate(t, id, 1)
		m := open(t, id, 1, stored)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				pt := []byte{byte(i)}
				ct, err := blob.Seal(m.AEAD(), rand.Reader, id, 1, pt, nil)
				if err != nil {
					t.Error(err)
					return
				}
				if got, err := blob.Open(m.AEAD(), ct, nil); err != nil || !bytes.Equal(got, pt) {
					t.Errorf("concurrent blob.Open() = %x, %v; want %x", got, err, pt)
				}
				if _, err := b.Generate(ctx, id, uint32(10+i), spec); err != nil {
					t.Errorf("concurrent Generate() err = %v", err)
				}
			})
		}
		wg.Wait()
	})
}

func flipLast(b []byte) []byte {
	c := bytes.Clone(b)
	if len(c) > 0 {
		c[len(c)-1] ^= 1
	}
	return c
}
