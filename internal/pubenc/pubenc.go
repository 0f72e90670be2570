// Package pubenc encrypts a plaintext that the KMS returns (a data key, or
// a decrypted value) under a public key the caller supplies, so the
// plaintext never crosses the wire in the clear: the EncryptionPublicKey and
// EncryptionAlgorithm options of Tencent's GenerateDataKey and Decrypt.
//
// Keys are PEM "PUBLIC KEY" blocks (PKIX SubjectPublicKeyInfo) holding an
// RSA-2048 key or an SM2 key. Algorithms carry Tencent's names.
//
// The package is a leaf: it imports the standard library and
// github.com/emmansun/gmsm, never kms or an adapter. Bad keys are
// ErrInvalidPublicKey and unknown algorithm names ErrUnsupportedAlgorithm,
// both wrapped with the reason.
package pubenc

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// Algorithms, named as Tencent names them.
const (
	// SM2 is SM2 encryption with the ciphertext as raw C1C3C2: C1 as an
	// uncompressed point (0x04 || x || y, 65 bytes), C3 the 32-byte SM3
	// digest, then C2. It is the default when the algorithm is "".
	SM2 = "SM2"
	// SM2C1C3C2ASN1 is SM2 encryption with the ciphertext as the ASN.1
	// SEQUENCE {x, y, C3, C2} of GB/T 35276.
	SM2C1C3C2ASN1 = "SM2_C1C3C2_ASN1"
	// RSAPKCS1v15 is RSAES-PKCS1-v1_5.
	RSAPKCS1v15 = "RSAES_PKCS1_V1_5"
	// RSAOAEPSHA1 is RSAES-OAEP with SHA-1 and MGF1-SHA-1.
	RSAOAEPSHA1 = "RSAES_OAEP_SHA_1"
	// RSAOAEPSHA256 is RSAES-OAEP with SHA-256 and MGF1-SHA-256.
	RSAOAEPSHA256 = "RSAES_OAEP_SHA_256"
)

// RSABits is the only RSA modulus size accepted.
const RSABits = 2048

var (
	// ErrInvalidPublicKey means the PEM does not hold a usable public key:
	// not a PUBLIC KEY block, not PKIX, not RSA-2048 or SM2, or not the
	// kind of key the algorithm needs.
	ErrInvalidPublicKey = errors.New("pubenc: invalid public key")
	// ErrUnsupportedAlgorithm means the algorithm name is not one of those
	// this package offers.
	ErrUnsupportedAlgorithm = errors.New("pubenc: unsupported encryption algorithm")
)

// PublicKey is a parsed, checked public key paired with the algorithm it
// encrypts with. It is safe for concurrent use.
type PublicKey struct {
	algorithm string
	rsa       *rsa.PublicKey
	sm2       *ecdsa.PublicKey
}

// Parse decodes publicKeyPEM and checks that it suits algorithm ("" means
// SM2). It returns ErrUnsupportedAlgorithm for an unknown algorithm and
// ErrInvalidPublicKey for a key that does not parse, is not RSA-2048 or SM2,
// or does not match the algorithm. Validating before generating a data key
// lets a request with a bad key fail without doing any work.
func Parse(publicKeyPEM, algorithm string) (*PublicKey, error) {
	if algorithm == "" {
		algorithm = SM2
	}
	wantSM2 := false
	switch algorithm {
	case SM2, SM2C1C3C2ASN1:
		wantSM2 = true
	case RSAPKCS1v15, RSAOAEPSHA1, RSAOAEPSHA256:
	default:
		return nil, fmt.Errorf("%w %q; want one of %s", ErrUnsupportedAlgorithm, algorithm,
			strings.Join([]string{SM2, SM2C1C3C2ASN1, RSAPKCS1v15, RSAOAEPSHA1, RSAOAEPSHA256}, ", "))
	}
	key, err := parseKey(publicKeyPEM)
	if err != nil {
		return nil, err
	}
	pk := &PublicKey{algorithm: algorithm}
	switch k := key.(type) {
	case *rsa.PublicKey:
		if wantSM2 {
			return nil, fmt.Errorf("%w: algorithm %s needs an SM2 key, got RSA", ErrInvalidPublicKey, algorithm)
		}
		pk.rsa = k
	case *ecdsa.PublicKey:
		if !wantSM2 {
			return nil, fmt.Errorf("%w: algorithm %s needs an RSA key, got SM2", ErrInvalidPublicKey, algorithm)
		}
		pk.sm2 = k
	}
	return pk, nil
}

