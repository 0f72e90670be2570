package kms

import (
	"fmt"
	"slices"
)

// Key usages beyond ENCRYPT_DECRYPT: Tencent's asymmetric names, each with
// one key spec, and SIGN_VERIFY, the generic usage (AWS's name) whose spec
// is chosen separately. ENCRYPT_DECRYPT with an RSA or SM2 spec is an
// asymmetric decryption key, as in AWS.
const (
	UsageDecryptRSA2048 KeyUsage = "ASYMMETRIC_DECRYPT_RSA_2048"
	UsageDecryptSM2     KeyUsage = "ASYMMETRIC_DECRYPT_SM2"
	UsageSignSM2        KeyUsage = "ASYMMETRIC_SIGN_VERIFY_SM2"
	UsageSignECC        KeyUsage = "ASYMMETRIC_SIGN_VERIFY_ECC"
	UsageSignECDSA384   KeyUsage = "ASYMMETRIC_SIGN_VERIFY_ECDSA384"
	UsageSignRSA2048    KeyUsage = "ASYMMETRIC_SIGN_VERIFY_RSA_2048"
	UsageSignVerify     KeyUsage = "SIGN_VERIFY"
)

// usageSpecs lists, per usage, the specs it allows; the first is its
// default, except for ENCRYPT_DECRYPT, whose default is the suite's.
var usageSpecs = map[KeyUsage][]KeySpec{
	UsageEncryptDecrypt: {SpecSymmetricDefault, SpecSM4, SpecRSA2048, SpecRSA3072, SpecRSA4096, SpecECSM2},
	UsageDecryptRSA2048: {SpecRSA2048},
	UsageDecryptSM2:     {SpecECSM2},
	UsageSignSM2:        {SpecECSM2},
	UsageSignECC:        {SpecECP256},
	UsageSignECDSA384:   {SpecECP384},
	UsageSignRSA2048:    {SpecRSA2048},
	UsageSignVerify:     {SpecRSA2048, SpecRSA3072, SpecRSA4096, SpecECP256, SpecECP384, SpecECP256K, SpecECSM2},
}

// ParseKeyUsage returns the usage named s, or ErrInvalidKeyUsage.
func ParseKeyUsage(s string) (KeyUsage, error) {
	if _, ok := usageSpecs[KeyUsage(s)]; ok {
		return KeyUsage(s), nil
	}
	return "", fmt.Errorf("%w: %q", ErrInvalidKeyUsage, s)
}

// resolveSpec picks the spec of a new key from its usage and the asked spec
// ("" for the usage's default), or returns ErrInvalidKeyUsage.
func (s *Service) resolveSpec(usage KeyUsage, spec KeySpec) (KeySpec, error) {
	allowed := usageSpecs[usage]
	switch {
	case spec != "":
	case usage == UsageEncryptDecrypt:
		spec = s.symmetricSpec()
	default:
		spec = allowed[0]
	}
	if !slices.Contains(allowed, spec) {
		return "", fmt.Errorf("%w: key usage %s does not go with key spec %s", ErrInvalidKeyUsage, usage, spec)
	}
	return spec, nil
}

// symmetricSpec is the spec of default symmetric keys in the server's suite.
func (s *Service) symmetricSpec() KeySpec {
	if s.suite == SuiteSM {
		return SpecSM4
	}
	return SpecSymmetricDefault
}

// Signs reports whether the key signs and verifies.
func (k *Key) Signs() bool {
	switch k.Usage {
	case UsageSignSM2, UsageSignECC, UsageSignECDSA384, UsageSignRSA2048, UsageSignVerify:
		return true
	}
	return false
}

// DecryptsAsymmetric reports whether the key is an asymmetric decryption key.
func (k *Key) DecryptsAsymmetric() bool {
	return !k.Signs() && !k.Spec.Symmetric()
}
