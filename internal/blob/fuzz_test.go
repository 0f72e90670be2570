package blob

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

func FuzzParse(f *testing.F) {
	aead := newAEAD(f, 1)
	f.Add(mustSeal(f, aead, []byte("seed"), nil))
	f.Add(mustSeal(f, aead, nil, nil))
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add(bytes.Repeat([]byte{1}, Overhead))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(%x) err = %v, want ErrMalformed", b, err)
			}
			return
		}
		if !ValidKeyID(h.KeyID) {
			t.Fatalf("Parse(%x).KeyID = %q, not a canonical UUID", b, h.KeyID)
		}
		enc, err := appendHeader(nil, h)
		if err != nil {
			t.Fatalf("appendHeader(Parse(%x)) err = %v", b, err)
		}
		if !bytes.Equal(enc, b[:headerSize]) {
			t.Fatalf("re-encoded header = %x, want %x", enc, b[:headerSize])
		}
	})
}

func FuzzOpen(f *testing.F) {
	aead := newAEAD(f, 1)
	ctx := map[string]string{"k": "v"}
	// A fixed nonce, so the fuzzing workers compute the same valid blob.
	valid, err := Seal(aead, bytes.NewReader(make([]byte, 12)), testKeyID, 7, []byte("seed plaintext"), ctx)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid, "k", "v")
	f.Add(valid, "k", "w")
	f.Add(mustSeal(f, aead, nil, nil), "", "")
	f.Add([]byte{1, 2, 3}, "", "")
	f.Fuzz(func(t *testing.T, b []byte, k, v string) {
		fctx := map[string]string{k: v}
		pt, err := Open(aead, b, fctx)
		if err == nil {
			if !bytes.Equal(b, valid) || k != "k" || v != "v" {
				t.Fatalf("Open(%x, {%q: %q}) = %x, want an error", b, k, v, pt)
			}
			return
		}
		if !errors.Is(err, ErrAuth) && !errors.Is(err, ErrMalformed) {
			t.Fatalf("Open(%x) err = %v, want ErrAuth or ErrMalformed", b, err)
		}
		// Sealing under the fuzzed context must round-trip.
		s, err := Seal(aead, rand.Reader, testKeyID, 1, b, fctx)
		if err != nil {
			t.Fatalf("Seal() err = %v", err)
		}
		if got, err := Open(aead, s, fctx); err != nil || !bytes.Equal(got, b) {
			t.Fatalf("Open(Seal(%x)) = %x, %v", b, got, err)
		}
	})
}
