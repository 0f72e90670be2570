// Package envelope encrypts streams of any size with a data key from the
// KMS (envelope encryption): the KMS makes a data key and returns it in the
// clear and encrypted under a CMK; the data is encrypted here, in chunks,
// and only the encrypted data key is kept, in the stream's header. Memory
// use is constant (two chunk buffers) whatever the stream's size.
//
// # Format (version 1)
//
// All integers are big-endian.
//
//	header:
//	  magic        4 bytes  "KHEV"
//	  version      1 byte   1
//	  algorithm    1 byte   1 = AES-256-GCM (32-byte data key), 2 = SM4-GCM (16-byte data key)
//	  chunk size   4 bytes  plaintext bytes per chunk, 64 to 4 MiB (default 64 KiB)
//	  salt        16 bytes  random
//	  key id       2 + n    the CMK's id (n ≤ 256), for people
//	  data key     2 + n    the data key encrypted under the CMK (1 ≤ n ≤ 4096)
//	  context      2 + n    the encryption context as JSON with sorted keys, or empty (n ≤ 4096)
//	chunks:
//	  chunk i      AEAD-seal(chunk key, nonce(i, final), plaintext i, header digest)
//	               = ciphertext (same length as plaintext i) || 16-byte tag
//
// The chunk key is HKDF(data key, salt, "keyhaven envelope v1 chunk key"),
// with SHA-256 for AES-256-GCM and SM3 for SM4-GCM; the header digest (the
// associated data of every chunk) is the same hash of the whole encoded
// header. The 12-byte nonce of chunk i is i as an 11-byte big-endian number
// followed by one byte: 1 for the last chunk, 0 otherwise. Every chunk but
// the last holds exactly chunk-size plaintext bytes; the last holds 1 to
// chunk-size bytes, or 0 when the whole stream is empty.
//
// So a flipped bit anywhere, a changed header, reordered chunks, chunks
// swapped in from another stream (another data key and salt) and a stream
// cut at any point are all detected; the encryption context is bound to the
// data key by the KMS and to every chunk through the header. A Reader
// releases a chunk's plaintext only after the chunk authenticates.
//
// The package must not import the server or the kms domain; it reaches the
// KMS through a KeyProvider (FromClient adapts a *client.Client).
package envelope

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/emmansun/gmsm/sm4"

	"github.com/keyhaven/keyhaven/client"
)

// DataKey is a fresh data key: in the clear and encrypted under KeyID.
type DataKey struct {
	KeyID     string
	Plaintext []byte
	Encrypted []byte
}

// KeyProvider is the KMS side of envelope encryption. Writers and Readers
// wipe the plaintext data keys it returns once they have derived their chunk
// key, so it must return a fresh slice every time.
type KeyProvider interface {
	// GenerateDataKey returns a new data key under the CMK keyID, bound to
	// encCtx; its plaintext is 32 bytes (AES-256-GCM) or 16 (SM4-GCM).
	GenerateDataKey(ctx context.Context, keyID string, encCtx map[string]string) (DataKey, error)
	// DecryptDataKey returns the plaintext of an encrypted data key; it
	// fails if encCtx is not the context the key was made with.
	DecryptDataKey(ctx context.Context, encrypted []byte, encCtx map[string]string) ([]byte, error)
}

// FromClient returns a KeyProvider that calls GenerateDataKey (the server
// suite's default data key) and Decrypt through c.
func FromClient(c *client.Client) KeyProvider { return clientKeys{c} }

type clientKeys struct{ c *client.Client }

func (k clientKeys) GenerateDataKey(ctx context.Context, keyID string, encCtx map[string]string) (DataKey, error) {
	resp, err := k.c.GenerateDataKey(ctx, client.GenerateDataKeyRequest{KeyID: keyID, EncryptionContext: encCtx})
	if err != nil {
		return DataKey{}, err
	}
	return DataKey{KeyID: resp.KeyID, Plaintext: resp.Plaintext, Encrypted: resp.CiphertextBlob}, nil
}

func (k clientKeys) DecryptDataKey(ctx context.Context, encrypted []byte, encCtx map[string]string) ([]byte, error) {
	resp, err := k.c.Decrypt(ctx, client.DecryptRequest{CiphertextBlob: encrypted, EncryptionContext: encCtx})
	if err != nil {
		return nil, err
	}
	return resp.Plaintext, nil
}

// Options tune a Writer or a Reader; the zero value (or nil) is the default.
type Options struct {
	// Context is the encryption context. The Writer binds it to the data key
	// and records it in the header; the Reader needs the same one.
	Context map[string]string
	// ChunkSize is the Writer's plaintext bytes per chunk, MinChunkSize to
	// MaxChunkSize; 0 is DefaultChunkSize.
	ChunkSize int
	// Rand is the Writer's source of the header's salt; nil is crypto/rand.
	Rand io.Reader
}

const chunkKeyInfo = "keyhaven envelope v1 chunk key"

// newAEAD derives the chunk key from the data key and h's salt.
func newAEAD(h *Header, dataKey []byte) (cipher.AEAD, error) {
	if len(dataKey) != h.Algorithm.keyLen() {
		return nil, fmt.Errorf("%w: the data key is %d bytes; %v takes %d", ErrInvalidHeader, len(dataKey), h.Algorithm, h.Algorithm.keyLen())
	}
	key, err := hkdf.Key(h.Algorithm.hash(), dataKey, h.salt[:], chunkKeyInfo, len(dataKey))
	if err != nil {
		return nil, fmt.Errorf("envelope: derive chunk key: %w", err)
	}
	defer clear(key)
	var block cipher.Block
	if h.Algorithm == SM4GCM {
		block, err = sm4.NewCipher(key)
	} else {
		block, err = aes.NewCipher(key)
	}
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	return cipher.NewGCM(block)
}

