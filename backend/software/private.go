package software

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	_ "crypto/sha1" // RSA-OAEP SHA-1
	_ "crypto/sha256"
	_ "crypto/sha512"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"sync"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/keyhaven/keyhaven/kms"
)

// Private material is sealed as PKCS #8 DER: crypto/x509 encodes RSA and
// NIST ECDSA keys, gmsm's smx509 encodes SM2 keys (id-ecPublicKey with the
// sm2p256v1 curve OID).

var errDestroyed = errors.New("software: key material was destroyed")

// generatePrivate returns a fresh private key for an asymmetric spec as
// PKCS #8 DER. Since Go 1.26 crypto/rsa and crypto/ecdsa draw from the
// system's secure random source and ignore rand; SM2 keys use rand.
func generatePrivate(spec kms.KeySpec, rand io.Reader) ([]byte, error) {
	var key any
	var err error
	switch spec {
	case kms.SpecRSA2048:
		key, err = rsa.GenerateKey(rand, 2048)
	case kms.SpecRSA3072:
		key, err = rsa.GenerateKey(rand, 3072)
	case kms.SpecRSA4096:
		key, err = rsa.GenerateKey(rand, 4096)
	case kms.SpecECP256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand)
	case kms.SpecECP384:
		key, err = ecdsa.GenerateKey(elliptic.P384(), rand)
	case kms.SpecECSM2:
		var k *sm2.PrivateKey
		if k, err = sm2.GenerateKey(rand); err != nil {
			return nil, fmt.Errorf("software: generate %s key: %w", spec, err)
		}
		defer clearInts(k.D)
		der, err := smx509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, fmt.Errorf("software: marshal %s key: %w", spec, err)
		}
		return der, nil
	default:
		return nil, fmt.Errorf("software: %q is not an asymmetric key spec", spec)
	}
	if err != nil {
		return nil, fmt.Errorf("software: generate %s key: %w", spec, err)
	}
	defer wipePrivate(key)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("software: marshal %s key: %w", spec, err)
	}
	return der, nil
}

// newPrivateMaterial parses PKCS #8 DER into the material for spec. It
// returns an error if der does not hold a key of the spec's algorithm and
// size. der is not retained; the caller zeroes it.
func newPrivateMaterial(spec kms.KeySpec, der []byte) (kms.PrivateMaterial, error) {
	var (
		bits  int
		curve elliptic.Curve
	)
	switch spec {
	case kms.SpecRSA2048:
		bits = 2048
	case kms.SpecRSA3072:
		bits = 3072
	case kms.SpecRSA4096:
		bits = 4096
	case kms.SpecECP256:
		curve = elliptic.P256()
	case kms.SpecECP384:
		curve = elliptic.P384()
	case kms.SpecECSM2:
		key, err := smx509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("software: parse %s key: %w", spec, err)
		}
		k, ok := key.(*sm2.PrivateKey)
		if !ok {
			wipePrivate(key)
			return nil, fmt.Errorf("software: %s material holds a %T, want an SM2 key", spec, key)
		}
		return newSM2Material(k), nil
	default:
		return nil, fmt.Errorf("software: %q is not an asymmetric key spec", spec)
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("software: parse %s key: %w", spec, err)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if bits != 0 && k.N.BitLen() == bits {
			return newRSAMaterial(k), nil
		}
	case *ecdsa.PrivateKey:
		if curve != nil && k.Curve == curve {
			m := &ecdsaMaterial{pub: copyECPublic(&k.PublicKey)}
			m.key = k
			return m, nil
		}
	}
	wipePrivate(key)
	return nil, fmt.Errorf("software: %s material holds a key of another algorithm or size (%T)", spec, key)
}

// privateBase holds what every private material shares: the key under a
// lock, so Destroy cannot wipe it under a running operation, and String,
// GoString and LogValue that redact.
type privateBase struct {
	mu  sync.RWMutex
	key crypto.Signer // nil once destroyed
}

// use runs op with the private key, or returns errDestroyed.
func (p *privateBase) use(op func(crypto.Signer) ([]byte, error)) ([]byte, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.key == nil {
		return nil, errDestroyed
	}
	return op(p.key)
}

// Destroy waits for running operations, zeroes the words of the key's
// big.Int secrets and drops the key; Sign and Decrypt then return an error.
// It may be called more than once. Zeroing is best effort: math/big may
// have left copies of the secrets in memory it reallocated, and crypto/rsa,
// crypto/ecdsa and gmsm keep precomputed forms of the key (CRT values,
// internal FIPS keys, SM2's (1+d)^-1) that cannot be reached; those are
// freed by the garbage collector once the material is unreferenced.
func (p *privateBase) Destroy() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.key != nil {
		wipePrivate(p.key)
		p.key = nil
	}
}

