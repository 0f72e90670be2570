package software

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"math/big"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/keyhaven/keyhaven/kms"
)

// fuzzSpecs are the specs the fuzz tests use; RSA-2048 stands for every
// RSA size (same code, slower keys).
var fuzzSpecs = []kms.KeySpec{
	kms.SpecSymmetricDefault, kms.SpecSM4, kms.SpecRSA2048,
	kms.SpecECP256, kms.SpecECP384, kms.SpecECSM2, kms.SpecECP256K,
}

// fixedPlaintext returns the same material plaintext for spec in every
// process (the fuzzer's workers are separate processes), derived from seed
// bytes: raw symmetric keys, PKCS #8 DER of private keys.
func fixedPlaintext(tb testing.TB, spec kms.KeySpec) []byte {
	tb.Helper()
	seed := sha256.Sum256([]byte("keyhaven fuzz " + spec))
	var der []byte
	var err error
	switch spec {
	case kms.SpecSymmetricDefault:
		return seed[:]
	case kms.SpecSM4:
		return seed[:sm4Key]
	case kms.SpecRSA2048:
		der, err = x509.MarshalPKCS8PrivateKey(fixedRSAKey(tb, seed[:]))
	case kms.SpecECP256, kms.SpecECP384:
		curve, size := elliptic.P256(), 32
		if spec == kms.SpecECP384 {
			curve, size = elliptic.P384(), 48
		}
		var k *ecdsa.PrivateKey
		if k, err = ecdsa.ParseRawPrivateKey(curve, bytes.Repeat(seed[:16], 3)[:size]); err == nil {
			der, err = x509.MarshalPKCS8PrivateKey(k)
		}
	case kms.SpecECSM2:
		var k *sm2.PrivateKey
		if k, err = sm2.NewPrivateKey(seed[:]); err == nil {
			der, err = smx509.MarshalPKCS8PrivateKey(k)
		}
	default:
		tb.Fatalf("no fixed plaintext for %s", spec)
	}
	if err != nil {
		tb.Fatalf("fixed %s key: %v", spec, err)
	}
	return der
}

// fixedRSAKey builds an RSA-2048 key from primes found by a deterministic
// search from seed (crypto/rsa's generation is randomised by design).
func fixedRSAKey(tb testing.TB, seed []byte) *rsa.PrivateKey {
	tb.Helper()
	e := big.NewInt(65537)
	prime := func(label byte) *big.Int {
		buf := make([]byte, 0, 128)
		for c := byte(0); len(buf) < 128; c++ {
			h := sha256.Sum256(append([]byte{label, c}, seed...))
			buf = append(buf, h[:]...)
		}
		buf[0] |= 0xc0 // two top bits: the product has 2048 bits
		p := new(big.Int).SetBytes(buf)
		p.SetBit(p, 0, 1)
		one := big.NewInt(1)
		for {
			pm1 := new(big.Int).Sub(p, one)
			if p.ProbablyPrime(32) && new(big.Int).GCD(nil, nil, e, pm1).Cmp(one) == 0 {
				return p
			}
			p.Add(p, big.NewInt(2))
		}
	}
	p, q := prime('p'), prime('q')
	one := big.NewInt(1)
	phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
	k := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: new(big.Int).Mul(p, q), E: 65537},
		D:         new(big.Int).ModInverse(e, phi),
		Primes:    []*big.Int{p, q},
	}
	if err := k.Validate(); err != nil {
		tb.Fatalf("fixed RSA key: %v", err)
	}
	k.Precompute()
	return k
}

// FuzzOpen feeds arbitrary stored bytes to Open under every spec. Open must
// not panic, and anything that opens must be a sealing of the material that
// was sealed for that spec (the fixed plaintext), opening to that key.
func FuzzOpen(f *testing.F) {
	ctx := context.Background()
	b, err := New(bytes.Repeat([]byte{3}, RootKeySize), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	want := map[kms.KeySpec]kms.Material{}
	for i, spec := range fuzzSpecs {
		if spec == kms.SpecECP256K {
			f.Add([]byte{formatV1}, uint8(i))
			continue
		}
		pt := fixedPlaintext(f, spec)
		stored, err := b.seal(pt, materialAD(keyA, 1, spec))
		if err != nil {
			f.Fatal(err)
		}
		if want[spec], err = b.Open(ctx, keyA, 1, spec, stored); err != nil {
			f.Fatalf("Open(%s, fixed sealed material) err = %v", spec, err)
		}
		f.Add(stored, uint8(i))
		f.Add(flip(stored, len(stored)/2), uint8(i))
		f.Add(stored[:sealOverhead], uint8(i))
	}
	f.Add([]byte{}, uint8(2))
	f.Fuzz(func(t *testing.T, stored []byte, which uint8) {
		spec := fuzzSpecs[int(which)%len(fuzzSpecs)]
		m, err := b.Open(ctx, keyA, 1, spec, stored)
		if err != nil {
			return
		}
		defer m.Destroy()
		if !sameMaterial(m, want[spec]) {
			t.Fatalf("Open(%s, %x) opened material that was not sealed for it", spec, stored)
		}
	})
}

// FuzzNewPrivateMaterial feeds arbitrary DER to the PKCS #8 parsing Open
// does after unsealing. It must not panic, and what it accepts must be a
// key of the spec that signs.
func FuzzNewPrivateMaterial(f *testing.F) {
	specs := []kms.KeySpec{kms.SpecRSA2048, kms.SpecECP256, kms.SpecECP384, kms.SpecECSM2}
	for i, spec := range specs {
		der := fixedPlaintext(f, spec)
		f.Add(der, uint8(i))
		f.Add(der[:len(der)-1], uint8(i))
	}
	f.Fuzz(func(t *testing.T, der []byte, which uint8) {
		spec := specs[int(which)%len(specs)]
		m, err := newPrivateMaterial(spec, der)
		if err != nil {
			return
		}
		defer m.Destroy()
		var opts crypto.SignerOpts = crypto.SHA256
		if spec == kms.SpecECSM2 {
			opts = nil
		}
		if _, err := m.Sign(rand.Reader, make([]byte, 32), opts); err != nil {
			t.Fatalf("newPrivateMaterial(%s, %x) accepted a key that does not sign: %v", spec, der, err)
		}
	})
}

// sameMaterial reports whether two opened materials hold the same key.
func sameMaterial(a, b kms.Material) bool {
	switch a := a.(type) {
	case *material:
		bm, ok := b.(*material)
		return ok && bytes.Equal(a.key, bm.key)
	case kms.PrivateMaterial:
		bm, ok := b.(kms.PrivateMaterial)
		return ok && publicKeyEqual(a.Public(), bm.Public())
	}
	return false
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 1
	return c
}
