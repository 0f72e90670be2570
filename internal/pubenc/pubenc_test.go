package pubenc

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

type keys struct {
	rsa     *rsa.PrivateKey
	rsaPEM  string
	rsa1024 string
	rsa3072 string
	sm2     *sm2.PrivateKey
	sm2PEM  string
	p256PEM string
	edPEM   string
}

var (
	keysOnce sync.Once
	testKeys keys
)

func pkixPEM(tb testing.TB, pub any) string {
	tb.Helper()
	der, err := smx509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatalf("MarshalPKIXPublicKey(%T) err = %v", pub, err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// getKeys generates the test key pairs once per test binary.
func getKeys(tb testing.TB) *keys {
	tb.Helper()
	keysOnce.Do(func() {
		var err error
		k := &testKeys
		if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			tb.Fatal(err)
		}
		k.rsaPEM = pkixPEM(tb, &k.rsa.PublicKey)
		for _, c := range []struct {
			bits int
			dst  *string
		}{{1024, &k.rsa1024}, {3072, &k.rsa3072}} {
			r, err := rsa.GenerateKey(rand.Reader, c.bits)
			if err != nil {
				tb.Fatal(err)
			}
			*c.dst = pkixPEM(tb, &r.PublicKey)
		}
		if k.sm2, err = sm2.GenerateKey(rand.Reader); err != nil {
			tb.Fatal(err)
		}
		k.sm2PEM = pkixPEM(tb, &k.sm2.PublicKey)
		p, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		k.p256PEM = pkixPEM(tb, &p.PublicKey)
		ed, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		k.edPEM = pkixPEM(tb, ed)
	})
	if testKeys.rsa == nil || testKeys.sm2 == nil {
		tb.Fatal("test key generation failed")
	}
	return &testKeys
}

func TestEncryptRoundTrip(t *testing.T) {
	k := getKeys(t)
	pt := []byte("thirty-two byte data key!!!!!!!!")
	tests := []struct {
		algorithm string
		pem       string
		decrypt   func(ct []byte) ([]byte, error)
	}{
		{"", k.sm2PEM, func(ct []byte) ([]byte, error) { return sm2.Decrypt(k.sm2, ct) }},
		{SM2, k.sm2PEM, func(ct []byte) ([]byte, error) { return sm2.Decrypt(k.sm2, ct) }},
		{SM2C1C3C2ASN1, k.sm2PEM, func(ct []byte) ([]byte, error) {
			if ct[0] != 0x30 {
				t.Errorf("SM2_C1C3C2_ASN1 ciphertext starts %#x, want an ASN.1 SEQUENCE (0x30)", ct[0])
			}
			return k.sm2.Decrypt(nil, ct, sm2.ASN1DecrypterOpts)
		}},
		{RSAPKCS1v15, k.rsaPEM, func(ct []byte) ([]byte, error) { return rsa.DecryptPKCS1v15(nil, k.rsa, ct) }},
		{RSAOAEPSHA1, k.rsaPEM, func(ct []byte) ([]byte, error) { return rsa.DecryptOAEP(sha1.New(), nil, k.rsa, ct, nil) }},
		{RSAOAEPSHA256, k.rsaPEM, func(ct []byte) ([]byte, error) { return rsa.DecryptOAEP(sha256.New(), nil, k.rsa, ct, nil) }},
	}
	for _, tt := range tests {
		t.Run("alg="+tt.algorithm, func(t *testing.T) {
			ct, err := Encrypt(rand.Reader, tt.pem, tt.algorithm, pt)
			if err != nil {
				t.Fatalf("Encrypt(%q) err = %v", tt.algorithm, err)
			}
			if bytes.Contains(ct, pt) {
				t.Errorf("Encrypt(%q) = %x contains the plaintext", tt.algorithm, ct)
			}
			got, err := tt.decrypt(ct)
			if err != nil || !bytes.Equal(got, pt) {
				t.Errorf("decrypt(Encrypt(%q)) = %q, %v; want %q", tt.algorithm, got, err, pt)
			}
		})
	}
}

// TestSM2Encodings checks the layout of the two SM2 forms: raw is
// 0x04 || x || y || C3 || C2; ASN.1 converts to exactly that raw form.
func TestSM2Encodings(t *testing.T) {
	k := getKeys(t)
	pt := []byte("data key")
	raw, err := Encrypt(rand.Reader, k.sm2PEM, SM2, pt)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 65+32+len(pt) || raw[0] != 0x04 {
		t.Errorf("SM2 ciphertext is %d bytes starting %#x, want %d starting 0x04", len(raw), raw[0], 65+32+len(pt))
	}
	if _, err := sm2.PlainCiphertext2ASN1(raw, sm2.C1C3C2); err != nil {
		t.Errorf("PlainCiphertext2ASN1(raw SM2 form) err = %v", err)
	}
	asn, err := Encrypt(rand.Reader, k.sm2PEM, SM2C1C3C2ASN1, pt)
	if err != nil {
		t.Fatal(err)
	}
	conv, err := sm2.ASN1Ciphertext2Plain(asn, sm2.NewPlainEncrypterOpts(sm2.MarshalUncompressed, sm2.C1C3C2))
	if err != nil {
		t.Fatalf("ASN1Ciphertext2Plain(ASN.1 SM2 form) err = %v", err)
	}
	if !bytes.Equal(conv[:65], asn2point(t, asn)) {
		t.Errorf("converted C1 = %x, want the ASN.1 form's point", conv[:65])
	}
	if got, err := sm2.Decrypt(k.sm2, conv); err != nil || !bytes.Equal(got, pt) {
		t.Errorf("Decrypt(ASN.1 form converted to raw C1C3C2) = %q, %v; want %q", got, err, pt)
	}
}

// asn2point returns 0x04 || x || y from an ASN.1 SM2 ciphertext.
func asn2point(t *testing.T, der []byte) []byte {
	t.Helper()
	var c struct {
		X, Y *big.Int
		C3   []byte
		C2   []byte
	}
	if rest, err := asn1.Unmarshal(der, &c); err != nil || len(rest) != 0 {
		t.Fatalf("asn1.Unmarshal(SM2 ciphertext) err = %v, %d trailing bytes", err, len(rest))
	}
	if len(c.C3) != 32 {
		t.Errorf("ASN.1 C3 is %d bytes, want 32", len(c.C3))
	}
	p := []byte{4}
	p = append(p, c.X.FillBytes(make([]byte, 32))...)
	return append(p, c.Y.FillBytes(make([]byte, 32))...)
}

func TestEncryptErrors(t *testing.T) {
	k := getKeys(t)
	pt := []byte("data key")
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)}))
	pkcs1AsPKIX := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)}))
	tests := []struct {
		name      string
		pem       string
		algorithm string
		plaintext []byte
		wantErr   error // nil: any error
	}{
		{"SM2 with RSA key", k.rsaPEM, SM2, pt, ErrInvalidPublicKey},
		{"default with RSA key", k.rsaPEM, "", pt, ErrInvalidPublicKey},
		{"SM2 ASN.1 with RSA key", k.rsaPEM, SM2C1C3C2ASN1, pt, ErrInvalidPublicKey},
		{"OAEP with SM2 key", k.sm2PEM, RSAOAEPSHA256, pt, ErrInvalidPublicKey},
		{"PKCS1 with SM2 key", k.sm2PEM, RSAPKCS1v15, pt, ErrInvalidPublicKey},
		{"RSA-1024", k.rsa1024, RSAOAEPSHA256, pt, ErrInvalidPublicKey},
		{"RSA-3072", k.rsa3072, RSAOAEPSHA1, pt, ErrInvalidPublicKey},
		{"NIST P-256", k.p256PEM, SM2, pt, ErrInvalidPublicKey},
		{"Ed25519", k.edPEM, SM2, pt, ErrInvalidPublicKey},
		{"garbage", "not a pem", SM2, pt, ErrInvalidPublicKey},
		{"empty PEM", "", SM2, pt, ErrInvalidPublicKey},
		{"garbage in PEM", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", SM2, pt, ErrInvalidPublicKey},
		{"PKCS#1 block", pkcs1, RSAOAEPSHA256, pt, ErrInvalidPublicKey},
		{"PKCS#1 bytes as PKIX", pkcs1AsPKIX, RSAOAEPSHA256, pt, ErrInvalidPublicKey},
		{"trailing data", k.sm2PEM + "junk", SM2, pt, ErrInvalidPublicKey},
		{"two blocks", k.sm2PEM + k.rsaPEM, SM2, pt, ErrInvalidPublicKey},
		{"leading junk", "junk\n" + k.sm2PEM, SM2, pt, ErrInvalidPublicKey},
		{"unknown algorithm", k.sm2PEM, "SM2_C1C2C3", pt, ErrUnsupportedAlgorithm},
		{"lowercase algorithm", k.rsaPEM, "rsaes_oaep_sha_256", pt, ErrUnsupportedAlgorithm},
		{"empty plaintext", k.sm2PEM, SM2, nil, nil},
		{"OAEP-256 too long", k.rsaPEM, RSAOAEPSHA256, make([]byte, 191), nil},
		{"OAEP-1 too long", k.rsaPEM, RSAOAEPSHA1, make([]byte, 215), nil},
		{"PKCS1 too long", k.rsaPEM, RSAPKCS1v15, make([]byte, 246), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, err := Encrypt(rand.Reader, tt.pem, tt.algorithm, tt.plaintext)
			if err == nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Encrypt(%s, %q) = %x, %v; want %v", tt.name, tt.algorithm, ct, err, tt.wantErr)
			}
		})
	}
}

