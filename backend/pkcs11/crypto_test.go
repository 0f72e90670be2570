//go:build cgo

package pkcs11

import (
	"bytes"
	"context"
	"crypto"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"
	"testing"

	"github.com/keyhaven/keyhaven/backend/backendtest"
	"github.com/keyhaven/keyhaven/kms"
)

const cryptoSHA256 = crypto.SHA256

const wycheproof = "../../../shared/testdata/wycheproof/"

// openSpec generates and opens one key of spec.
func openSpec(t *testing.T, b *Backend, spec kms.KeySpec) kms.Material {
	t.Helper()
	ctx := context.Background()
	stored, err := b.Generate(ctx, testKeyID, 1, spec)
	if err != nil {
		t.Fatalf("Generate(%s) err = %v", spec, err)
	}
	m, err := b.Open(ctx, testKeyID, 1, spec, stored)
	if err != nil {
		t.Fatalf("Open(%s) err = %v", spec, err)
	}
	t.Cleanup(m.Destroy)
	return m
}

// TestAEAD checks the token's AES-GCM against itself, since its key cannot
// leave the token: round trips of several sizes, every bit flip and every
// truncation of the ciphertext fails, as do another nonce or other
// additional data; Seal appends to dst and works in place.
func TestAEAD(t *testing.T) {
	b := open(t, "aead", 2)
	aead := openSpec(t, b, kms.SpecSymmetricDefault).(kms.SymmetricMaterial).AEAD()
	if aead.NonceSize() != 12 || aead.Overhead() != 16 {
		t.Fatalf("NonceSize, Overhead = %d, %d; want 12, 16", aead.NonceSize(), aead.Overhead())
	}
	nonce := make([]byte, 12)
	rand.Read(nonce)
	for _, n := range []int{0, 1, 15, 16, 17, 4096} {
		pt := make([]byte, n)
		rand.Read(pt)
		ct := aead.Seal(nil, nonce, pt, []byte("ad"))
		if len(ct) != n+16 {
			t.Fatalf("Seal(%d bytes) = %d bytes, want %d", n, len(ct), n+16)
		}
		if got, err := aead.Open(nil, nonce, ct, []byte("ad")); err != nil || !bytes.Equal(got, pt) {
			t.Errorf("Open(Seal(%d bytes)) = %x, %v; want the plaintext", n, got, err)
		}
	}

	pt := []byte("attack at dawn")
	ct := aead.Seal([]byte("prefix"), nonce, pt, []byte("ad"))[len("prefix"):]
	for i := range len(ct) * 8 {
		c := bytes.Clone(ct)
		c[i/8] ^= 1 << (i % 8)
		if got, err := aead.Open(nil, nonce, c, []byte("ad")); err == nil {
			t.Fatalf("Open(ciphertext with bit %d flipped) = %q, want an error", i, got)
		}
	}
	for n := range len(ct) {
		if got, err := aead.Open(nil, nonce, ct[:n], []byte("ad")); err == nil {
			t.Fatalf("Open(ciphertext truncated to %d bytes) = %q, want an error", n, got)
		}
	}
	other := bytes.Clone(nonce)
	other[0] ^= 1
	bad := []struct {
		name         string
		nonce, ct, a []byte
	}{
		{"other additional data", nonce, ct, []byte("ae")},
		{"no additional data", nonce, ct, nil},
		{"other nonce", other, ct, []byte("ad")},
		{"short nonce", nonce[:11], ct, []byte("ad")},
	}
	for _, tt := range bad {
		if got, err := aead.Open(nil, tt.nonce, tt.ct, tt.a); err == nil {
			t.Errorf("Open(%s) = %q, want an error", tt.name, got)
		}
	}

	// In place, as internal/blob seals: dst is the start of the buffer the
	// ciphertext must land in, and the return value is ignored.
	buf := make([]byte, 4, 4+len(pt)+16)
	aead.Seal(buf[4:4], nonce, pt, nil)
	if got, err := aead.Open(nil, nonce, buf[4:cap(buf)], nil); err != nil || !bytes.Equal(got, pt) {
		t.Errorf("Open(in-place Seal) = %q, %v; want %q", got, err, pt)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Errorf("Seal(11-byte nonce) did not panic")
			}
		}()
		aead.Seal(nil, nonce[:11], pt, nil)
	}()
}

