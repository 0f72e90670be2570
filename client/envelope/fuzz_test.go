package envelope_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/keyhaven/keyhaven/client/envelope"
)

// FuzzReader feeds arbitrary streams to a Reader whose data key opens the
// seeds. It must never panic, and only an unchanged seed may decrypt.
func FuzzReader(f *testing.F) {
	aes := &fakeKeys{key: bytes.Repeat([]byte{7}, 32), label: []byte("edk-aes")}
	sm4 := &fakeKeys{key: bytes.Repeat([]byte{9}, 16), label: []byte("edk-sm4")}
	encCtx := map[string]string{"app": "fuzz"}
	var seeds [][]byte
	for _, keys := range []*fakeKeys{aes, sm4} {
		for _, size := range []int{0, 1, 64, 200} {
			// Deterministic, so every fuzz worker makes the same seeds.
			data := bytes.Repeat([]byte{byte(size)}, size)
			s := seal(f, keys, data, &envelope.Options{ChunkSize: 64, Context: encCtx, Rand: zeros{}}, 0)
			seeds = append(seeds, s)
			f.Add(s, keys == sm4)
		}
	}
	f.Add([]byte("KHEV\x01\x01\x00\x00\x00\x40"), false)
	f.Fuzz(func(t *testing.T, stream []byte, useSM4 bool) {
		keys := aes
		if useSM4 {
			keys = sm4
		}
		r, err := envelope.NewReader(context.Background(), bytes.NewReader(stream), keys, &envelope.Options{Context: encCtx})
		if err != nil {
			return
		}
		buf := make([]byte, 33)
		for {
			_, err = r.Read(buf)
			if err != nil {
				break
			}
		}
		if err != io.EOF {
			return
		}
		for _, s := range seeds {
			if bytes.Equal(s, stream) {
				return
			}
		}
		t.Fatalf("a stream that is no seed decrypted: %x", stream)
	})
}