func TestMaxPlaintext(t *testing.T) {
	k := getKeys(t)
	for _, tt := range []struct {
		algorithm string
		max       int
	}{{RSAOAEPSHA256, 190}, {RSAOAEPSHA1, 214}, {RSAPKCS1v15, 245}, {SM2, 1024}, {SM2C1C3C2ASN1, 1024}} {
		pem := k.rsaPEM
		if strings.HasPrefix(tt.algorithm, "SM2") {
			pem = k.sm2PEM
		}
		if _, err := Encrypt(rand.Reader, pem, tt.algorithm, make([]byte, tt.max)); err != nil {
			t.Errorf("Encrypt(%s, %d bytes) err = %v, want nil", tt.algorithm, tt.max, err)
		}
	}
}

func TestParse(t *testing.T) {
	k := getKeys(t)
	for _, tt := range []struct{ pem, algorithm, want string }{
		{k.sm2PEM, "", SM2},
		{k.sm2PEM, SM2C1C3C2ASN1, SM2C1C3C2ASN1},
		{k.rsaPEM, RSAOAEPSHA256, RSAOAEPSHA256},
		{"\n  " + k.rsaPEM + "\n\n", RSAPKCS1v15, RSAPKCS1v15},
	} {
		pk, err := Parse(tt.pem, tt.algorithm)
		if err != nil || pk.Algorithm() != tt.want {
			t.Errorf("Parse(_, %q) = %v, %v; want algorithm %s", tt.algorithm, pk, err, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	k := getKeys(f)
	f.Add(k.sm2PEM, SM2)
	f.Add(k.rsaPEM, RSAOAEPSHA256)
	f.Add(k.rsa1024, RSAPKCS1v15)
	f.Add(k.p256PEM, SM2C1C3C2ASN1)
	f.Add("-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n", "")
	f.Fuzz(func(t *testing.T, pemText, algorithm string) {
		pk, err := Parse(pemText, algorithm)
		if err != nil {
			if !errors.Is(err, ErrInvalidPublicKey) && !errors.Is(err, ErrUnsupportedAlgorithm) {
				t.Fatalf("Parse() err = %v, want ErrInvalidPublicKey or ErrUnsupportedAlgorithm", err)
			}
			return
		}
		if _, err := pk.Encrypt(rand.Reader, []byte("k")); err != nil {
			t.Fatalf("Encrypt() with a key Parse accepted err = %v", err)
		}
	})
}
