package kms

import (
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"

	"github.com/keyhaven/keyhaven/internal/blob"
)

// EncryptInput is a request to encrypt up to MaxPlaintext bytes under a CMK.
type EncryptInput struct {
	Account   string
	KeyID     string
	Plaintext SecretBytes
	// Context is bound to the ciphertext; Decrypt must present the same pairs.
	Context map[string]string
}

// Encrypt encrypts under the newest version of an Enabled symmetric key and
// returns a self-describing ciphertext blob. It returns ErrInvalidPlaintext,
// ErrKeyNotFound, ErrInvalidKeyUsage or the key state's error.
func (s *Service) Encrypt(ctx context.Context, in EncryptInput) ([]byte, error) {
	if len(in.Plaintext) == 0 || len(in.Plaintext) > MaxPlaintext {
		return nil, fmt.Errorf("%w: plaintext has 1 to %d bytes", ErrInvalidPlaintext, MaxPlaintext)
	}
	return s.seal(ctx, in.Account, in.KeyID, in.Plaintext, in.Context)
}

// seal encrypts plaintext under the current version of the key.
func (s *Service) seal(ctx context.Context, account, keyID string, plaintext []byte, encCtx map[string]string) ([]byte, error) {
	if err := validateKeyID(keyID); err != nil {
		return nil, err
	}
	e, err := s.openKey(ctx, account, keyID)
	if err != nil {
		return nil, err
	}
	defer s.keys.release(e)
	if err := usable(&e.key, true); err != nil {
		return nil, err
	}
	aead, err := e.aead(e.key.CurrentVersion)
	if err != nil {
		return nil, err
	}
	out, err := blob.Seal(aead, s.rand, keyID, e.key.CurrentVersion, plaintext, encCtx)
	if err != nil {
		return nil, fmt.Errorf("kms: encrypt: %w", err)
	}
	return out, nil
}

// aead returns the cipher of one version, or ErrInvalidKeyUsage if the key
// does not encrypt symmetrically.
func (e *cachedKey) aead(version uint32) (cipher.AEAD, error) {
	if !e.key.Spec.Symmetric() {
		return nil, fmt.Errorf("kms: key %s is an asymmetric %s key: %w", e.key.ID, e.key.Spec, ErrInvalidKeyUsage)
	}
	m, ok := e.versions[version].(SymmetricMaterial)
	if !ok {
		return nil, fmt.Errorf("kms: key %s has no version %d: %w", e.key.ID, version, ErrInvalidCiphertext)
	}
	return m.AEAD(), nil
}

// DecryptInput is a request to decrypt a ciphertext blob. The blob names its
// key, so no KeyId is needed.
type DecryptInput struct {
	Account    string
	Ciphertext []byte
	Context    map[string]string
}

// DecryptOutput is a decrypted plaintext and the key that protected it.
type DecryptOutput struct {
	KeyID     string
	Plaintext SecretBytes
}

// Decrypt opens a blob made by Encrypt, GenerateDataKey or ReEncrypt. It
// returns ErrInvalidCiphertext for a malformed or altered blob, a wrong
// context, or a blob of a key the account does not have; and the key state's
// error for a key that cannot decrypt.
func (s *Service) Decrypt(ctx context.Context, in DecryptInput) (DecryptOutput, error) {
	h, err := blob.Parse(in.Ciphertext)
	if err != nil {
		return DecryptOutput{}, fmt.Errorf("kms: %w: %v", ErrInvalidCiphertext, err)
	}
	e, err := s.openKey(ctx, in.Account, h.KeyID)
	if errors.Is(err, ErrKeyNotFound) {
		return DecryptOutput{}, fmt.Errorf("kms: %w: no such key", ErrInvalidCiphertext)
	}
	if err != nil {
		return DecryptOutput{}, err
	}
	defer s.keys.release(e)
	if err := usable(&e.key, false); err != nil {
		return DecryptOutput{}, err
	}
	aead, err := e.aead(h.Version)
	if err != nil {
		return DecryptOutput{}, err
	}
	pt, err := blob.Open(aead, in.Ciphertext, in.Context)
	if err != nil {
		return DecryptOutput{}, fmt.Errorf("kms: %w: %v", ErrInvalidCiphertext, err)
	}
	return DecryptOutput{KeyID: h.KeyID, Plaintext: pt}, nil
}

// ReEncryptInput moves a ciphertext to another key, or to the newest version
// of its own key when DestinationKeyID is empty.
type ReEncryptInput struct {
	Account            string
	Ciphertext         []byte
	SourceContext      map[string]string
	DestinationKeyID   string
	DestinationContext map[string]string
}

// ReEncryptOutput is the new blob, its key and the key it came from.
type ReEncryptOutput struct {
	Ciphertext  []byte
	KeyID       string
	SourceKeyID string
}

// ReEncrypt decrypts and encrypts again inside the server; the plaintext
// never leaves it. Errors are those of Decrypt and Encrypt.
func (s *Service) ReEncrypt(ctx context.Context, in ReEncryptInput) (ReEncryptOutput, error) {
	src, err := s.Decrypt(ctx, DecryptInput{Account: in.Account, Ciphertext: in.Ciphertext, Context: in.SourceContext})
	if err != nil {
		return ReEncryptOutput{}, err
	}
	defer src.Plaintext.Wipe()
	dst := in.DestinationKeyID
	if dst == "" {
		dst = src.KeyID
	}
	out, err := s.seal(ctx, in.Account, dst, src.Plaintext, in.DestinationContext)
	if err != nil {
		return ReEncryptOutput{}, err
	}
	return ReEncryptOutput{Ciphertext: out, KeyID: dst, SourceKeyID: src.KeyID}, nil
}

// GenerateDataKeyInput asks for a data key of Bytes random bytes.
type GenerateDataKeyInput struct {
	Account string
	KeyID   string
	Bytes   int // 1 to MaxDataKeyBytes
	Context map[string]string
}

// DataKey is a fresh data key: its plaintext, and the same key encrypted
// under the CMK (a blob Decrypt opens).
type DataKey struct {
	KeyID      string
	Plaintext  SecretBytes
	Ciphertext []byte
}

// GenerateDataKey returns a new data key for envelope encryption; the server
// keeps no copy. Errors are those of Encrypt, and ErrInvalidParameter for a
// bad length.
func (s *Service) GenerateDataKey(ctx context.Context, in GenerateDataKeyInput) (DataKey, error) {
	if in.Bytes < MinDataKeyBytes || in.Bytes > MaxDataKeyBytes {
		return DataKey{}, fmt.Errorf("%w: a data key has %d to %d bytes", ErrInvalidParameter, MinDataKeyBytes, MaxDataKeyBytes)
	}
	pt := make(SecretBytes, in.Bytes)
	if _, err := io.ReadFull(s.rand, pt); err != nil {
		return DataKey{}, fmt.Errorf("kms: random: %w", err)
	}
	ct, err := s.seal(ctx, in.Account, in.KeyID, pt, in.Context)
	if err != nil {
		pt.Wipe()
		return DataKey{}, err
	}
	return DataKey{KeyID: in.KeyID, Plaintext: pt, Ciphertext: ct}, nil
}

// GenerateRandom returns n random bytes (1 to MaxRandomBytes), or
// ErrInvalidParameter.
func (s *Service) GenerateRandom(n int) ([]byte, error) {
	if n < 1 || n > MaxRandomBytes {
		return nil, fmt.Errorf("%w: NumberOfBytes is 1 to %d", ErrInvalidParameter, MaxRandomBytes)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return nil, fmt.Errorf("kms: random: %w", err)
	}
	return b, nil
}
