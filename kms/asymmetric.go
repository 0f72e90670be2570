package kms

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"fmt"
	"slices"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// SignAlgorithm names a signature scheme; the values are Tencent's names.
type SignAlgorithm string

// Signature algorithms. ECDSA and SM2 signatures are ASN.1 DER; PSS salts
// are as long as the digest.
const (
	SignSM2          SignAlgorithm = "SM2DSA"      // SM3(Z‖M), default user id
	SignECCP256      SignAlgorithm = "ECC_P256_R1" // ECDSA P-256 with SHA-256
	SignECCP384      SignAlgorithm = "ECC_P384_R1" // ECDSA P-384 with SHA-384
	SignRSAPSS256    SignAlgorithm = "RSA_PSS_SHA_256"
	SignRSAPKCS1_256 SignAlgorithm = "RSA_PKCS1_SHA_256"
	SignRSAPSS384    SignAlgorithm = "RSA_PSS_SHA_384"
	SignRSAPKCS1_384 SignAlgorithm = "RSA_PKCS1_SHA_384"
	SignRSAPSS512    SignAlgorithm = "RSA_PSS_SHA_512"
	SignRSAPKCS1_512 SignAlgorithm = "RSA_PKCS1_SHA_512"
)

// EncryptAlgorithm names an asymmetric encryption scheme.
type EncryptAlgorithm string

// Asymmetric encryption algorithms. SM2 ciphertexts are ASN.1 C1C3C2.
const (
	EncryptRSAOAEPSHA1   EncryptAlgorithm = "RSAES_OAEP_SHA_1"
	EncryptRSAOAEPSHA256 EncryptAlgorithm = "RSAES_OAEP_SHA_256"
	EncryptSM2           EncryptAlgorithm = "SM2PKE"
)

// signScheme is what a signature algorithm needs: its hash and the specs
// whose keys can use it.
type signScheme struct {
	hash  crypto.Hash // 0 for SM2 (SM3 with Z)
	pss   bool
	specs []KeySpec
}

var rsaSpecs = []KeySpec{SpecRSA2048, SpecRSA3072, SpecRSA4096}

var signSchemes = map[SignAlgorithm]signScheme{
	SignSM2:          {specs: []KeySpec{SpecECSM2}},
	SignECCP256:      {hash: crypto.SHA256, specs: []KeySpec{SpecECP256}},
	SignECCP384:      {hash: crypto.SHA384, specs: []KeySpec{SpecECP384}},
	SignRSAPSS256:    {hash: crypto.SHA256, pss: true, specs: rsaSpecs},
	SignRSAPKCS1_256: {hash: crypto.SHA256, specs: rsaSpecs},
	SignRSAPSS384:    {hash: crypto.SHA384, pss: true, specs: rsaSpecs},
	SignRSAPKCS1_384: {hash: crypto.SHA384, specs: rsaSpecs},
	SignRSAPSS512:    {hash: crypto.SHA512, pss: true, specs: rsaSpecs},
	SignRSAPKCS1_512: {hash: crypto.SHA512, specs: rsaSpecs},
}

// SignAlgorithms returns the signature algorithms a key spec supports.
func SignAlgorithms(spec KeySpec) []SignAlgorithm {
	var out []SignAlgorithm
	for _, a := range []SignAlgorithm{SignSM2, SignECCP256, SignECCP384, SignRSAPSS256, SignRSAPKCS1_256, SignRSAPSS384, SignRSAPKCS1_384, SignRSAPSS512, SignRSAPKCS1_512} {
		if slices.Contains(signSchemes[a].specs, spec) {
			out = append(out, a)
		}
	}
	return out
}

// EncryptAlgorithms returns the encryption algorithms a key spec supports.
func EncryptAlgorithms(spec KeySpec) []EncryptAlgorithm {
	switch spec {
	case SpecRSA2048, SpecRSA3072, SpecRSA4096:
		return []EncryptAlgorithm{EncryptRSAOAEPSHA1, EncryptRSAOAEPSHA256}
	case SpecECSM2:
		return []EncryptAlgorithm{EncryptSM2}
	}
	return nil
}

// MessageType says whether Sign and Verify get the message or its digest.
type MessageType string

// Message types.
const (
	MessageRaw    MessageType = "RAW"    // the server hashes it (at most MaxPlaintext bytes)
	MessageDigest MessageType = "DIGEST" // already hashed: exactly the digest's length
)

// PublicKey is a key's public half as a DER SubjectPublicKeyInfo.
type PublicKey struct {
	KeyID string
	Spec  KeySpec
	DER   []byte
}

