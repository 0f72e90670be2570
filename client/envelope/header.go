package envelope

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"

	"github.com/emmansun/gmsm/sm3"
)

// Magic opens every envelope stream.
const Magic = "KHEV"

// Version is the format version this package writes and reads.
const Version = 1

// Chunk sizes: the plaintext bytes of every chunk but the last.
const (
	DefaultChunkSize = 64 << 10
	MinChunkSize     = 64
	MaxChunkSize     = 4 << 20
)

// Limits of the header's variable-length fields.
const (
	maxKeyIDLen        = 256
	maxEncryptedKeyLen = 4096
	maxContextLen      = 4096
	saltLen            = 16
	tagLen             = 16
	nonceLen           = 12
)

// Algorithm is a chunk cipher.
type Algorithm byte

// Chunk ciphers: the data key's length chooses one.
const (
	AES256GCM Algorithm = 1 // 32-byte data keys; HKDF and header digest with SHA-256
	SM4GCM    Algorithm = 2 // 16-byte data keys; HKDF and header digest with SM3
)

func (a Algorithm) String() string {
	switch a {
	case AES256GCM:
		return "AES-256-GCM"
	case SM4GCM:
		return "SM4-GCM"
	}
	return fmt.Sprintf("Algorithm(%d)", byte(a))
}

func (a Algorithm) keyLen() int {
	if a == SM4GCM {
		return 16
	}
	return 32
}

func (a Algorithm) hash() func() hash.Hash {
	if a == SM4GCM {
		return sm3.New
	}
	return sha256.New
}

func algorithmFor(keyLen int) (Algorithm, error) {
	switch keyLen {
	case 32:
		return AES256GCM, nil
	case 16:
		return SM4GCM, nil
	}
	return 0, fmt.Errorf("envelope: a %d-byte data key fits no chunk cipher (want 32 for AES-256-GCM or 16 for SM4-GCM)", keyLen)
}

// Errors of a stream that cannot be decrypted. Each is wrapped with detail
// (which chunk, which field).
var (
	// ErrInvalidHeader: not an envelope stream, an unknown version, or a
	// malformed header.
	ErrInvalidHeader = errors.New("envelope: invalid header")
	// ErrContextMismatch: the encryption context given is not the one the
	// stream was encrypted with.
	ErrContextMismatch = errors.New("envelope: the encryption context does not match the stream's")
	// ErrAuthentication: a chunk failed authentication: the data, its
	// order or the header was changed, or the stream was cut inside a chunk.
	ErrAuthentication = errors.New("envelope: authentication failed")
	// ErrTruncated: the stream ends at a chunk boundary before its final
	// chunk.
	ErrTruncated = errors.New("envelope: truncated stream")
)

// Header is the start of an envelope stream. Everything in it is
// authenticated: its digest is the associated data of every chunk.
type Header struct {
	Algorithm Algorithm
	ChunkSize int
	// KeyID is the CMK the data key was made under (for people; decryption
	// needs no key id, the encrypted data key names its CMK).
	KeyID string
	// EncryptedKey is the data key encrypted under the CMK.
	EncryptedKey []byte
	// Context is the encryption context, nil if none.
	Context map[string]string

	salt [saltLen]byte
	raw  []byte // the encoded header
}

// marshal encodes h into h.raw.
func (h *Header) marshal() error {
	var ctxJSON []byte
	if len(h.Context) > 0 {
		var err error
		if ctxJSON, err = json.Marshal(h.Context); err != nil { // sorted keys
			return err
		}
	}
	switch {
	case len(h.KeyID) > maxKeyIDLen:
		return fmt.Errorf("envelope: key id over %d bytes", maxKeyIDLen)
	case len(h.EncryptedKey) == 0 || len(h.EncryptedKey) > maxEncryptedKeyLen:
		return fmt.Errorf("envelope: encrypted data key of %d bytes; want 1 to %d", len(h.EncryptedKey), maxEncryptedKeyLen)
	case len(ctxJSON) > maxContextLen:
		return fmt.Errorf("envelope: encryption context over %d bytes of JSON", maxContextLen)
	}
	b := make([]byte, 0, 4+1+1+4+saltLen+6+len(h.KeyID)+len(h.EncryptedKey)+len(ctxJSON))
	b = append(b, Magic...)
	b = append(b, Version, byte(h.Algorithm))
	b = binary.BigEndian.AppendUint32(b, uint32(h.ChunkSize))
	b = append(b, h.salt[:]...)
	for _, f := range [][]byte{[]byte(h.KeyID), h.EncryptedKey, ctxJSON} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(f)))
		b = append(b, f...)
	}
	h.raw = b
	return nil
}

