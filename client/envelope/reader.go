package envelope

import (
	"bytes"
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
)

// Reader decrypts a stream. It returns a chunk's plaintext only after the
// chunk authenticates; an error is final and wraps ErrAuthentication,
// ErrTruncated or the source's error. It is not safe for concurrent use.
type Reader struct {
	src    io.Reader
	header *Header
	aead   cipher.AEAD
	ad     []byte
	chunk  int
	ct     []byte // a chunk and the byte after it; opened in place
	pt     []byte // plaintext not returned yet (in ct)
	carry  []byte // the byte read past the last chunk: the next chunk's first
	nonce  [nonceLen]byte
	index  uint64
	done   bool
	err    error
}

// NewReader reads the header from src, checks that opts.Context is the
// stream's encryption context (ErrContextMismatch otherwise) and has keys
// decrypt the data key. Errors wrap ErrInvalidHeader, ErrContextMismatch,
// or are the KeyProvider's or src's.
func NewReader(ctx context.Context, src io.Reader, keys KeyProvider, opts *Options) (*Reader, error) {
	if opts == nil {
		opts = &Options{}
	}
	h, err := ReadHeader(src)
	if err != nil {
		return nil, err
	}
	if err := h.checkContext(opts.Context); err != nil {
		return nil, err
	}
	dk, err := keys.DecryptDataKey(ctx, h.EncryptedKey, opts.Context)
	if err != nil {
		return nil, fmt.Errorf("envelope: decrypt data key: %w", err)
	}
	defer clear(dk)
	aead, err := newAEAD(h, dk)
	if err != nil {
		return nil, err
	}
	return &Reader{
		src: src, header: h, aead: aead, ad: h.digest(), chunk: h.ChunkSize,
		ct: make([]byte, 0, h.ChunkSize+tagLen+1),
	}, nil
}

// Header returns the stream's header.
func (r *Reader) Header() *Header { return r.header }

// Read returns decrypted, authenticated data; io.EOF after the final chunk.
func (r *Reader) Read(p []byte) (int, error) {
	for len(r.pt) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.done {
			return 0, io.EOF
		}
		if len(p) >= r.chunk { // open straight into p
			pt, err := r.next(p)
			if err != nil {
				r.err = err
				return 0, err
			}
			if len(pt) > 0 {
				return len(pt), nil
			}
			continue
		}
		if r.pt, r.err = r.next(nil); r.err != nil {
			return 0, r.err
		}
	}
	n := copy(p, r.pt)
	r.pt = r.pt[n:]
	return n, nil
}

// next reads and opens the next chunk, into dst (at least chunk bytes) or,
// if dst is nil, in place.
func (r *Reader) next(dst []byte) ([]byte, error) {
	data, final, err := r.fill(r.ct)
	if err != nil {
		return nil, err
	}
	return r.open(data, final, dst)
}

// fill reads the next chunk into buf (of cap chunk+tag+1): it reads one byte
// past the chunk, which is kept for the next; a chunk with nothing after it
// is the final one.
func (r *Reader) fill(buf []byte) (data []byte, final bool, err error) {
	buf = append(buf[:0], r.carry...)
	m, err := io.ReadFull(r.src, buf[len(buf):cap(buf)])
	buf = buf[:len(buf)+m]
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return buf, true, nil
	case err != nil:
		return nil, false, err
	}
	r.carry = append(r.carry[:0], buf[len(buf)-1])
	return buf[:len(buf)-1], false, nil
}

// open authenticates and decrypts chunk data, into dst or, if dst is nil,
// in place.
func (r *Reader) open(data []byte, final bool, dst []byte) ([]byte, error) {
	switch {
	case len(data) == 0:
		return nil, fmt.Errorf("%w: no chunk after the header", ErrTruncated)
	case len(data) < tagLen:
		return nil, fmt.Errorf("%w: chunk %d is cut short", ErrAuthentication, r.index)
	case final && r.index > 0 && len(data) == tagLen:
		return nil, fmt.Errorf("%w: chunk %d is an empty final chunk", ErrAuthentication, r.index)
	}
	// A whole chunk at the end may be a chunk not marked final whose
	// successors were cut off; keep it to tell that apart (once a stream).
	var whole []byte
	if final && len(data) == r.chunk+tagLen {
		whole = bytes.Clone(data)
	}
	if dst == nil {
		dst = data
	}
	setNonce(&r.nonce, r.index, final)
	pt, err := r.aead.Open(dst[:0], r.nonce[:], data, r.ad)
	if err != nil {
		if whole != nil {
			setNonce(&r.nonce, r.index, false)
			if p, err := r.aead.Open(whole[:0], r.nonce[:], whole, r.ad); err == nil {
				clear(p)
				return nil, fmt.Errorf("%w: the stream ends after chunk %d, which is not the last", ErrTruncated, r.index)
			}
		}
		return nil, fmt.Errorf("%w: chunk %d (the data or the header was changed, or the stream was cut)", ErrAuthentication, r.index)
	}
	r.index++
	r.done = final
	return pt, nil
}
