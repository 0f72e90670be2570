// Package blob owns Keyhaven's ciphertext envelope: the self-describing byte
// string that Encrypt returns and Decrypt accepts (DESIGN rule 2).
//
// A format-1 blob is
//
//	byte  0        format version (1)
//	bytes 1..16    KeyId, the 16 bytes of the key's UUID
//	bytes 17..20   key version, big-endian
//	byte  21       nonce length n (12)
//	bytes 22..22+n nonce
//	rest           AEAD ciphertext || tag (at least 16 bytes)
//
// The header (everything before the ciphertext) followed by the canonical
// encoding of the encryption context is the AEAD's associated data, so a
// change to any byte of the blob, or to the context, fails Open.
//
// The package is a leaf: it imports only the standard library and must not
// import kms or any adapter. Parse failures are ErrMalformed and
// authentication failures are ErrAuth; the domain maps both to its
// invalid-ciphertext error.
package blob

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// FormatVersion is the envelope format this package writes.
const FormatVersion = 1

const (
	keyIDSize   = 16
	nonceSize   = 12
	tagSize     = 16
	fixedSize   = 1 + keyIDSize + 4 + 1 // format, key id, key version, nonce length
	headerSize  = fixedSize + nonceSize
	offKeyID    = 1
	offVersion  = offKeyID + keyIDSize
	offNonceLen = offVersion + 4
)

// Overhead is the number of bytes a format-1 blob adds to its plaintext.
const Overhead = headerSize + tagSize

var (
	// ErrMalformed means the bytes are not a well-formed blob: too short,
	// an unknown format version, or an unsupported nonce length.
	ErrMalformed = errors.New("blob: malformed ciphertext")
	// ErrAuth means the blob failed authentication: it was altered, the
	// encryption context differs, or the key is not the one that sealed it.
	ErrAuth = errors.New("blob: message authentication failed")
)

// Header is the clear part of a blob: which key version sealed it, and the
// nonce it used.
type Header struct {
	KeyID   string // canonical lowercase UUID
	Version uint32 // key version
	Nonce   []byte // aliases the parsed blob
}

// Seal encrypts plaintext with aead, a key version's AEAD, and returns a
// format-1 blob naming keyID and version. It draws a fresh nonce from rand.
// The encryption context is bound as associated data (see CanonicalContext).
// Seal returns an error if keyID is not a canonical UUID, if aead does not
// take 12-byte nonces and 16-byte tags, or if rand fails; it makes one
// allocation, for the result.
func Seal(aead cipher.AEAD, rand io.Reader, keyID string, version uint32, plaintext []byte, context map[string]string) ([]byte, error) {
	if aead.NonceSize() != nonceSize || aead.Overhead() != tagSize {
		return nil, fmt.Errorf("blob: AEAD has nonce size %d and overhead %d, want %d and %d",
			aead.NonceSize(), aead.Overhead(), nonceSize, tagSize)
	}
	var id [keyIDSize]byte
	if !decodeUUID(&id, keyID) {
		return nil, fmt.Errorf("blob: key id %q is not a canonical UUID", keyID)
	}
	// One buffer holds the blob and, after it, a copy of the associated data:
	// [header | ciphertext+tag | header | context]. The AEAD writes only the
	// ciphertext region, which does not overlap the associated data.
	n := headerSize + len(plaintext) + tagSize
	buf := make([]byte, n, n+headerSize+contextSize(context))
	putHeader(buf, &id, version)
	if _, err := io.ReadFull(rand, buf[fixedSize:headerSize]); err != nil {
		return nil, fmt.Errorf("blob: read nonce: %w", err)
	}
	ad := append(buf[n:], buf[:headerSize]...)
	ad = appendContext(ad, context)
	aead.Seal(buf[headerSize:headerSize], buf[fixedSize:headerSize], plaintext, ad)
	return buf[:n:n], nil
}