// TestRSASignVerifyOutside signs in the token and verifies with crypto/rsa
// and the public key read from the token.
func TestRSASignVerifyOutside(t *testing.T) {
	b := open(t, "rsa-sign", 2)
	m := openSpec(t, b, kms.SpecRSA2048).(kms.PrivateMaterial)
	pub := m.Public().(*rsa.PublicKey)
	digest := sha256.Sum256([]byte("message"))
	d512 := sha512.Sum512([]byte("message"))
	tests := []struct {
		name   string
		digest []byte
		opts   crypto.SignerOpts
		verify func(sig []byte) error
	}{
		{"PKCS1v15 SHA-256", digest[:], crypto.SHA256, func(s []byte) error { return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], s) }},
		{"PKCS1v15 SHA-512", d512[:], crypto.SHA512, func(s []byte) error { return rsa.VerifyPKCS1v15(pub, crypto.SHA512, d512[:], s) }},
		{"PSS auto salt", digest[:], &rsa.PSSOptions{Hash: crypto.SHA256},
			func(s []byte) error {
				return rsa.VerifyPSS(pub, crypto.SHA256, digest[:], s, &rsa.PSSOptions{SaltLength: 256 - 32 - 2, Hash: crypto.SHA256})
			}},
		{"PSS salt = hash", digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256},
			func(s []byte) error {
				return rsa.VerifyPSS(pub, crypto.SHA256, digest[:], s, &rsa.PSSOptions{SaltLength: 32, Hash: crypto.SHA256})
			}},
		{"PSS salt 20", digest[:], &rsa.PSSOptions{SaltLength: 20, Hash: crypto.SHA256},
			func(s []byte) error {
				return rsa.VerifyPSS(pub, crypto.SHA256, digest[:], s, &rsa.PSSOptions{SaltLength: 20, Hash: crypto.SHA256})
			}},
	}
	for _, tt := range tests {
		sig, err := m.Sign(rand.Reader, tt.digest, tt.opts)
		if err != nil {
			t.Errorf("Sign(%s) err = %v", tt.name, err)
			continue
		}
		if err := tt.verify(sig); err != nil {
			t.Errorf("verify(Sign(%s)) with crypto/rsa err = %v", tt.name, err)
		}
	}
	refused := []struct {
		name   string
		digest []byte
		opts   crypto.SignerOpts
	}{
		{"nil opts", digest[:], nil},
		{"SHA-1", digest[:20], crypto.SHA1},
		{"no hash", digest[:], crypto.Hash(0)},
		{"short digest", digest[:31], crypto.SHA256},
		{"nil PSS options", digest[:], (*rsa.PSSOptions)(nil)},
		{"salt too long", digest[:], &rsa.PSSOptions{SaltLength: 300, Hash: crypto.SHA256}},
	}
	for _, tt := range refused {
		if sig, err := m.Sign(rand.Reader, tt.digest, tt.opts); err == nil {
			t.Errorf("Sign(%s) = %x, want an error", tt.name, sig)
		}
	}
}

// TestRSADecryptPaths decrypts OAEP ciphertexts made by crypto/rsa with the
// public key, through CKM_RSA_PKCS_OAEP where the token takes the
// parameters and through CKM_RSA_X_509 with OAEP decoding in Go otherwise.
func TestRSADecryptPaths(t *testing.T) {
	b := open(t, "rsa-decrypt", 2)
	m := openSpec(t, b, kms.SpecRSA2048).(crypto.Decrypter)
	pub := m.Public().(*rsa.PublicKey)
	msg := []byte("a 32-byte data key, say........")
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
		for _, label := range [][]byte{nil, []byte("context")} {
			name := fmt.Sprintf("%v label %q", h, label)
			ct, err := rsa.EncryptOAEP(h.New(), rand.Reader, pub, msg, label)
			if err != nil {
				t.Fatal(err)
			}
			if pt, err := m.Decrypt(nil, ct, &rsa.OAEPOptions{Hash: h, Label: label}); err != nil || !bytes.Equal(pt, msg) {
				t.Errorf("Decrypt(%s) = %q, %v; want %q", name, pt, err, msg)
			}
			if pt, err := m.Decrypt(nil, ct, &rsa.OAEPOptions{Hash: h, Label: []byte("other")}); err == nil {
				t.Errorf("Decrypt(%s, other label) = %q, want an error", name, pt)
			}
			other := crypto.SHA256
			if h == crypto.SHA256 {
				other = crypto.SHA1
			}
			if pt, err := m.Decrypt(nil, ct, &rsa.OAEPOptions{Hash: other, Label: label}); err == nil {
				t.Errorf("Decrypt(%s, as %v) = %q, want an error", name, other, pt)
			}
			for _, i := range []int{0, 1, len(ct) / 2, len(ct) - 1} {
				c := bytes.Clone(ct)
				c[i] ^= 0x80
				if pt, err := m.Decrypt(nil, c, &rsa.OAEPOptions{Hash: h, Label: label}); err == nil {
					t.Errorf("Decrypt(%s, byte %d flipped) = %q, want an error", name, i, pt)
				}
			}
			if pt, err := m.Decrypt(nil, ct[1:], &rsa.OAEPOptions{Hash: h, Label: label}); err == nil {
				t.Errorf("Decrypt(%s, truncated) = %q, want an error", name, pt)
			}
		}
	}
	t.Logf("token refused native OAEP parameters: SHA-1 %v, SHA-256 %v (those use CKM_RSA_X_509 and OAEP decoding in Go)",
		b.oaepRaw[0].Load(), b.oaepRaw[1].Load())
	for _, opts := range []crypto.DecrypterOpts{nil, &rsa.PKCS1v15DecryptOptions{}, &rsa.OAEPOptions{Hash: crypto.SHA512}, &rsa.OAEPOptions{Hash: crypto.SHA256, MGFHash: crypto.SHA1}} {
		if pt, err := m.Decrypt(nil, make([]byte, 256), opts); err == nil {
			t.Errorf("Decrypt(opts %#v) = %x, want an error", opts, pt)
		}
	}
}

