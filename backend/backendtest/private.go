package backendtest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha1" // OAEP SHA-1
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/asn1"
	"fmt"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/keyhaven/keyhaven/kms"
)

// checkPrivate checks asymmetric material: its public key, its signatures
// and, for RSA and SM2, its decryption.
func checkPrivate(t *testing.T, w specWant, m kms.Material) {
	t.Helper()
	pm, ok := m.(kms.PrivateMaterial)
	if !ok {
		t.Fatalf("Open() = %T, want a kms.PrivateMaterial", m)
	}
	if _, ok := m.(kms.SymmetricMaterial); ok {
		t.Errorf("private material %T is also a kms.SymmetricMaterial", m)
	}
	checkPublic(t, w, pm.Public())
	dec, isDec := m.(crypto.Decrypter)
	if isDec != w.decrypter() {
		t.Errorf("material %T is a crypto.Decrypter: %v, want %v", m, isDec, w.decrypter())
	}
	switch {
	case w.rsaBits > 0:
		checkRSASign(t, pm)
		if isDec {
			checkRSADecrypt(t, dec)
		}
	case w.sm2:
		checkSM2Sign(t, pm)
		if isDec {
			checkSM2Decrypt(t, dec)
		}
	default:
		if err := signVerify(w, pm, pm.Public()); err != nil {
			t.Error(err)
		}
	}
}

// checkPublic checks the public key's type and size and that it marshals
// to PKIX DER and back.
func checkPublic(t *testing.T, w specWant, pub crypto.PublicKey) {
	t.Helper()
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if w.rsaBits == 0 || k.N.BitLen() != w.rsaBits {
			t.Errorf("Public() is a %d-bit RSA key, want %+v", k.N.BitLen(), w)
		}
	case *ecdsa.PublicKey:
		if w.curve == nil || k.Curve != w.curve {
			t.Errorf("Public() is an EC key on %s, want %+v", k.Curve.Params().Name, w)
		}
	default:
		t.Fatalf("Public() = %T, want *rsa.PublicKey or *ecdsa.PublicKey", pub)
	}
	der, err := smx509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatalf("smx509.MarshalPKIXPublicKey(Public()) err = %v", err)
	}
	back, err := smx509.ParsePKIXPublicKey(der)
	if err != nil || !publicEqual(back, pub) {
		t.Errorf("smx509.ParsePKIXPublicKey(%x) = %v, %v; want the public key back", der, back, err)
	}
}

func checkRSASign(t *testing.T, s crypto.Signer) {
	t.Helper()
	pub := s.Public().(*rsa.PublicKey)
	tests := []struct {
		name string
		opts crypto.SignerOpts
	}{
		{"PKCS1v15 SHA-256", crypto.SHA256},
		{"PKCS1v15 SHA-384", crypto.SHA384},
		{"PKCS1v15 SHA-512", crypto.SHA512},
		{"PSS SHA-256", &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}},
		{"PSS SHA-512", &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA512}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.opts.HashFunc()
			digest, other := digests(h)
			sig, err := s.Sign(rand.Reader, digest, tt.opts)
			if err != nil {
				t.Fatalf("Sign(%s) err = %v", tt.name, err)
			}
			verify := func(d []byte) error { return rsa.VerifyPKCS1v15(pub, h, d, sig) }
			if pss, ok := tt.opts.(*rsa.PSSOptions); ok {
				verify = func(d []byte) error { return rsa.VerifyPSS(pub, h, d, sig, pss) }
			}
			if err := verify(digest); err != nil {
				t.Errorf("verify(Sign(%s)) err = %v, want nil", tt.name, err)
			}
			if err := verify(other); err == nil {
				t.Errorf("verify(Sign(%s)) over another digest err = nil, want an error", tt.name)
			}
		})
	}
}