// GetPublicKey returns the public key of an Enabled asymmetric key, or
// ErrInvalidKeyUsage for a symmetric one.
func (s *Service) GetPublicKey(ctx context.Context, account, id string) (PublicKey, error) {
	e, err := s.openUsable(ctx, account, id, true)
	if err != nil {
		return PublicKey{}, err
	}
	defer s.keys.release(e)
	priv, err := e.private(e.key.CurrentVersion)
	if err != nil {
		return PublicKey{}, err
	}
	der, err := marshalPublicKey(priv.Public())
	if err != nil {
		return PublicKey{}, err
	}
	return PublicKey{KeyID: id, Spec: e.key.Spec, DER: der}, nil
}

func marshalPublicKey(pub crypto.PublicKey) ([]byte, error) {
	if ec, ok := pub.(*ecdsa.PublicKey); ok && sm2.IsSM2PublicKey(ec) {
		return smx509.MarshalPKIXPublicKey(ec)
	}
	return x509.MarshalPKIXPublicKey(pub)
}

// openUsable opens a key the caller may use now (forEncrypt as in usable),
// holding a reference the caller must release.
func (s *Service) openUsable(ctx context.Context, account, id string, forEncrypt bool) (*cachedKey, error) {
	if err := validateKeyID(id); err != nil {
		return nil, err
	}
	e, err := s.openKey(ctx, account, id)
	if err != nil {
		return nil, err
	}
	if err := usable(&e.key, forEncrypt); err != nil {
		s.keys.release(e)
		return nil, err
	}
	return e, nil
}

// private returns the private material of one version, or
// ErrInvalidKeyUsage for a symmetric key.
func (e *cachedKey) private(version uint32) (PrivateMaterial, error) {
	if e.key.Spec.Symmetric() {
		return nil, fmt.Errorf("kms: key %s is symmetric: %w", e.key.ID, ErrInvalidKeyUsage)
	}
	m, ok := e.versions[version].(PrivateMaterial)
	if !ok {
		return nil, fmt.Errorf("kms: key %s has no private key of version %d: %w", e.key.ID, version, ErrInvalidKeyState)
	}
	return m, nil
}

// AsymmetricDecryptInput is a ciphertext made with a key's public key.
type AsymmetricDecryptInput struct {
	Account    string
	KeyID      string
	Algorithm  EncryptAlgorithm
	Ciphertext []byte
}

// AsymmetricDecrypt decrypts with the private key of an Enabled decryption
// key. It returns ErrInvalidKeyUsage for a signing or symmetric key,
// ErrUnsupportedAlgorithm for an algorithm the spec lacks, and
// ErrInvalidCiphertext when decryption fails.
func (s *Service) AsymmetricDecrypt(ctx context.Context, in AsymmetricDecryptInput) (SecretBytes, error) {
	e, err := s.openUsable(ctx, in.Account, in.KeyID, false)
	if err != nil {
		return nil, err
	}
	defer s.keys.release(e)
	if !e.key.DecryptsAsymmetric() {
		return nil, fmt.Errorf("kms: key %s is for %s, not asymmetric decryption: %w", in.KeyID, e.key.Usage, ErrInvalidKeyUsage)
	}
	var opts crypto.DecrypterOpts
	switch {
	case !slices.Contains(EncryptAlgorithms(e.key.Spec), in.Algorithm):
		return nil, fmt.Errorf("kms: %w: %s with a %s key", ErrUnsupportedAlgorithm, in.Algorithm, e.key.Spec)
	case in.Algorithm == EncryptRSAOAEPSHA1:
		opts = &rsa.OAEPOptions{Hash: crypto.SHA1}
	case in.Algorithm == EncryptRSAOAEPSHA256:
		opts = &rsa.OAEPOptions{Hash: crypto.SHA256}
	case in.Algorithm == EncryptSM2 && (len(in.Ciphertext) == 0 || in.Ciphertext[0] != 0x30):
		return nil, fmt.Errorf("kms: %w: SM2 ciphertexts are ASN.1 C1C3C2", ErrInvalidCiphertext)
	}
	priv, err := e.private(e.key.CurrentVersion)
	if err != nil {
		return nil, err
	}
	dec, ok := priv.(crypto.Decrypter)
	if !ok {
		return nil, fmt.Errorf("kms: key %s cannot decrypt: %w", in.KeyID, ErrInvalidKeyUsage)
	}
	pt, err := dec.Decrypt(s.rand, in.Ciphertext, opts)
	if err != nil {
		return nil, fmt.Errorf("kms: %w: decryption failed", ErrInvalidCiphertext)
	}
	return pt, nil
}

// SignInput is a message (or its digest) to sign.
type SignInput struct {
	Account   string
	KeyID     string
	Algorithm SignAlgorithm
	Type      MessageType
	Message   []byte
}