// TestWycheproofOAEPDecoding runs the Wycheproof RSA-OAEP vectors through
// decodeOAEP, the Go half of the CKM_RSA_X_509 path, with the raw RSA
// operation done in software on the vectors' keys (a vector key cannot be
// imported into the token as a generated, non-extractable key).
func TestWycheproofOAEPDecoding(t *testing.T) {
	for _, file := range []string{"rsa_oaep_2048_sha1_mgf1sha1_test.json", "rsa_oaep_2048_sha256_mgf1sha256_test.json"} {
		t.Run(file, func(t *testing.T) {
			vs := backendtest.LoadRSAOAEPVectors(t, wycheproof+file)
			st := backendtest.RunRSAOAEPVectors(t, vs, func(pkcs8 []byte) (crypto.Decrypter, error) {
				k, err := x509.ParsePKCS8PrivateKey(pkcs8)
				if err != nil {
					return nil, err
				}
				return rawOAEP{k.(*rsa.PrivateKey)}, nil
			})
			t.Logf("%s: %d vectors, %d passed, %d skipped", file, len(vs), st.Passed, st.Skipped)
			if st.Passed != len(vs) && !t.Failed() {
				t.Errorf("passed %d vectors, loaded %d", st.Passed, len(vs))
			}
		})
	}
}

// rawOAEP decrypts as rsaMaterial's CKM_RSA_X_509 path does, with the raw
// RSA operation in software.
type rawOAEP struct{ k *rsa.PrivateKey }

func (r rawOAEP) Public() crypto.PublicKey { return &r.k.PublicKey }

func (r rawOAEP) Decrypt(_ io.Reader, ct []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	o := opts.(*rsa.OAEPOptions)
	if o.MGFHash != 0 && o.MGFHash != o.Hash {
		return nil, errors.New("MGF1 hash differs")
	}
	k := (r.k.N.BitLen() + 7) / 8
	c := new(big.Int).SetBytes(ct)
	if len(ct) != k || c.Cmp(r.k.N) >= 0 {
		return nil, errDecrypt
	}
	em := new(big.Int).Exp(c, r.k.D, r.k.N).Bytes()
	pt, ok := decodeOAEP(o.Hash, em, k, o.Label)
	if !ok {
		return nil, errDecrypt
	}
	return pt, nil
}

func TestECDSASignVerifyOutside(t *testing.T) {
	b := open(t, "ecdsa", 2)
	for _, tt := range []struct {
		spec kms.KeySpec
		hash crypto.Hash
	}{
		{kms.SpecECP256, crypto.SHA256}, {kms.SpecECP256, crypto.SHA512},
		{kms.SpecECP384, crypto.SHA384}, {kms.SpecECP384, crypto.SHA512}, {kms.SpecECP384, crypto.SHA256},
	} {
		m := openSpec(t, b, tt.spec).(kms.PrivateMaterial)
		h := tt.hash.New()
		h.Write([]byte("message"))
		digest := h.Sum(nil)
		sig, err := m.Sign(nil, digest, tt.hash)
		if err != nil {
			t.Errorf("Sign(%s, %v) err = %v", tt.spec, tt.hash, err)
			continue
		}
		if !ecdsa.VerifyASN1(m.Public().(*ecdsa.PublicKey), digest, sig) {
			t.Errorf("ecdsa.VerifyASN1(Sign(%s, %v)) = false", tt.spec, tt.hash)
		}
		if sig2, err := m.Sign(nil, digest[:len(digest)-1], tt.hash); err == nil {
			t.Errorf("Sign(%s, short digest) = %x, want an error", tt.spec, sig2)
		}
	}
}

var _ cipher.AEAD = (*gcm)(nil)
