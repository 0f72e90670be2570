package envelope_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/keyhaven/keyhaven/client/envelope"
)

const tamperChunk = 64

// tamperFixture is a 4-chunk stream (the last one short) and its layout.
type tamperFixture struct {
	keys   *fakeKeys
	opts   *envelope.Options
	data   []byte
	stream []byte
	header int // header length
}

func newTamperFixture(t *testing.T, keyLen int) *tamperFixture {
	f := &tamperFixture{
		keys: newFakeKeys(keyLen, "edk"),
		opts: &envelope.Options{ChunkSize: tamperChunk, Context: map[string]string{"app": "x"}},
		data: random(3*tamperChunk + 10),
	}
	f.stream = seal(t, f.keys, f.data, f.opts, 0)
	f.header = len(f.stream) - len(f.data) - 4*16
	return f
}

// chunkAt returns the byte range of chunk i.
func (f *tamperFixture) chunkAt(i int) (int, int) {
	start := f.header + i*(tamperChunk+16)
	return start, min(start+tamperChunk+16, len(f.stream))
}

// checkReleased fails unless out is a prefix of the data made of whole
// chunks before the damaged byte at offset.
func (f *tamperFixture) checkReleased(t *testing.T, what string, out []byte, offset int) {
	t.Helper()
	if !bytes.Equal(out, f.data[:len(out)]) {
		t.Errorf("%s: released bytes that are not the plaintext", what)
	}
	if len(out)%tamperChunk != 0 {
		t.Errorf("%s: released %d bytes, not whole chunks", what, len(out))
	}
	if offset >= 0 && len(out) > 0 && f.header+len(out)/tamperChunk*(tamperChunk+16) > offset {
		t.Errorf("%s: released %d bytes, including the damaged chunk at byte %d", what, len(out), offset)
	}
}

func (f *tamperFixture) open(stream []byte) ([]byte, error) {
	return open(f.keys, stream, &envelope.Options{Context: f.opts.Context}, 5)
}

// TestFlipEveryBit flips each bit of the stream in turn: every one must fail.
func TestFlipEveryBit(t *testing.T) {
	for _, keyLen := range []int{32, 16} {
		f := newTamperFixture(t, keyLen)
		for i := range len(f.stream) * 8 {
			s := bytes.Clone(f.stream)
			s[i/8] ^= 1 << (i % 8)
			out, err := f.open(s)
			if err == nil {
				t.Fatalf("key%d: flipping bit %d (byte %d of %d, header %d) went unnoticed", keyLen, i, i/8, len(s), f.header)
			}
			f.checkReleased(t, "flip", out, i/8)
		}
	}
}

// TestTruncateEverywhere cuts the stream at every length.
func TestTruncateEverywhere(t *testing.T) {
	f := newTamperFixture(t, 32)
	for n := range len(f.stream) {
		out, err := f.open(f.stream[:n])
		if err == nil {
			t.Fatalf("cutting the stream to %d of %d bytes went unnoticed", n, len(f.stream))
		}
		boundary := n >= f.header && (n-f.header)%(tamperChunk+16) == 0
		switch {
		case n < f.header && !errors.Is(err, envelope.ErrInvalidHeader):
			t.Errorf("cut to %d (inside the header): %v, want ErrInvalidHeader", n, err)
		case boundary && !errors.Is(err, envelope.ErrTruncated):
			t.Errorf("cut to %d (a chunk boundary): %v, want ErrTruncated", n, err)
		case n >= f.header && !boundary && !errors.Is(err, envelope.ErrAuthentication):
			t.Errorf("cut to %d (inside a chunk): %v, want ErrAuthentication", n, err)
		}
		f.checkReleased(t, "truncate", out, n)
	}
}