// String returns "[REDACTED]".
func (*privateBase) String() string { return "[REDACTED]" }

// GoString returns "[REDACTED]".
func (*privateBase) GoString() string { return "[REDACTED]" }

// LogValue returns "[REDACTED]" for log/slog.
func (*privateBase) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// wipePrivate zeroes the words of a private key's secret big.Ints.
func wipePrivate(key any) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		clearInts(k.D, k.Precomputed.Dp, k.Precomputed.Dq, k.Precomputed.Qinv)
		clearInts(k.Primes...)
		for _, v := range k.Precomputed.CRTValues {
			clearInts(v.Exp, v.Coeff, v.R)
		}
	case *ecdsa.PrivateKey:
		clearInts(k.D)
	case *sm2.PrivateKey:
		clearInts(k.D)
	}
}

func clearInts(xs ...*big.Int) {
	for _, x := range xs {
		if x != nil {
			clear(x.Bits())
		}
	}
}

func copyECPublic(pub *ecdsa.PublicKey) *ecdsa.PublicKey {
	return &ecdsa.PublicKey{Curve: pub.Curve, X: new(big.Int).Set(pub.X), Y: new(big.Int).Set(pub.Y)}
}

// rsaMaterial is an opened RSA key version: a crypto.Signer (PKCS #1 v1.5
// or PSS) and a crypto.Decrypter for OAEP only.
type rsaMaterial struct {
	privateBase
	pub *rsa.PublicKey
}

var (
	_ kms.PrivateMaterial = (*rsaMaterial)(nil)
	_ crypto.Decrypter    = (*rsaMaterial)(nil)
)

func newRSAMaterial(k *rsa.PrivateKey) *rsaMaterial {
	m := &rsaMaterial{pub: &rsa.PublicKey{N: new(big.Int).Set(k.N), E: k.E}}
	m.key = k
	return m
}

// Public returns the *rsa.PublicKey. It stays usable after Destroy.
func (m *rsaMaterial) Public() crypto.PublicKey { return m.pub }

// Sign signs digest, a SHA-256, SHA-384 or SHA-512 hash named by
// opts.HashFunc(): RSASSA-PSS if opts is a *rsa.PSSOptions, RSASSA-PKCS1-v1_5
// otherwise. It returns an error for any other hash (including none: raw
// PKCS #1 v1.5 signing is not offered), a digest of the wrong length, or
// destroyed material.
func (m *rsaMaterial) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if err := checkDigest("RSA", digest, opts); err != nil {
		return nil, err
	}
	return m.use(func(k crypto.Signer) ([]byte, error) { return k.Sign(rand, digest, opts) })
}

// Decrypt decrypts RSAES-OAEP ciphertext. opts must be a *rsa.OAEPOptions
// with Hash SHA-1 or SHA-256 and MGFHash zero or equal to Hash. PKCS #1 v1.5
// decryption is not offered: nil opts and *rsa.PKCS1v15DecryptOptions are
// refused. It returns an error for a ciphertext that does not decrypt (the
// same error whatever the reason) and for destroyed material.
func (m *rsaMaterial) Decrypt(rand io.Reader, ciphertext []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	o, ok := opts.(*rsa.OAEPOptions)
	if !ok || o == nil {
		return nil, fmt.Errorf("software: RSA decryption takes *rsa.OAEPOptions, not %T (PKCS #1 v1.5 decryption is not offered)", opts)
	}
	if o.Hash != crypto.SHA1 && o.Hash != crypto.SHA256 {
		return nil, fmt.Errorf("software: RSA-OAEP with hash %v is not offered (SHA-1 or SHA-256)", o.Hash)
	}
	if o.MGFHash != 0 && o.MGFHash != o.Hash {
		return nil, fmt.Errorf("software: RSA-OAEP with MGF1 hash %v and hash %v is not offered", o.MGFHash, o.Hash)
	}
	return m.use(func(k crypto.Signer) ([]byte, error) {
		return rsa.DecryptOAEP(o.Hash.New(), rand, k.(*rsa.PrivateKey), ciphertext, o.Label)
	})
}

// ecdsaMaterial is an opened NIST P-256 or P-384 key version; it signs
// digests as ASN.1 DER ECDSA signatures.
type ecdsaMaterial struct {
	privateBase
	pub *ecdsa.PublicKey
}

var _ kms.PrivateMaterial = (*ecdsaMaterial)(nil)

// Public returns the *ecdsa.PublicKey. It stays usable after Destroy.
func (m *ecdsaMaterial) Public() crypto.PublicKey { return m.pub }