func checkRSADecrypt(t *testing.T, d crypto.Decrypter) {
	t.Helper()
	pub := d.Public().(*rsa.PublicKey)
	msg := []byte("a data key of thirty-two bytes!!")
	tests := []struct {
		name  string
		hash  crypto.Hash
		label []byte
	}{
		{"OAEP SHA-1", crypto.SHA1, nil},
		{"OAEP SHA-1 label", crypto.SHA1, []byte("label")},
		{"OAEP SHA-256", crypto.SHA256, nil},
		{"OAEP SHA-256 label", crypto.SHA256, []byte("label")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, err := rsa.EncryptOAEP(tt.hash.New(), rand.Reader, pub, msg, tt.label)
			if err != nil {
				t.Fatal(err)
			}
			opts := &rsa.OAEPOptions{Hash: tt.hash, Label: tt.label}
			if pt, err := d.Decrypt(rand.Reader, ct, opts); err != nil || !bytes.Equal(pt, msg) {
				t.Errorf("Decrypt(%s) = %q, %v; want %q", tt.name, pt, err, msg)
			}
			wrongLabel := &rsa.OAEPOptions{Hash: tt.hash, Label: append([]byte("x"), tt.label...)}
			if pt, err := d.Decrypt(rand.Reader, ct, wrongLabel); err == nil {
				t.Errorf("Decrypt(%s, wrong label) = %q, want an error", tt.name, pt)
			}
			if pt, err := d.Decrypt(rand.Reader, flip(ct, len(ct)-1), opts); err == nil {
				t.Errorf("Decrypt(%s, flipped bit) = %q, want an error", tt.name, pt)
			}
		})
	}
	t.Run("PKCS1v15Refused", func(t *testing.T) {
		ct, err := rsa.EncryptPKCS1v15(rand.Reader, pub, msg)
		if err != nil {
			t.Fatal(err)
		}
		for _, opts := range []crypto.DecrypterOpts{nil, &rsa.PKCS1v15DecryptOptions{}, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: len(msg)}} {
			if pt, err := d.Decrypt(rand.Reader, ct, opts); err == nil {
				t.Errorf("Decrypt(PKCS #1 v1.5 ciphertext, %#v) = %x, want an error: PKCS #1 v1.5 decryption must not be offered", opts, pt)
			}
		}
	})
}

func checkSM2Sign(t *testing.T, s crypto.Signer) {
	t.Helper()
	pub := s.Public().(*ecdsa.PublicKey)
	msg := []byte("message for SM2")
	uid := []byte("alice@example.com")
	e, err := sm2.CalculateSM2Hash(pub, msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		input  []byte
		opts   crypto.SignerOpts
		verify func(sig []byte) bool
		wrong  func(sig []byte) bool // must not verify
	}{
		{"e, nil opts", e, nil,
			func(sig []byte) bool { return sm2.VerifyASN1(pub, e, sig) && sm2.VerifyASN1WithSM2(pub, nil, msg, sig) },
			func(sig []byte) bool { return sm2.VerifyASN1WithSM2(pub, uid, msg, sig) }},
		{"message, DefaultSM2SignerOpts", msg, sm2.DefaultSM2SignerOpts,
			func(sig []byte) bool { return sm2.VerifyASN1WithSM2(pub, nil, msg, sig) },
			func(sig []byte) bool { return sm2.VerifyASN1WithSM2(pub, nil, append(msg, '!'), sig) }},
		{"message, own user id", msg, sm2.NewSM2SignerOption(true, uid),
			func(sig []byte) bool { return sm2.VerifyASN1WithSM2(pub, uid, msg, sig) },
			func(sig []byte) bool { return sm2.VerifyASN1WithSM2(pub, nil, msg, sig) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig, err := s.Sign(rand.Reader, tt.input, tt.opts)
			if err != nil {
				t.Fatalf("Sign(%s) err = %v", tt.name, err)
			}
			if !tt.verify(sig) {
				t.Errorf("Sign(%s) = %x does not verify", tt.name, sig)
			}
			if tt.wrong(sig) {
				t.Errorf("Sign(%s) = %x verifies for another message or user id", tt.name, sig)
			}
		})
	}
}

func checkSM2Decrypt(t *testing.T, d crypto.Decrypter) {
	t.Helper()
	pub := d.Public().(*ecdsa.PublicKey)
	msg := []byte("a data key of sixteen")
	ct, err := sm2.EncryptASN1(rand.Reader, pub, msg)
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []crypto.DecrypterOpts{nil, sm2.ASN1DecrypterOpts} {
		if pt, err := d.Decrypt(rand.Reader, ct, opts); err != nil || !bytes.Equal(pt, msg) {
			t.Errorf("Decrypt(ASN.1 ciphertext, %v) = %q, %v; want %q", opts, pt, err, msg)
		}
	}
	for _, i := range []int{len(ct) - 1, len(ct) - len(msg) - 3, 8} {
		if pt, err := d.Decrypt(rand.Reader, flip(ct, i), nil); err == nil {
			t.Errorf("Decrypt(ciphertext with byte %d flipped) = %q, want an error", i, pt)
		}
	}
}

