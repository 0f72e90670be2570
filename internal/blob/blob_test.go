package blob

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

const testKeyID = "0b3e4a1c-5d6f-4a8b-9c0d-1e2f3a4b5c6d"

func newAEAD(tb testing.TB, seed byte) cipher.AEAD {
	tb.Helper()
	key := bytes.Repeat([]byte{seed}, 32)
	block, err := aes.NewCipher(key)
	if err != nil {
		tb.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		tb.Fatal(err)
	}
	return aead
}

func mustSeal(tb testing.TB, aead cipher.AEAD, pt []byte, ctx map[string]string) []byte {
	tb.Helper()
	b, err := Seal(aead, rand.Reader, testKeyID, 7, pt, ctx)
	if err != nil {
		tb.Fatalf("Seal() err = %v", err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	aead := newAEAD(t, 1)
	tests := []struct {
		name      string
		keyID     string
		version   uint32
		plaintext []byte
		ctx       map[string]string
	}{
		{"empty plaintext", testKeyID, 1, nil, nil},
		{"32 bytes", testKeyID, 1, bytes.Repeat([]byte{0xaa}, 32), nil},
		{"4096 bytes", testKeyID, 1<<32 - 1, bytes.Repeat([]byte{0x55}, 4096), nil},
		{"with context", "ffffffff-ffff-ffff-ffff-ffffffffffff", 2, []byte("secret"), map[string]string{"b": "2", "a": "1"}},
		{"nil key id bytes", "00000000-0000-0000-0000-000000000000", 0, []byte("x"), map[string]string{"": ""}},
		{"big context", testKeyID, 3, []byte("x"), bigContext(20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Seal(aead, rand.Reader, tt.keyID, tt.version, tt.plaintext, tt.ctx)
			if err != nil {
				t.Fatalf("Seal() err = %v", err)
			}
			if got, want := len(b), len(tt.plaintext)+Overhead; got != want {
				t.Errorf("len(Seal()) = %d, want %d", got, want)
			}
			if cap(b) != len(b) {
				t.Errorf("cap(Seal()) = %d, want %d", cap(b), len(b))
			}
			h, err := Parse(b)
			if err != nil {
				t.Fatalf("Parse(%x) err = %v", b, err)
			}
			if h.KeyID != tt.keyID || h.Version != tt.version || len(h.Nonce) != 12 {
				t.Errorf("Parse() = %+v, want KeyID %s, Version %d, 12-byte nonce", h, tt.keyID, tt.version)
			}
			pt, err := Open(aead, b, tt.ctx)
			if err != nil {
				t.Fatalf("Open() err = %v", err)
			}
			if !bytes.Equal(pt, tt.plaintext) {
				t.Errorf("Open() = %x, want %x", pt, tt.plaintext)
			}
		})
	}
}

func bigContext(n int) map[string]string {
	m := make(map[string]string, n)
	for i := range n {
		m[strings.Repeat("k", i+1)] = strings.Repeat("v", n-i)
	}
	return m
}

func TestSealNoncesDiffer(t *testing.T) {
	aead := newAEAD(t, 1)
	a := mustSeal(t, aead, []byte("same"), nil)
	b := mustSeal(t, aead, []byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Errorf("two Seal() calls returned the same blob %x", a)
	}
}

func TestSealErrors(t *testing.T) {
	aead := newAEAD(t, 1)
	block, _ := aes.NewCipher(make([]byte, 32))
	odd, _ := cipher.NewGCMWithNonceSize(block, 16)
	tests := []struct {
		name  string
		aead  cipher.AEAD
		keyID string
		rand  *bytes.Reader
	}{
		{"uppercase key id", aead, strings.ToUpper(testKeyID), bytes.NewReader(make([]byte, 12))},
		{"short key id", aead, testKeyID[1:], bytes.NewReader(make([]byte, 12))},
		{"no hyphens", aead, "0b3e4a1c05d6f04a8b09c0d01e2f3a4b5c6d", bytes.NewReader(make([]byte, 12))},
		{"empty key id", aead, "", bytes.NewReader(make([]byte, 12))},
		{"16-byte nonce AEAD", odd, testKeyID, bytes.NewReader(make([]byte, 16))},
		{"rand fails", aead, testKeyID, bytes.NewReader(make([]byte, 5))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if b, err := Seal(tt.aead, tt.rand, tt.keyID, 1, []byte("x"), nil); err == nil {
				t.Errorf("Seal(keyID %q) = %x, want error", tt.keyID, b)
			}
		})
	}
}

func TestOpenWrongInputs(t *testing.T) {
	aead := newAEAD(t, 1)
	ctx := map[string]string{"purpose": "test", "tenant": "a"}
	b := mustSeal(t, aead, []byte("secret"), ctx)
	tests := []struct {
		name string
		aead cipher.AEAD
		ctx  map[string]string
	}{
		{"no context", aead, nil},
		{"changed value", aead, map[string]string{"purpose": "test", "tenant": "b"}},
		{"extra pair", aead, map[string]string{"purpose": "test", "tenant": "a", "x": ""}},
		{"missing pair", aead, map[string]string{"purpose": "test"}},
		{"shifted boundary", aead, map[string]string{"purpose": "testt", "enant": "a"}},
		{"other key", newAEAD(t, 2), ctx},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if pt, err := Open(tt.aead, b, tt.ctx); !errors.Is(err, ErrAuth) {
				t.Errorf("Open(ctx %v) = %q, %v; want %v", tt.ctx, pt, err, ErrAuth)
			}
		})
	}
	// An empty plaintext sealed without context fails under a context.
	e := mustSeal(t, aead, nil, nil)
	if _, err := Open(aead, e, map[string]string{"a": "b"}); !errors.Is(err, ErrAuth) {
		t.Errorf("Open(empty blob, ctx) err = %v, want %v", err, ErrAuth)
	}
	if _, err := Open(aead, e, map[string]string{}); err != nil {
		t.Errorf("Open(empty blob, empty ctx) err = %v, want nil", err)
	}
}