// Sign returns the ASN.1 DER ECDSA signature of digest, a SHA-256, SHA-384
// or SHA-512 hash named by opts.HashFunc(). A nil rand signs
// deterministically (RFC 6979), as ecdsa.PrivateKey does. It returns an
// error for another hash or none (ECDSA would silently truncate a raw
// message), a digest of the wrong length, or destroyed material.
func (m *ecdsaMaterial) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if err := checkDigest("ECDSA", digest, opts); err != nil {
		return nil, err
	}
	return m.use(func(k crypto.Signer) ([]byte, error) { return k.Sign(rand, digest, opts) })
}

func checkDigest(alg string, digest []byte, opts crypto.SignerOpts) error {
	if pss, ok := opts.(*rsa.PSSOptions); opts == nil || ok && pss == nil {
		return fmt.Errorf("software: %s signing needs opts naming the digest's hash", alg)
	}
	switch h := opts.HashFunc(); h {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
		if len(digest) != h.Size() {
			return fmt.Errorf("software: %s digest is %d bytes, want %d for %v", alg, len(digest), h.Size(), h)
		}
		return nil
	default:
		return fmt.Errorf("software: %s signing with hash %v is not offered (SHA-256, SHA-384 or SHA-512)", alg, h)
	}
}

// sm2Material is an opened SM2 key version: a crypto.Signer producing ASN.1
// DER signatures and a crypto.Decrypter for ASN.1 ciphertext.
type sm2Material struct {
	privateBase
	pub *ecdsa.PublicKey
}

var (
	_ kms.PrivateMaterial = (*sm2Material)(nil)
	_ crypto.Decrypter    = (*sm2Material)(nil)
)

func newSM2Material(k *sm2.PrivateKey) *sm2Material {
	m := &sm2Material{pub: copyECPublic(&k.PublicKey)}
	m.key = k
	return m
}

// Public returns the *ecdsa.PublicKey on gmsm's sm2.P256() curve; marshal
// it with smx509.MarshalPKIXPublicKey. It stays usable after Destroy.
func (m *sm2Material) Public() crypto.PublicKey { return m.pub }

// Sign returns an ASN.1 DER SM2 signature (GB/T 32918.2). With opts a
// *sm2.SM2SignerOption (such as sm2.DefaultSM2SignerOpts, whose user id is
// 1234567812345678) it signs the raw message digest, computing
// e = SM3(Z_A ‖ M) itself. With nil opts or opts whose HashFunc is zero it
// signs digest as a precomputed 32-byte e. It returns an error for any
// other opts (a SHA-2 hash is not SM2's e), an e of the wrong length, a nil
// rand, or destroyed material.
func (m *sm2Material) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if rand == nil {
		return nil, errors.New("software: SM2 signing needs a random source")
	}
	if o, ok := opts.(*sm2.SM2SignerOption); ok && o == nil {
		return nil, errors.New("software: nil *sm2.SM2SignerOption")
	} else if !ok {
		if opts != nil && opts.HashFunc() != 0 {
			return nil, fmt.Errorf("software: SM2 signs e = SM3(Z_A ‖ M) or a message with *sm2.SM2SignerOption, not a %v digest", opts.HashFunc())
		}
		if len(digest) != 32 {
			return nil, fmt.Errorf("software: SM2 e is %d bytes, want 32", len(digest))
		}
		opts = nil
	}
	return m.use(func(k crypto.Signer) ([]byte, error) { return k.Sign(rand, digest, opts) })
}

// Decrypt decrypts an SM2 ciphertext (GB/T 32918.4) in the ASN.1 DER form
// of GM/T 0009: SEQUENCE { x INTEGER, y INTEGER, C3 OCTET STRING (the SM3
// hash), C2 OCTET STRING }, the order C1C3C2. opts must be nil or
// sm2.ASN1DecrypterOpts. gmsm's own Decrypt would also take the raw forms
// 04‖x‖y‖C3‖C2 or ‖C2‖C3 and guess between them; this material refuses raw
// ciphertext so that one ciphertext has one meaning (convert with
// sm2.PlainCiphertext2ASN1). It returns an error for a ciphertext that does
// not decrypt and for destroyed material.
func (m *sm2Material) Decrypt(_ io.Reader, ciphertext []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	if opts != nil {
		if o, ok := opts.(*sm2.DecrypterOpts); !ok || o != sm2.ASN1DecrypterOpts {
			return nil, fmt.Errorf("software: SM2 decryption takes nil or sm2.ASN1DecrypterOpts, not %T", opts)
		}
	}
	if len(ciphertext) == 0 || ciphertext[0] != 0x30 {
		return nil, errors.New("software: SM2 ciphertext is not ASN.1 DER (SEQUENCE of x, y, C3, C2)")
	}
	return m.use(func(k crypto.Signer) ([]byte, error) {
		return sm2.Decrypt(k.(*sm2.PrivateKey), ciphertext)
	})
}
