//go:build cgo

package pkcs11

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/asn1"
	"fmt"
	"math/big"

	p11 "github.com/miekg/pkcs11"

	"github.com/keyhaven/keyhaven/kms"
)

// DER of the curve OIDs, the CKA_EC_PARAMS of named curves.
var (
	oidP256 = []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07} // 1.2.840.10045.3.1.7
	oidP384 = []byte{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}                   // 1.3.132.0.34
)

// privateTemplate is what every secret or private key object gets: a
// token object, private (login needed), sensitive and never extractable,
// so that its value cannot be read or wrapped out of the token.
func privateTemplate(label string, id []byte, extra ...*p11.Attribute) []*p11.Attribute {
	return append([]*p11.Attribute{
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, true),
		p11.NewAttribute(p11.CKA_SENSITIVE, true),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, false),
		p11.NewAttribute(p11.CKA_MODIFIABLE, false),
		p11.NewAttribute(p11.CKA_LABEL, label),
		p11.NewAttribute(p11.CKA_ID, id),
	}, extra...)
}

func publicTemplate(label string, id []byte, extra ...*p11.Attribute) []*p11.Attribute {
	return append([]*p11.Attribute{
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, false),
		p11.NewAttribute(p11.CKA_MODIFIABLE, false),
		p11.NewAttribute(p11.CKA_LABEL, label),
		p11.NewAttribute(p11.CKA_ID, id),
	}, extra...)
}

// aesTemplate is the template of an AES-256 key used only to encrypt and
// decrypt (not to wrap).
func aesTemplate(label string, id []byte) []*p11.Attribute {
	return privateTemplate(label, id,
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_AES),
		p11.NewAttribute(p11.CKA_VALUE_LEN, 32),
		p11.NewAttribute(p11.CKA_ENCRYPT, true),
		p11.NewAttribute(p11.CKA_DECRYPT, true),
		p11.NewAttribute(p11.CKA_WRAP, false),
		p11.NewAttribute(p11.CKA_UNWRAP, false),
		p11.NewAttribute(p11.CKA_SIGN, false),
		p11.NewAttribute(p11.CKA_DERIVE, false),
	)
}

// generate creates the objects of one key version in the token.
func generate(ctx *p11.Ctx, sh p11.SessionHandle, spec kms.KeySpec, label string, id []byte) error {
	switch spec {
	case kms.SpecSymmetricDefault:
		_, err := ctx.GenerateKey(sh, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_GEN, nil)}, aesTemplate(label, id))
		return err
	case kms.SpecRSA2048, kms.SpecRSA3072, kms.SpecRSA4096:
		pub := publicTemplate(label, id,
			p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_RSA),
			p11.NewAttribute(p11.CKA_MODULUS_BITS, rsaBits(spec)),
			p11.NewAttribute(p11.CKA_PUBLIC_EXPONENT, []byte{1, 0, 1}),
			p11.NewAttribute(p11.CKA_VERIFY, true),
			p11.NewAttribute(p11.CKA_ENCRYPT, true),
			p11.NewAttribute(p11.CKA_WRAP, false),
		)
		priv := privateTemplate(label, id,
			p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_RSA),
			p11.NewAttribute(p11.CKA_SIGN, true),
			p11.NewAttribute(p11.CKA_DECRYPT, true),
			p11.NewAttribute(p11.CKA_UNWRAP, false),
		)
		_, _, err := ctx.GenerateKeyPair(sh, []*p11.Mechanism{p11.NewMechanism(p11.CKM_RSA_PKCS_KEY_PAIR_GEN, nil)}, pub, priv)
		return err
	case kms.SpecECP256, kms.SpecECP384:
		params := oidP256
		if spec == kms.SpecECP384 {
			params = oidP384
		}
		pub := publicTemplate(label, id,
			p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_EC),
			p11.NewAttribute(p11.CKA_EC_PARAMS, params),
			p11.NewAttribute(p11.CKA_VERIFY, true),
		)
		priv := privateTemplate(label, id,
			p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_EC),
			p11.NewAttribute(p11.CKA_SIGN, true),
			p11.NewAttribute(p11.CKA_DECRYPT, false),
			p11.NewAttribute(p11.CKA_DERIVE, false),
		)
		_, _, err := ctx.GenerateKeyPair(sh, []*p11.Mechanism{p11.NewMechanism(p11.CKM_EC_KEY_PAIR_GEN, nil)}, pub, priv)
		return err
	}
	return fmt.Errorf("%q is not a key spec of this backend", spec)
}