// signVerify makes one signature with s and checks it under pub.
func signVerify(w specWant, s crypto.Signer, pub crypto.PublicKey) error {
	msg := []byte("concurrent message")
	switch {
	case w.rsaBits > 0:
		digest, _ := digests(crypto.SHA256)
		sig, err := s.Sign(rand.Reader, digest, crypto.SHA256)
		if err != nil {
			return fmt.Errorf("Sign(SHA-256) err = %v", err)
		}
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("public key is %T, want *rsa.PublicKey", pub)
		}
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, digest, sig)
	case w.sm2:
		sig, err := s.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
		if err != nil {
			return fmt.Errorf("Sign(message, sm2.DefaultSM2SignerOpts) err = %v", err)
		}
		if k, ok := pub.(*ecdsa.PublicKey); !ok || !sm2.VerifyASN1WithSM2(k, nil, msg, sig) {
			return fmt.Errorf("SM2 signature %x does not verify", sig)
		}
		return nil
	default:
		h := ecdsaHash(w.curve)
		digest, other := digests(h)
		sig, err := s.Sign(rand.Reader, digest, h)
		if err != nil {
			return fmt.Errorf("Sign(%v) err = %v", h, err)
		}
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || !ecdsa.VerifyASN1(k, digest, sig) {
			return fmt.Errorf("ECDSA signature %x does not verify", sig)
		}
		if ecdsa.VerifyASN1(k, other, sig) {
			return fmt.Errorf("ECDSA signature %x verifies another digest", sig)
		}
		return nil
	}
}

// roundTrip uses material once: an AEAD round trip, or a signature (and a
// decryption for decrypters). It is safe to call from many goroutines.
func roundTrip(w specWant, m kms.Material) error {
	if w.symmetric {
		return sameKey(w, m, m)
	}
	pm, ok := m.(kms.PrivateMaterial)
	if !ok {
		return fmt.Errorf("material %T is not a kms.PrivateMaterial", m)
	}
	if err := signVerify(w, pm, pm.Public()); err != nil {
		return err
	}
	d, ok := m.(crypto.Decrypter)
	if !ok {
		return nil
	}
	msg := []byte("key")
	var ct []byte
	var opts crypto.DecrypterOpts
	var err error
	switch pub := d.Public().(type) {
	case *rsa.PublicKey:
		opts = &rsa.OAEPOptions{Hash: crypto.SHA256}
		ct, err = rsa.EncryptOAEP(crypto.SHA256.New(), rand.Reader, pub, msg, nil)
	case *ecdsa.PublicKey:
		ct, err = sm2.EncryptASN1(rand.Reader, pub, msg)
	}
	if err != nil {
		return err
	}
	if pt, err := d.Decrypt(rand.Reader, ct, opts); err != nil || !bytes.Equal(pt, msg) {
		return fmt.Errorf("Decrypt() = %q, %v; want %q", pt, err, msg)
	}
	return nil
}

func ecdsaHash(c elliptic.Curve) crypto.Hash {
	if c == elliptic.P384() {
		return crypto.SHA384
	}
	return crypto.SHA256
}

// digests returns the h digests of two different messages.
func digests(h crypto.Hash) (digest, other []byte) {
	d := h.New()
	d.Write([]byte("message to sign"))
	digest = d.Sum(nil)
	d.Reset()
	d.Write([]byte("another message"))
	return digest, d.Sum(nil)
}

func publicEqual(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

// findPrivateKey reports whether a DER private key (PKCS #8, PKCS #1 or
// SEC 1, including SM2) parses from any offset of stored.
func findPrivateKey(stored []byte) (offset int, kind string, found bool) {
	for i := range stored {
		if stored[i] != 0x30 { // SEQUENCE
			continue
		}
		var raw asn1.RawValue
		if _, err := asn1.Unmarshal(stored[i:], &raw); err != nil {
			continue
		}
		der := raw.FullBytes
		if _, err := smx509.ParsePKCS8PrivateKey(der); err == nil {
			return i, "PKCS #8", true
		}
		if _, err := smx509.ParsePKCS1PrivateKey(der); err == nil {
			return i, "PKCS #1", true
		}
		if _, err := smx509.ParseTypedECPrivateKey(der); err == nil {
			return i, "SEC 1", true
		}
	}
	return 0, "", false
}