// TestFlipEveryBit checks that every single-bit change to a blob fails Open
// and nothing panics.
func TestFlipEveryBit(t *testing.T) {
	aead := newAEAD(t, 1)
	for _, ctx := range []map[string]string{nil, {"k": "v"}} {
		b := mustSeal(t, aead, []byte("thirty-two bytes of plaintext!!!"), ctx)
		for i := range b {
			for bit := range 8 {
				m := bytes.Clone(b)
				m[i] ^= 1 << bit
				if pt, err := Open(aead, m, ctx); err == nil {
					t.Fatalf("Open(blob with byte %d bit %d flipped) = %x, want error", i, bit, pt)
				} else if !errors.Is(err, ErrAuth) && !errors.Is(err, ErrMalformed) {
					t.Fatalf("Open(blob with byte %d bit %d flipped) err = %v, want ErrAuth or ErrMalformed", i, bit, err)
				}
			}
		}
	}
}

// TestEveryTruncation checks that every prefix and every extension of a blob
// fails Open.
func TestEveryTruncation(t *testing.T) {
	aead := newAEAD(t, 1)
	ctx := map[string]string{"k": "v"}
	b := mustSeal(t, aead, []byte("thirty-two bytes of plaintext!!!"), ctx)
	for n := range len(b) {
		if pt, err := Open(aead, b[:n], ctx); err == nil {
			t.Fatalf("Open(blob[:%d]) = %x, want error", n, pt)
		}
		if pt, err := Open(aead, b[len(b)-n:], ctx); err == nil {
			t.Fatalf("Open(blob[%d:]) = %x, want error", len(b)-n, pt)
		}
	}
	if pt, err := Open(aead, append(bytes.Clone(b), 0), ctx); err == nil {
		t.Errorf("Open(blob||0) = %x, want error", pt)
	}
}

func TestParse(t *testing.T) {
	aead := newAEAD(t, 1)
	good := mustSeal(t, aead, []byte("x"), nil)
	with := func(i int, v byte) []byte {
		m := bytes.Clone(good)
		m[i] = v
		return m
	}
	tests := []struct {
		name    string
		b       []byte
		wantErr error
	}{
		{"valid", good, nil},
		{"empty plaintext", good[:Overhead], nil},
		{"nil", nil, ErrMalformed},
		{"format 0", with(0, 0), ErrMalformed},
		{"format 2", with(0, 2), ErrMalformed},
		{"format 255", with(0, 255), ErrMalformed},
		{"nonce length 0", with(offNonceLen, 0), ErrMalformed},
		{"nonce length 16", with(offNonceLen, 16), ErrMalformed},
		{"nonce length 11", with(offNonceLen, 11), ErrMalformed},
		{"header only", good[:headerSize], ErrMalformed},
		{"short tag", good[:Overhead-1], ErrMalformed},
		{"fixed part only", good[:fixedSize], ErrMalformed},
		{"one byte", good[:1], ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.b)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Parse(%x) err = %v, want %v", tt.b, err, tt.wantErr)
			}
			if _, err := Open(aead, tt.b, nil); tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Open(%x) err = %v, want %v", tt.b, err, tt.wantErr)
			}
		})
	}
}

func TestParseAllocs(t *testing.T) {
	b := mustSeal(t, newAEAD(t, 1), []byte("x"), nil)
	// One allocation: the KeyID string.
	if n := testing.AllocsPerRun(100, func() { _, _ = Parse(b) }); n > 1 {
		t.Errorf("Parse allocs = %v, want <= 1", n)
	}
}

func TestSealOpenAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	aead := newAEAD(t, 1)
	pt := make([]byte, 32)
	for _, ctx := range []map[string]string{nil, {"tenant": "a", "purpose": "b"}} {
		b := mustSeal(t, aead, pt, ctx)
		if n := testing.AllocsPerRun(100, func() { _, _ = Seal(aead, rand.Reader, testKeyID, 1, pt, ctx) }); n > 1 {
			t.Errorf("Seal(ctx %v) allocs = %v, want 1", ctx, n)
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = Open(aead, b, ctx) }); n > 1 {
			t.Errorf("Open(ctx %v) allocs = %v, want 1", ctx, n)
		}
	}
}

func TestCanonicalContext(t *testing.T) {
	tests := []struct {
		name string
		a, b map[string]string
		same bool
	}{
		{"nil and empty", nil, map[string]string{}, true},
		{"order independent", map[string]string{"a": "1", "b": "2"}, map[string]string{"b": "2", "a": "1"}, true},
		{"key/value boundary", map[string]string{"a": "bc"}, map[string]string{"ab": "c"}, false},
		{"pair boundary", map[string]string{"a": "", "b": ""}, map[string]string{"a": "\x00\x00\x00\x01b\x00\x00\x00\x00"}, false},
		{"empty pair vs none", map[string]string{"": ""}, nil, false},
		{"key vs value", map[string]string{"a": ""}, map[string]string{"": "a"}, false},
		{"value differs", map[string]string{"a": "1"}, map[string]string{"a": "2"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ea, eb := CanonicalContext(tt.a), CanonicalContext(tt.b)
			if got := bytes.Equal(ea, eb); got != tt.same {
				t.Errorf("CanonicalContext(%q) = %x, CanonicalContext(%q) = %x; equal = %v, want %v", tt.a, ea, tt.b, eb, got, tt.same)
			}
		})
	}
	want := []byte("\x00\x00\x00\x01a\x00\x00\x00\x021x\x00\x00\x00\x01b\x00\x00\x00\x00")
	if got := CanonicalContext(map[string]string{"b": "", "a": "1x"}); !bytes.Equal(got, want) {
		t.Errorf("CanonicalContext({b:, a:1x}) = %q, want %q", got, want)
	}
	big := bigContext(30)
	first := CanonicalContext(big)
	for range 20 {
		if got := CanonicalContext(big); !bytes.Equal(got, first) {
			t.Fatalf("CanonicalContext is not deterministic: %x then %x", first, got)
		}
	}
}

func TestKeyID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id, err := NewKeyID(rand.Reader)
		if err != nil {
			t.Fatalf("NewKeyID() err = %v", err)
		}
		if !ValidKeyID(id) || id[14] != '4' || !strings.ContainsAny(id[19:20], "89ab") {
			t.Fatalf("NewKeyID() = %q, want a canonical v4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("NewKeyID() repeated %q", id)
		}
		seen[id] = true
	}
	if _, err := NewKeyID(bytes.NewReader(make([]byte, 3))); err == nil {
		t.Errorf("NewKeyID(short reader) err = nil, want error")
	}
	tests := []struct {
		s    string
		want bool
	}{
		{testKeyID, true},
		{"00000000-0000-0000-0000-000000000000", true},
		{"0B3E4A1C-5D6F-4A8B-9C0D-1E2F3A4B5C6D", false},
		{"0b3e4a1c-5d6f-4a8b-9c0d-1e2f3a4b5c6", false},
		{"0b3e4a1c-5d6f-4a8b-9c0d-1e2f3a4b5c6d0", false},
		{"0b3e4a1c5d6f-4a8b-9c0d-1e2f3a4b5c6d-", false},
		{"{b3e4a1c-5d6f-4a8b-9c0d-1e2f3a4b5c6d", false},
		{"0b3e4a1g-5d6f-4a8b-9c0d-1e2f3a4b5c6d", false},
		{"", false},
		{"alias/my-key", false},
	}
	for _, tt := range tests {
		if got := ValidKeyID(tt.s); got != tt.want {
			t.Errorf("ValidKeyID(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	aead := newAEAD(b, 1)
	pt := make([]byte, 32)
	for _, bc := range []struct {
		name string
		ctx  map[string]string
	}{{"NoContext", nil}, {"Context", map[string]string{"tenant": "a", "purpose": "b"}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(pt)))
			for b.Loop() {
				if _, err := Seal(aead, rand.Reader, testKeyID, 1, pt, bc.ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	aead := newAEAD(b, 1)
	pt := make([]byte, 32)
	for _, bc := range []struct {
		name string
		ctx  map[string]string
	}{{"NoContext", nil}, {"Context", map[string]string{"tenant": "a", "purpose": "b"}}} {
		b.Run(bc.name, func(b *testing.B) {
			blob := mustSeal(b, aead, pt, bc.ctx)
			b.ReportAllocs()
			b.SetBytes(int64(len(pt)))
			for b.Loop() {
				if _, err := Open(aead, blob, bc.ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