// Sign signs with an Enabled signing key. It returns ErrInvalidKeyUsage for
// a key that does not sign, ErrUnsupportedAlgorithm for an algorithm its
// spec lacks, and ErrInvalidParameter for a message of the wrong size.
func (s *Service) Sign(ctx context.Context, in SignInput) ([]byte, error) {
	e, err := s.openUsable(ctx, in.Account, in.KeyID, true)
	if err != nil {
		return nil, err
	}
	defer s.keys.release(e)
	priv, scheme, digest, err := e.prepareSignature(in.Algorithm, in.Type, in.Message)
	if err != nil {
		return nil, err
	}
	var opts crypto.SignerOpts = scheme.hash
	if scheme.pss {
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: scheme.hash}
	}
	sig, err := priv.Sign(s.rand, digest, opts)
	if err != nil {
		return nil, fmt.Errorf("kms: sign with key %s: %w", in.KeyID, err)
	}
	return sig, nil
}

// Verify checks a signature with an Enabled signing key's public key; a
// signature that does not verify is (false, nil). Errors are those of Sign.
func (s *Service) Verify(ctx context.Context, in SignInput, signature []byte) (bool, error) {
	e, err := s.openUsable(ctx, in.Account, in.KeyID, true)
	if err != nil {
		return false, err
	}
	defer s.keys.release(e)
	priv, scheme, digest, err := e.prepareSignature(in.Algorithm, in.Type, in.Message)
	if err != nil {
		return false, err
	}
	return verifySignature(priv.Public(), scheme, digest, signature), nil
}

// prepareSignature checks that the key signs with alg and returns its private
// key, the scheme and the digest to sign.
func (e *cachedKey) prepareSignature(alg SignAlgorithm, typ MessageType, msg []byte) (PrivateMaterial, signScheme, []byte, error) {
	if !e.key.Signs() {
		return nil, signScheme{}, nil, fmt.Errorf("kms: key %s is for %s, not signing: %w", e.key.ID, e.key.Usage, ErrInvalidKeyUsage)
	}
	scheme, ok := signSchemes[alg]
	if !ok || !slices.Contains(scheme.specs, e.key.Spec) {
		return nil, signScheme{}, nil, fmt.Errorf("kms: %w: %s with a %s key", ErrUnsupportedAlgorithm, alg, e.key.Spec)
	}
	priv, err := e.private(e.key.CurrentVersion)
	if err != nil {
		return nil, signScheme{}, nil, err
	}
	digest, err := messageDigest(priv.Public(), scheme, typ, msg)
	return priv, scheme, digest, err
}

// messageDigest hashes a RAW message as the scheme says, or checks a DIGEST's
// length.
func messageDigest(pub crypto.PublicKey, scheme signScheme, typ MessageType, msg []byte) ([]byte, error) {
	size := sha256.Size // SM3 too
	if scheme.hash != 0 {
		size = scheme.hash.Size()
	}
	switch typ {
	case MessageDigest:
		if len(msg) != size {
			return nil, fmt.Errorf("%w: a DIGEST message has exactly %d bytes for this algorithm", ErrInvalidParameter, size)
		}
		return msg, nil
	case MessageRaw:
		if len(msg) == 0 || len(msg) > MaxPlaintext {
			return nil, fmt.Errorf("%w: a RAW message has 1 to %d bytes", ErrInvalidParameter, MaxPlaintext)
		}
	default:
		return nil, fmt.Errorf("%w: MessageType is RAW or DIGEST", ErrInvalidParameter)
	}
	switch scheme.hash {
	case 0:
		ec, _ := pub.(*ecdsa.PublicKey)
		e, err := sm2.CalculateSM2Hash(ec, msg, nil)
		if err != nil {
			return nil, fmt.Errorf("kms: SM2 digest: %w", err)
		}
		return e, nil
	case crypto.SHA256:
		d := sha256.Sum256(msg)
		return d[:], nil
	case crypto.SHA384:
		d := sha512.Sum384(msg)
		return d[:], nil
	default:
		d := sha512.Sum512(msg)
		return d[:], nil
	}
}

// verifySignature checks sig over digest with pub, never panicking on
// malformed signatures.
func verifySignature(pub crypto.PublicKey, scheme signScheme, digest, sig []byte) bool {
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		if scheme.pss {
			return rsa.VerifyPSS(pub, scheme.hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		}
		return rsa.VerifyPKCS1v15(pub, scheme.hash, digest, sig) == nil
	case *ecdsa.PublicKey:
		if sm2.IsSM2PublicKey(pub) {
			return sm2.VerifyASN1(pub, digest, sig)
		}
		return ecdsa.VerifyASN1(pub, digest, sig)
	}
	return false
}