// parseKey returns an RSA-2048 *rsa.PublicKey or an SM2 *ecdsa.PublicKey.
func parseKey(publicKeyPEM string) (any, error) {
	text := strings.TrimSpace(publicKeyPEM)
	if !strings.HasPrefix(text, "-----BEGIN ") {
		return nil, fmt.Errorf("%w: not a PEM block", ErrInvalidPublicKey)
	}
	block, rest := pem.Decode([]byte(text))
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrInvalidPublicKey)
	}
	if block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("%w: PEM block is %q, want \"PUBLIC KEY\"", ErrInvalidPublicKey, block.Type)
	}
	if len(strings.TrimSpace(string(rest))) != 0 {
		return nil, fmt.Errorf("%w: data after the PEM block", ErrInvalidPublicKey)
	}
	key, err := smx509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPublicKey, err)
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n != RSABits {
			return nil, fmt.Errorf("%w: RSA key is %d bits, want %d", ErrInvalidPublicKey, n, RSABits)
		}
		return k, nil
	case *ecdsa.PublicKey:
		if k.Curve != sm2.P256() {
			return nil, fmt.Errorf("%w: elliptic curve %s is not SM2", ErrInvalidPublicKey, k.Curve.Params().Name)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("%w: %T keys are not supported; want RSA-2048 or SM2", ErrInvalidPublicKey, key)
	}
}

// Algorithm returns the algorithm the key encrypts with.
func (k *PublicKey) Algorithm() string { return k.algorithm }

// Encrypt encrypts plaintext, drawing randomness from rand. It returns an
// error if plaintext is empty or longer than the algorithm allows (190 bytes
// for RSAES_OAEP_SHA_256, 214 for RSAES_OAEP_SHA_1, 245 for
// RSAES_PKCS1_V1_5), or if rand fails.
func (k *PublicKey) Encrypt(rand io.Reader, plaintext []byte) ([]byte, error) {
	if len(plaintext) == 0 {
		return nil, errors.New("pubenc: empty plaintext")
	}
	var (
		out []byte
		err error
	)
	switch k.algorithm {
	case SM2:
		out, err = sm2.Encrypt(rand, k.sm2, plaintext, sm2.NewPlainEncrypterOpts(sm2.MarshalUncompressed, sm2.C1C3C2))
	case SM2C1C3C2ASN1:
		out, err = sm2.Encrypt(rand, k.sm2, plaintext, sm2.ASN1EncrypterOpts)
	case RSAPKCS1v15:
		out, err = rsa.EncryptPKCS1v15(rand, k.rsa, plaintext)
	case RSAOAEPSHA1:
		out, err = encryptOAEP(sha1.New(), rand, k.rsa, plaintext)
	case RSAOAEPSHA256:
		out, err = encryptOAEP(sha256.New(), rand, k.rsa, plaintext)
	}
	if err != nil {
		return nil, fmt.Errorf("pubenc: %s: %w", k.algorithm, err)
	}
	return out, nil
}

func encryptOAEP(h hash.Hash, rand io.Reader, pub *rsa.PublicKey, msg []byte) ([]byte, error) {
	return rsa.EncryptOAEP(h, rand, pub, msg, nil)
}

// Encrypt parses publicKeyPEM for algorithm ("" means SM2) and encrypts
// plaintext under it: Parse followed by PublicKey.Encrypt, with their errors.
func Encrypt(rand io.Reader, publicKeyPEM string, algorithm string, plaintext []byte) ([]byte, error) {
	k, err := Parse(publicKeyPEM, algorithm)
	if err != nil {
		return nil, err
	}
	return k.Encrypt(rand, plaintext)
}