// ReadHeader reads and checks the header of an envelope stream, leaving r at
// the first chunk. It needs no key: use it to see which CMK and context a
// stream needs. Errors wrap ErrInvalidHeader, or are r's.
func ReadHeader(r io.Reader) (*Header, error) {
	var fixed [4 + 1 + 1 + 4 + saltLen]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return nil, headerIOError(err)
	}
	if string(fixed[:4]) != Magic {
		return nil, fmt.Errorf("%w: not an envelope stream (no %q magic)", ErrInvalidHeader, Magic)
	}
	if fixed[4] != Version {
		return nil, fmt.Errorf("%w: format version %d; this reader knows %d", ErrInvalidHeader, fixed[4], Version)
	}
	h := &Header{Algorithm: Algorithm(fixed[5]), ChunkSize: int(binary.BigEndian.Uint32(fixed[6:10]))}
	if h.Algorithm != AES256GCM && h.Algorithm != SM4GCM {
		return nil, fmt.Errorf("%w: unknown algorithm %d", ErrInvalidHeader, fixed[5])
	}
	if h.ChunkSize < MinChunkSize || h.ChunkSize > MaxChunkSize {
		return nil, fmt.Errorf("%w: chunk size %d out of range", ErrInvalidHeader, h.ChunkSize)
	}
	copy(h.salt[:], fixed[10:])
	raw := bytes.NewBuffer(append([]byte(nil), fixed[:]...))
	var fields [3][]byte
	for i, limit := range []int{maxKeyIDLen, maxEncryptedKeyLen, maxContextLen} {
		var n [2]byte
		if _, err := io.ReadFull(r, n[:]); err != nil {
			return nil, headerIOError(err)
		}
		l := int(binary.BigEndian.Uint16(n[:]))
		if l > limit {
			return nil, fmt.Errorf("%w: field %d is %d bytes, over %d", ErrInvalidHeader, i, l, limit)
		}
		fields[i] = make([]byte, l)
		if _, err := io.ReadFull(r, fields[i]); err != nil {
			return nil, headerIOError(err)
		}
		raw.Write(n[:])
		raw.Write(fields[i])
	}
	h.KeyID, h.EncryptedKey = string(fields[0]), fields[1]
	if len(h.EncryptedKey) == 0 {
		return nil, fmt.Errorf("%w: no encrypted data key", ErrInvalidHeader)
	}
	if len(fields[2]) > 0 {
		if err := json.Unmarshal(fields[2], &h.Context); err != nil || len(h.Context) == 0 {
			return nil, fmt.Errorf("%w: the encryption context is not a JSON object of strings", ErrInvalidHeader)
		}
	}
	h.raw = raw.Bytes()
	return h, nil
}

func headerIOError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: the stream ends inside its header", ErrInvalidHeader)
	}
	return err
}

// checkContext compares the context given for decryption with the header's.
func (h *Header) checkContext(given map[string]string) error {
	if len(given) == 0 && len(h.Context) == 0 || maps.Equal(given, h.Context) {
		return nil
	}
	return ErrContextMismatch
}

// digest is the associated data of every chunk: the hash of the header.
func (h *Header) digest() []byte {
	d := h.Algorithm.hash()()
	d.Write(h.raw)
	return d.Sum(nil)
}