// Parse decodes the header of blob b without authenticating it. It returns
// ErrMalformed if b is too short, has an unknown format version or a nonce
// length other than 12, or carries fewer than 16 bytes of ciphertext. The
// returned Nonce aliases b.
func Parse(b []byte) (Header, error) {
	if err := check(b); err != nil {
		return Header{}, err
	}
	return Header{
		KeyID:   encodeUUID((*[keyIDSize]byte)(b[offKeyID:offVersion])),
		Version: binary.BigEndian.Uint32(b[offVersion:]),
		Nonce:   b[fixedSize:headerSize:headerSize],
	}, nil
}

// Open authenticates and decrypts blob b with aead, the AEAD of the key
// version named in b's header, and the encryption context given at Seal.
// It returns ErrMalformed if b does not parse and ErrAuth if it does not
// authenticate. It makes one allocation, for the plaintext.
func Open(aead cipher.AEAD, b []byte, context map[string]string) ([]byte, error) {
	if err := check(b); err != nil {
		return nil, err
	}
	if aead.NonceSize() != nonceSize || aead.Overhead() != tagSize {
		return nil, fmt.Errorf("blob: AEAD has nonce size %d and overhead %d, want %d and %d",
			aead.NonceSize(), aead.Overhead(), nonceSize, tagSize)
	}
	ct := b[headerSize:]
	n := len(ct) - tagSize
	var (
		buf []byte
		ad  = b[:headerSize]
	)
	if cs := contextSize(context); cs > 0 {
		// [plaintext | header | context] in one allocation.
		buf = make([]byte, n, n+headerSize+cs)
		ad = append(buf[n:], ad...)
		ad = appendContext(ad, context)
	} else {
		buf = make([]byte, n)
	}
	pt, err := aead.Open(buf[:0:n], b[fixedSize:headerSize], ct, ad)
	if err != nil {
		return nil, ErrAuth
	}
	return pt, nil
}

// check validates everything Parse validates, without allocating.
func check(b []byte) error {
	switch {
	case len(b) < fixedSize:
		return fmt.Errorf("%w: %d bytes is too short", ErrMalformed, len(b))
	case b[0] != FormatVersion:
		return fmt.Errorf("%w: unknown format version %d", ErrMalformed, b[0])
	case b[offNonceLen] != nonceSize:
		return fmt.Errorf("%w: nonce length %d, want %d", ErrMalformed, b[offNonceLen], nonceSize)
	case len(b) < headerSize+tagSize:
		return fmt.Errorf("%w: %d bytes is too short", ErrMalformed, len(b))
	}
	return nil
}

func putHeader(dst []byte, id *[keyIDSize]byte, version uint32) {
	dst[0] = FormatVersion
	copy(dst[offKeyID:], id[:])
	binary.BigEndian.PutUint32(dst[offVersion:], version)
	dst[offNonceLen] = nonceSize
}

// appendHeader appends h's encoding to dst; h must hold a valid key id and
// a 12-byte nonce.
func appendHeader(dst []byte, h Header) ([]byte, error) {
	var id [keyIDSize]byte
	if !decodeUUID(&id, h.KeyID) || len(h.Nonce) != nonceSize {
		return nil, errors.New("blob: invalid header")
	}
	var hdr [headerSize]byte
	putHeader(hdr[:], &id, h.Version)
	copy(hdr[fixedSize:], h.Nonce)
	return append(dst, hdr[:]...), nil
}

// CanonicalContext returns the encoding of an encryption context that Seal
// and Open bind as associated data: for each pair in ascending key order,
// the key's length (4 bytes, big-endian), the key, the value's length and
// the value. It is deterministic and injective; a nil and an empty context
// both encode as no bytes.
func CanonicalContext(ctx map[string]string) []byte {
	n := contextSize(ctx)
	if n == 0 {
		return nil
	}
	return appendContext(make([]byte, 0, n), ctx)
}

func contextSize(ctx map[string]string) int {
	n := 0
	for k, v := range ctx {
		n += 8 + len(k) + len(v)
	}
	return n
}

func appendContext(dst []byte, ctx map[string]string) []byte {
	if len(ctx) == 0 {
		return dst
	}
	var arr [8]string // small contexts sort on the stack
	keys := arr[:0]
	for k := range ctx {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := ctx[k]
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(k)))
		dst = append(dst, k...)
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(v)))
		dst = append(dst, v...)
	}
	return dst
}
