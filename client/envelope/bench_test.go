package envelope_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm4"

	"github.com/keyhaven/keyhaven/client/envelope"
)

const benchSize = 1 << 30

// BenchmarkEnvelope1GiB measures, in one run, for each chunk cipher:
//
//   - raw: the bare AEAD sealing 1 GiB in chunks of the envelope's size from
//     a buffer in the CPU cache: the cipher's ceiling on this CPU;
//   - encrypt: an envelope Writer fed 1 GiB (a 1 MiB block over and over,
//     like a file in the page cache) into io.Discard;
//   - decrypt: an envelope Reader of that 1 GiB stream, held in memory,
//     into io.Discard;
//   - raw-open-mem: the bare AEAD opening 1 GiB of chunks held in memory,
//     the ceiling of decryption once the stream must come from RAM.
//
// It reports MB/s (the best of b.N interleaved runs: the machine is shared)
// and each envelope figure as a share of its ceiling:
//
//	go test -run '^$' -bench Envelope1GiB -benchtime 5x ./client/envelope
func BenchmarkEnvelope1GiB(b *testing.B) {
	for _, alg := range []struct {
		name   string
		keyLen int
		block  func([]byte) (cipher.Block, error)
	}{{"AES-256-GCM", 32, aes.NewCipher}, {"SM4-GCM", 16, sm4.NewCipher}} {
		b.Run(alg.name, func(b *testing.B) {
			keys := newFakeKeys(alg.keyLen, "edk")
			src := random(1 << 20) // the plaintext: this block over and over
			block, err := alg.block(random(alg.keyLen))
			if err != nil {
				b.Fatal(err)
			}
			aead, _ := cipher.NewGCM(block)
			encrypt := func(dst io.Writer) {
				w, err := envelope.NewWriter(context.Background(), dst, keys, "k", nil)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(w, &repeatReader{block: src, left: benchSize}); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
			var stream bytes.Buffer
			stream.Grow(benchSize + benchSize/envelope.DefaultChunkSize*16 + 4096)
			encrypt(&stream)
			sealedRaw := rawSealAll(aead, src)

			best := [4]time.Duration{1 << 62, 1 << 62, 1 << 62, 1 << 62}
			b.ResetTimer()
			for range b.N {
				for i, f := range []func(){
					func() { rawSeal(aead, src) },
					func() { encrypt(io.Discard) },
					func() {
						r, err := envelope.NewReader(context.Background(), bytes.NewReader(stream.Bytes()), keys, nil)
						if err != nil {
							b.Fatal(err)
						}
						if n, err := io.Copy(io.Discard, r); err != nil || n != benchSize {
							b.Fatalf("decrypted %d bytes, %v", n, err)
						}
					},
					func() { rawOpenAll(b, aead, sealedRaw) },
				} {
					best[i] = min(best[i], timeIt(f))
				}
			}
			mbs := func(d time.Duration) float64 { return benchSize / 1e6 / d.Seconds() }
			raw, enc, dec, rawMem := mbs(best[0]), mbs(best[1]), mbs(best[2]), mbs(best[3])
			b.ReportMetric(raw, "raw-MB/s")
			b.ReportMetric(enc, "encrypt-MB/s")
			b.ReportMetric(dec, "decrypt-MB/s")
			b.ReportMetric(rawMem, "raw-open-mem-MB/s")
			b.ReportMetric(100*enc/raw, "encrypt-%raw")
			b.ReportMetric(100*dec/raw, "decrypt-%raw")
			b.ReportMetric(100*dec/rawMem, "decrypt-%raw-open-mem")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func timeIt(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

const benchChunk = envelope.DefaultChunkSize

// rawSeal seals 1 GiB from src in chunks with the bare AEAD.
func rawSeal(aead cipher.AEAD, src []byte) {
	out := make([]byte, 0, benchChunk+16)
	var nonce [12]byte
	for i := range benchSize / benchChunk {
		binary.BigEndian.PutUint64(nonce[3:], uint64(i))
		off := i * benchChunk % len(src)
		out = aead.Seal(out[:0], nonce[:], src[off:off+benchChunk], nil)
	}
}

// rawSealAll returns 1 GiB of chunks sealed with the bare AEAD.
func rawSealAll(aead cipher.AEAD, src []byte) []byte {
	all := make([]byte, 0, benchSize/benchChunk*(benchChunk+16))
	var nonce [12]byte
	for i := range benchSize / benchChunk {
		binary.BigEndian.PutUint64(nonce[3:], uint64(i))
		off := i * benchChunk % len(src)
		all = aead.Seal(all, nonce[:], src[off:off+benchChunk], nil)
	}
	return all
}

// rawOpenAll opens the chunks of rawSealAll into a buffer in the cache.
func rawOpenAll(b *testing.B, aead cipher.AEAD, all []byte) {
	out := make([]byte, 0, benchChunk)
	var nonce [12]byte
	for i := range benchSize / benchChunk {
		binary.BigEndian.PutUint64(nonce[3:], uint64(i))
		var err error
		if out, err = aead.Open(out[:0], nonce[:], all[i*(benchChunk+16):(i+1)*(benchChunk+16)], nil); err != nil {
			b.Fatal(err)
		}
	}
}

// repeatReader yields left bytes of block repeated, like a file in the page
// cache.
type repeatReader struct {
	block []byte
	off   int
	left  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.left)], r.block[r.off:])
	r.off = (r.off + n) % len(r.block)
	r.left -= n
	return n, nil
}