// setNonce writes chunk index's nonce into n.
func setNonce(n *[nonceLen]byte, index uint64, final bool) {
	binary.BigEndian.PutUint64(n[3:11], index)
	n[11] = 0
	if final {
		n[11] = 1
	}
}

var errClosed = errors.New("envelope: write to a closed Writer")

// Writer encrypts a stream. Close it to write the final chunk: a stream
// without it does not decrypt. It is not safe for concurrent use.
type Writer struct {
	dst    io.Writer
	header *Header
	aead   cipher.AEAD
	ad     []byte
	chunk  int
	buf    []byte // pending plaintext (up to chunk+1 bytes); chunks are sealed in place
	out    []byte // a chunk sealed from the caller's buffer
	nonce  [nonceLen]byte
	index  uint64
	err    error
}

// NewWriter asks keys for a data key under keyID, writes the header to dst
// and returns a Writer of the data. Close writes the final chunk and does not
// close dst. Errors are the KeyProvider's, dst's, or invalid options.
func NewWriter(ctx context.Context, dst io.Writer, keys KeyProvider, keyID string, opts *Options) (*Writer, error) {
	if opts == nil {
		opts = &Options{}
	}
	chunk := opts.ChunkSize
	if chunk == 0 {
		chunk = DefaultChunkSize
	}
	if chunk < MinChunkSize || chunk > MaxChunkSize {
		return nil, fmt.Errorf("envelope: chunk size %d; want %d to %d", chunk, MinChunkSize, MaxChunkSize)
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	dk, err := keys.GenerateDataKey(ctx, keyID, opts.Context)
	if err != nil {
		return nil, fmt.Errorf("envelope: generate data key: %w", err)
	}
	defer clear(dk.Plaintext)
	alg, err := algorithmFor(len(dk.Plaintext))
	if err != nil {
		return nil, err
	}
	h := &Header{Algorithm: alg, ChunkSize: chunk, KeyID: dk.KeyID, EncryptedKey: dk.Encrypted, Context: opts.Context}
	if _, err := io.ReadFull(rnd, h.salt[:]); err != nil {
		return nil, fmt.Errorf("envelope: salt: %w", err)
	}
	if err := h.marshal(); err != nil {
		return nil, err
	}
	aead, err := newAEAD(h, dk.Plaintext)
	if err != nil {
		return nil, err
	}
	if _, err := dst.Write(h.raw); err != nil {
		return nil, err
	}
	return &Writer{
		dst: dst, header: h, aead: aead, ad: h.digest(), chunk: chunk,
		buf: make([]byte, 0, chunk+tagLen),
	}, nil
}

// Header returns the header written.
func (w *Writer) Header() *Header { return w.header }

// Write encrypts p. A full chunk is sealed once more data follows it, so the
// last chunk can be marked final by Close.
func (w *Writer) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 && w.err == nil {
		if len(w.buf) == 0 && len(p) > w.chunk { // a whole chunk, and more after it
			w.seal(p[:w.chunk], false)
			p, n = p[w.chunk:], n+w.chunk
			continue
		}
		k := copy(w.buf[len(w.buf):w.chunk+1], p)
		w.buf, p, n = w.buf[:len(w.buf)+k], p[k:], n+k
		w.flushFull()
	}
	return n, w.err
}

// flushFull seals, in place, a full pending chunk that has a byte after it.
func (w *Writer) flushFull() {
	if len(w.buf) > w.chunk {
		next := w.buf[w.chunk]
		w.seal(w.buf[:w.chunk], false)
		w.buf = append(w.buf[:0], next)
	}
}

// seal seals p, either buf's start (in place) or the caller's bytes (into
// out), and writes the chunk.
func (w *Writer) seal(p []byte, final bool) {
	dst := w.buf[:0]
	if len(p) > 0 && &p[0] != &w.buf[:1][0] {
		if w.out == nil {
			w.out = make([]byte, 0, w.chunk+tagLen)
		}
		dst = w.out[:0]
	}
	if sealed, ok := w.sealChunk(dst, p, final); ok {
		if _, err := w.dst.Write(sealed); err != nil {
			w.err = err
		}
	}
}

// sealChunk seals p as the next chunk into dst; false if the Writer failed.
func (w *Writer) sealChunk(dst, p []byte, final bool) ([]byte, bool) {
	if w.err != nil {
		return nil, false
	}
	if w.index == 1<<64-1 {
		w.err = errors.New("envelope: too many chunks")
		return nil, false
	}
	setNonce(&w.nonce, w.index, final)
	w.index++
	return w.aead.Seal(dst, w.nonce[:], p, w.ad), true
}

// Close seals and writes the final chunk. It does not close the
// destination. Closing twice returns nil; writing after Close fails.
func (w *Writer) Close() error {
	if w.err == errClosed {
		return nil
	}
	w.seal(w.buf, true)
	clear(w.buf[:cap(w.buf)])
	if w.err != nil {
		return w.err
	}
	w.err = errClosed
	return nil
}