func rsaBits(spec kms.KeySpec) int {
	switch spec {
	case kms.SpecRSA3072:
		return 3072
	case kms.SpecRSA4096:
		return 4096
	}
	return 2048
}

// openPrivate finds a key pair's objects, reads the public key once and
// returns the material for spec.
func (b *Backend) openPrivate(ctx context.Context, spec kms.KeySpec, id []byte) (kms.Material, error) {
	keyType := uint(p11.CKK_EC)
	if isRSA(spec) {
		keyType = p11.CKK_RSA
	}
	priv, err := b.findObject(ctx, p11.CKO_PRIVATE_KEY, keyType, id)
	if err != nil {
		return nil, err
	}
	pubH, err := b.findOne(ctx, p11.CKO_PUBLIC_KEY, keyType, id)
	if err != nil {
		return nil, err
	}
	pub, err := b.readPublic(ctx, spec, pubH)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: read public key %s: %w", id, err)
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		m := &rsaMaterial{pub: k}
		m.key, m.name = priv, string(id)
		return m, nil
	case *ecdsa.PublicKey:
		m := &ecdsaMaterial{pub: k}
		m.key, m.name = priv, string(id)
		return m, nil
	}
	return nil, fmt.Errorf("pkcs11: unexpected public key %T", pub)
}

// readPublic reads the public key of spec from the public key object h.
func (b *Backend) readPublic(ctx context.Context, spec kms.KeySpec, h p11.ObjectHandle) (crypto.PublicKey, error) {
	var attrs []*p11.Attribute
	want := []*p11.Attribute{p11.NewAttribute(p11.CKA_EC_PARAMS, nil), p11.NewAttribute(p11.CKA_EC_POINT, nil)}
	if isRSA(spec) {
		want = []*p11.Attribute{p11.NewAttribute(p11.CKA_MODULUS, nil), p11.NewAttribute(p11.CKA_PUBLIC_EXPONENT, nil)}
	}
	err := b.do(ctx, func(sh p11.SessionHandle) error {
		var err error
		attrs, err = b.ctx().GetAttributeValue(sh, h, want)
		return err
	})
	if err != nil {
		return nil, err
	}
	if isRSA(spec) {
		n := new(big.Int).SetBytes(attrs[0].Value)
		e := new(big.Int).SetBytes(attrs[1].Value)
		if n.BitLen() != rsaBits(spec) || !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 {
			return nil, fmt.Errorf("RSA public key of %d bits with exponent %v; want a %d-bit key", n.BitLen(), e, rsaBits(spec))
		}
		return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
	}
	curve, params := elliptic.P256(), oidP256
	if spec == kms.SpecECP384 {
		curve, params = elliptic.P384(), oidP384
	}
	if string(attrs[0].Value) != string(params) {
		return nil, fmt.Errorf("EC key on curve %x, want %s", attrs[0].Value, curve.Params().Name)
	}
	// CKA_EC_POINT is the DER OCTET STRING of the uncompressed point; some
	// modules return the bare point.
	point := attrs[1].Value
	var inner []byte
	if rest, err := asn1.Unmarshal(point, &inner); err == nil && len(rest) == 0 {
		point = inner
	}
	return ecdsa.ParseUncompressedPublicKey(curve, point)
}

func isRSA(spec kms.KeySpec) bool {
	return spec == kms.SpecRSA2048 || spec == kms.SpecRSA3072 || spec == kms.SpecRSA4096
}
