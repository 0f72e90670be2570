package envelope_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"maps"
	"runtime"
	"testing"
	"testing/iotest"

	"github.com/keyhaven/keyhaven/client/envelope"
)

// fakeKeys is a KeyProvider without a server: one fixed data key, "encrypted"
// as a label that names it, bound to the context given at generation.
type fakeKeys struct {
	key    []byte
	label  []byte
	encCtx map[string]string
}

func newFakeKeys(keyLen int, label string) *fakeKeys {
	k := make([]byte, keyLen)
	rand.Read(k)
	return &fakeKeys{key: k, label: []byte(label)}
}

var errFakeDecrypt = errors.New("fake: InvalidCiphertext")

func (f *fakeKeys) GenerateDataKey(_ context.Context, keyID string, encCtx map[string]string) (envelope.DataKey, error) {
	f.encCtx = maps.Clone(encCtx)
	return envelope.DataKey{KeyID: keyID, Plaintext: bytes.Clone(f.key), Encrypted: bytes.Clone(f.label)}, nil
}

func (f *fakeKeys) DecryptDataKey(_ context.Context, encrypted []byte, encCtx map[string]string) ([]byte, error) {
	if !bytes.Equal(encrypted, f.label) || !maps.Equal(encCtx, f.encCtx) {
		return nil, errFakeDecrypt
	}
	return bytes.Clone(f.key), nil
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// seal encrypts data with keys, writing it in pieces of write bytes (0: one
// Write; -1: io.Copy through ReadFrom).
func seal(t testing.TB, keys envelope.KeyProvider, data []byte, opts *envelope.Options, write int) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := envelope.NewWriter(context.Background(), &out, keys, "key-1", opts)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	switch {
	case write < 0:
		if _, err := io.Copy(w, iotest.HalfReader(bytes.NewReader(data))); err != nil {
			t.Fatalf("io.Copy: %v", err)
		}
	case write == 0:
		if n, err := w.Write(data); err != nil || n != len(data) {
			t.Fatalf("Write(%d bytes) = %d, %v", len(data), n, err)
		}
	default:
		for p := data; len(p) > 0; {
			k := min(write, len(p))
			if _, err := w.Write(p[:k]); err != nil {
				t.Fatalf("Write: %v", err)
			}
			p = p[k:]
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return out.Bytes()
}

// open decrypts stream and returns what the Reader released and its error.
func open(keys envelope.KeyProvider, stream []byte, opts *envelope.Options, read int) ([]byte, error) {
	r, err := envelope.NewReader(context.Background(), bytes.NewReader(stream), keys, opts)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	switch {
	case read < 0:
		_, err = io.Copy(&out, r) // WriteTo
	default:
		buf := make([]byte, read)
		for {
			n, rerr := r.Read(buf)
			out.Write(buf[:n])
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				err = rerr
				break
			}
		}
	}
	return out.Bytes(), err
}

func TestRoundTrip(t *testing.T) {
	const chunk = 256
	sizes := []int{0, 1, chunk - 1, chunk, chunk + 1, 2 * chunk, 5*chunk + 17}
	for _, keyLen := range []int{32, 16} {
		for _, size := range sizes {
			for _, io := range []struct{ write, read int }{{0, -1}, {1, 1}, {-1, 7}, {100, chunk}, {0, 3 * chunk}} {
				name := fmt.Sprintf("key%d/size%d/write%d/read%d", keyLen, size, io.write, io.read)
				t.Run(name, func(t *testing.T) {
					keys := newFakeKeys(keyLen, "edk")
					opts := &envelope.Options{ChunkSize: chunk, Context: map[string]string{"app": "x", "env": "test"}}
					data := random(size)
					stream := seal(t, keys, data, opts, io.write)
					chunks := max(1, (size+chunk-1)/chunk)
					if extra := len(stream) - size - 16*chunks; extra <= 0 || extra > 200 {
						t.Errorf("stream of %d bytes for %d bytes of data in %d chunks: header of %d bytes?", len(stream), size, chunks, extra)
					}
					got, err := open(keys, stream, &envelope.Options{Context: opts.Context}, io.read)
					if err != nil || !bytes.Equal(got, data) {
						t.Fatalf("open = %d bytes, %v; want the %d bytes written", len(got), err, size)
					}
				})
			}
		}
	}
}

func TestDefaultChunkSize(t *testing.T) {
	keys := newFakeKeys(32, "edk")
	data := random(3*envelope.DefaultChunkSize + 1)
	stream := seal(t, keys, data, nil, -1)
	r, err := envelope.NewReader(context.Background(), bytes.NewReader(stream), keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h := r.Header(); h.ChunkSize != envelope.DefaultChunkSize || h.Algorithm != envelope.AES256GCM || h.KeyID != "key-1" {
		t.Errorf("header = %+v", h)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadAll = %d bytes, %v", len(got), err)
	}
}

func TestWriterRefuses(t *testing.T) {
	cases := []struct {
		name string
		key  int
		opts *envelope.Options
	}{
		{"chunk too small", 32, &envelope.Options{ChunkSize: envelope.MinChunkSize - 1}},
		{"chunk too large", 32, &envelope.Options{ChunkSize: envelope.MaxChunkSize + 1}},
		{"24-byte data key", 24, nil},
		{"context too large", 32, &envelope.Options{Context: map[string]string{"k": string(make([]byte, 5000))}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := envelope.NewWriter(context.Background(), io.Discard, newFakeKeys(tc.key, "edk"), "k", tc.opts); err == nil {
				t.Errorf("NewWriter(%+v) succeeded, want an error", tc.opts)
			}
		})
	}
	var out bytes.Buffer
	w, err := envelope.NewWriter(context.Background(), &out, newFakeKeys(32, "edk"), "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("Write after Close succeeded")
	}
}

// TestConstantMemory streams 64 MiB through a Writer and a Reader and checks
// that they allocate about their buffers, not the data.
func TestConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 64 MiB")
	}
	keys := newFakeKeys(32, "edk")
	const size = 64 << 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	func() {
		pr, pw := io.Pipe()
		go func() {
			w, err := envelope.NewWriter(context.Background(), pw, keys, "k", nil)
			if err == nil {
				_, err = io.Copy(w, io.LimitReader(zeros{}, size))
			}
			if err == nil {
				err = w.Close()
			}
			pw.CloseWithError(err)
		}()
		r, err := envelope.NewReader(context.Background(), pr, keys, nil)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, r)
		if err != nil || n != size {
			t.Fatalf("copied %d, %v", n, err)
		}
	}()
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2<<20 {
		t.Errorf("a 64 MiB round trip allocated %d bytes; want about four 64 KiB chunk buffers", alloc)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