func TestTampering(t *testing.T) {
	f := newTamperFixture(t, 32)
	other := newTamperFixture(t, 32)
	sameKey := seal(t, f.keys, f.data, f.opts, 0) // same data key, another salt
	chunk := func(s []byte, i int) []byte {
		a, b := f.chunkAt(i)
		return s[a:b]
	}
	splice := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	hdr := f.stream[:f.header]
	c0, c1, c2, c3 := chunk(f.stream, 0), chunk(f.stream, 1), chunk(f.stream, 2), chunk(f.stream, 3)
	setChunkSize := func(n uint32) []byte {
		s := bytes.Clone(f.stream)
		binary.BigEndian.PutUint32(s[6:10], n)
		return s
	}
	editHeader := func(old, new string) []byte {
		s := bytes.Clone(hdr)
		i := bytes.Index(s, []byte(old))
		if i < 0 || len(old) != len(new) {
			t.Fatalf("header has no %q", old)
		}
		copy(s[i:], new)
		return splice(s, c0, c1, c2, c3)
	}
	cases := []struct {
		name    string
		stream  []byte
		context map[string]string
		want    error
	}{
		{"chunks 0 and 1 swapped", splice(hdr, c1, c0, c2, c3), f.opts.Context, envelope.ErrAuthentication},
		{"chunks 1 and 2 swapped", splice(hdr, c0, c2, c1, c3), f.opts.Context, envelope.ErrAuthentication},
		{"chunk 1 repeated", splice(hdr, c0, c1, c1, c2, c3), f.opts.Context, envelope.ErrAuthentication},
		{"chunk 1 dropped", splice(hdr, c0, c2, c3), f.opts.Context, envelope.ErrAuthentication},
		{"chunk from another stream (other key)", splice(hdr, c0, chunk(other.stream, 1), c2, c3), f.opts.Context, envelope.ErrAuthentication},
		{"chunk from another stream (same key)", splice(hdr, c0, chunk(sameKey, 1), c2, c3), f.opts.Context, envelope.ErrAuthentication},
		{"data appended", splice(f.stream, []byte{0}), f.opts.Context, envelope.ErrAuthentication},
		{"a chunk appended", splice(f.stream, c3), f.opts.Context, envelope.ErrAuthentication},
		{"key id changed", editHeader("key-1", "key-2"), f.opts.Context, envelope.ErrAuthentication},
		{"chunk size changed", setChunkSize(tamperChunk * 2), f.opts.Context, envelope.ErrAuthentication},
		{"chunk size out of range", setChunkSize(1), f.opts.Context, envelope.ErrInvalidHeader},
		{"context in header changed", editHeader(`"x"`, `"y"`), f.opts.Context, envelope.ErrContextMismatch},
		{"context in header and given changed", editHeader(`"x"`, `"y"`), map[string]string{"app": "y"}, errFakeDecrypt},
		{"wrong context", f.stream, map[string]string{"app": "y"}, envelope.ErrContextMismatch},
		{"extra context", f.stream, map[string]string{"app": "x", "b": "c"}, envelope.ErrContextMismatch},
		{"missing context", f.stream, nil, envelope.ErrContextMismatch},
		{"bad magic", splice([]byte("KHEW"), f.stream[4:]), f.opts.Context, envelope.ErrInvalidHeader},
		{"unknown version", splice([]byte("KHEV\x02"), f.stream[5:]), f.opts.Context, envelope.ErrInvalidHeader},
		{"unknown algorithm", splice([]byte("KHEV\x01\x03"), f.stream[6:]), f.opts.Context, envelope.ErrInvalidHeader},
		{"algorithm changed", splice([]byte("KHEV\x01\x02"), f.stream[6:]), f.opts.Context, envelope.ErrInvalidHeader},
		{"empty", nil, f.opts.Context, envelope.ErrInvalidHeader},
		{"header only", hdr, f.opts.Context, envelope.ErrTruncated},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := open(f.keys, tc.stream, &envelope.Options{Context: tc.context}, 1000)
			if !errors.Is(err, tc.want) {
				t.Errorf("open = %v, want %v", err, tc.want)
			}
			f.checkReleased(t, tc.name, out, -1)
			if limit := 3 * tamperChunk; len(out) > limit {
				t.Errorf("released %d bytes; want at most the %d before the last chunk", len(out), limit)
			}
		})
	}
}

// TestSwapBetweenStreamsOfTheSameKey checks that the salt separates streams
// even when a provider hands out the same data key twice.
func TestSwapBetweenStreamsOfTheSameKey(t *testing.T) {
	f := newTamperFixture(t, 16)
	again := seal(t, f.keys, f.data, f.opts, 0)
	if bytes.Equal(again[f.header:], f.stream[f.header:]) {
		t.Fatal("two streams of the same data and data key have the same chunks")
	}
	s := bytes.Clone(f.stream)
	copy(s[f.header:], again[f.header:f.header+tamperChunk+16])
	if _, err := f.open(s); !errors.Is(err, envelope.ErrAuthentication) {
		t.Errorf("open with chunk 0 of another stream = %v, want ErrAuthentication", err)
	}
}
