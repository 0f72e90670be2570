package software

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/asn1"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
	"github.com/emmansun/gmsm/smx509"

	"github.com/keyhaven/keyhaven/kms"
)

// GM/T known answers, from ../../../shared/testdata/gmt/README.md (GB/T
// 32907 SM4, GB/T 32905 SM3, GB/T 32918.5 SM2 on sm2p256v1).
const (
	gmtSM4Key   = "0123456789abcdeffedcba9876543210"
	gmtSM4CT    = "681edf34d206965e86b3e94f536e4246"
	gmtSM4CT1M  = "595298c7c6fd271f0402f804c33d3f66"
	gmtSM2D     = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
	gmtSM2X     = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
	gmtSM2Y     = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
	gmtSM2ZA    = "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3"
	gmtSM2E     = "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640"
	gmtSM2R     = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
	gmtSM2S     = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
	gmtSM2Plain = "encryption standard"
	// C1 ‖ C3 ‖ C2, raw, uncompressed C1.
	gmtSM2CT = "0404EBFC718E8D1798620432268E77FEB6415E2EDE0E073C0F4F640ECD2E149A73E858F9D81E5430A57B36DAAB8F950A3C64E6EE6A63094D99283AFF767E124DF059983C18F809E262923C53AEC295D30383B54E39D609D160AFCB1908D0BD876621886CA989CA9C7D58087307CA93092D651EFA"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("hex %q: %v", s, err)
	}
	return b
}

// gmtSM2Material returns SM2 material for the GM/T example key, built as
// Open builds it (PKCS #8 through newPrivateMaterial), and the example's
// public key built from its coordinates alone.
func gmtSM2Material(t *testing.T) (*sm2Material, *ecdsa.PublicKey) {
	t.Helper()
	k, err := sm2.NewPrivateKey(unhex(t, gmtSM2D))
	if err != nil {
		t.Fatalf("sm2.NewPrivateKey(d) err = %v", err)
	}
	der, err := smx509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	m, err := newPrivateMaterial(kms.SpecECSM2, der)
	if err != nil {
		t.Fatalf("newPrivateMaterial(SM2 example key) err = %v", err)
	}
	t.Cleanup(m.Destroy)
	pub, err := sm2.NewPublicKey(append(append([]byte{4}, unhex(t, gmtSM2X)...), unhex(t, gmtSM2Y)...))
	if err != nil {
		t.Fatalf("sm2.NewPublicKey(P) err = %v", err)
	}
	return m.(*sm2Material), pub
}

func TestGMT(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"SM4 block", func(t *testing.T) {
			block, err := sm4.NewCipher(unhex(t, gmtSM4Key))
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, 16)
			block.Encrypt(got, unhex(t, gmtSM4Key))
			if want := unhex(t, gmtSM4CT); !bytes.Equal(got, want) {
				t.Errorf("SM4 Encrypt(%s) = %x, want %x", gmtSM4Key, got, want)
			}
			block.Decrypt(got, got)
			if want := unhex(t, gmtSM4Key); !bytes.Equal(got, want) {
				t.Errorf("SM4 Decrypt(%s) = %x, want %x", gmtSM4CT, got, want)
			}
		}},
		{"SM4 block 1e6 times", func(t *testing.T) {
			if testing.Short() {
				t.Skip("1,000,000 SM4 encryptions; skipped in -short")
			}
			block, err := sm4.NewCipher(unhex(t, gmtSM4Key))
			if err != nil {
				t.Fatal(err)
			}
			b := unhex(t, gmtSM4Key)
			for range 1_000_000 {
				block.Encrypt(b, b)
			}
			if want := unhex(t, gmtSM4CT1M); !bytes.Equal(b, want) {
				t.Errorf("SM4 Encrypt^1000000(%s) = %x, want %x", gmtSM4Key, b, want)
			}
		}},
		{"SM3 abc", func(t *testing.T) {
			got := sm3.Sum([]byte("abc"))
			if want := "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"; hex.EncodeToString(got[:]) != want {
				t.Errorf("SM3(abc) = %x, want %s", got, want)
			}
		}},
		{"SM3 abcd x16", func(t *testing.T) {
			got := sm3.Sum([]byte(strings.Repeat("abcd", 16)))
			if want := "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"; hex.EncodeToString(got[:]) != want {
				t.Errorf("SM3(abcd×16) = %x, want %s", got, want)
			}
		}},
		{"SM2 public key of d", func(t *testing.T) {
			m, pub := gmtSM2Material(t)
			if !pub.Equal(m.Public()) {
				t.Errorf("material Public() = %v, want P from the standard", m.Public())
			}
		}},
		{"SM2 Z_A and e", func(t *testing.T) {
			_, pub := gmtSM2Material(t)
			za, err := sm2.CalculateZA(pub, []byte("1234567812345678"))
			if err != nil || !bytes.Equal(za, unhex(t, gmtSM2ZA)) {
				t.Errorf("CalculateZA(P, default id) = %X, %v; want %s", za, err, gmtSM2ZA)
			}
			e, err := sm2.CalculateSM2Hash(pub, []byte("message digest"), nil)
			if err != nil || !bytes.Equal(e, unhex(t, gmtSM2E)) {
				t.Errorf("CalculateSM2Hash(P, message digest, default id) = %X, %v; want %s", e, err, gmtSM2E)
			}
		}},
		{"SM2 signature example", testGMTSM2Signature},
		{"SM2 material signs for P", func(t *testing.T) {
			m, pub := gmtSM2Material(t)
			msg := []byte("message digest")
			sig, err := m.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
			if err != nil || !sm2.VerifyASN1WithSM2(pub, nil, msg, sig) {
				t.Errorf("Sign(message digest, DefaultSM2SignerOpts) = %x, %v; want a signature P verifies", sig, err)
			}
			sig, err = m.Sign(rand.Reader, unhex(t, gmtSM2E), nil)
			if err != nil || !sm2.VerifyASN1WithSM2(pub, nil, msg, sig) {
				t.Errorf("Sign(e, nil) = %x, %v; want a signature of message digest that P verifies", sig, err)
			}
		}},
		{"SM2 encryption example", testGMTSM2Decrypt},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

func testGMTSM2Signature(t *testing.T) {
	_, pub := gmtSM2Material(t)
	r, _ := new(big.Int).SetString(gmtSM2R, 16)
	s, _ := new(big.Int).SetString(gmtSM2S, 16)
	der := func(r, s *big.Int) []byte {
		b, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	sig := der(r, s)
	if !sm2.VerifyASN1(pub, unhex(t, gmtSM2E), sig) {
		t.Errorf("VerifyASN1(P, e, (r, s)) = false, want true")
	}
	tests := []struct {
		name string
		uid  []byte
		msg  string
		sig  []byte
		want bool
	}{
		{"standard example", nil, "message digest", sig, true},
		{"explicit default id", []byte("1234567812345678"), "message digest", sig, true},
		{"modified message", nil, "message digesT", sig, false},
		{"longer message", nil, "message digest.", sig, false},
		{"other id", []byte("1234567812345679"), "message digest", sig, false},
		{"empty id", []byte{}, "message digest", sig, true}, // gmsm: empty means default
		{"r+1", nil, "message digest", der(new(big.Int).Add(r, big.NewInt(1)), s), false},
		{"s swapped with r", nil, "message digest", der(s, r), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sm2.VerifyASN1WithSM2(pub, tt.uid, []byte(tt.msg), tt.sig); got != tt.want {
				t.Errorf("VerifyASN1WithSM2(P, %q, %q, sig) = %v, want %v", tt.uid, tt.msg, got, tt.want)
			}
		})
	}
}

func testGMTSM2Decrypt(t *testing.T) {
	m, _ := gmtSM2Material(t)
	raw := unhex(t, gmtSM2CT)
	// gmsm's own Decrypt takes the raw C1C3C2 form; the material takes only
	// ASN.1, so the example is converted first.
	key := m.key.(*sm2.PrivateKey)
	if got, err := sm2.Decrypt(key, raw); err != nil || string(got) != gmtSM2Plain {
		t.Errorf("sm2.Decrypt(raw C1C3C2) = %q, %v; want %q", got, err, gmtSM2Plain)
	}
	if got, err := m.Decrypt(rand.Reader, raw, nil); err == nil {
		t.Errorf("material Decrypt(raw C1C3C2) = %q, want an error (ASN.1 only)", got)
	}
	ct, err := sm2.PlainCiphertext2ASN1(raw, sm2.C1C3C2)
	if err != nil {
		t.Fatalf("PlainCiphertext2ASN1(example) err = %v", err)
	}
	for _, opts := range []crypto.DecrypterOpts{nil, sm2.ASN1DecrypterOpts} {
		if got, err := m.Decrypt(rand.Reader, ct, opts); err != nil || string(got) != gmtSM2Plain {
			t.Errorf("Decrypt(ASN.1 example, %v) = %q, %v; want %q", opts, got, err, gmtSM2Plain)
		}
	}
	// One flipped bit in C1's x, in C1's y, in C3 or in C2 must fail.
	c2 := len(raw) - len(gmtSM2Plain)
	decrypted := 0
	for _, i := range []int{1, 40, 65, 65 + 16, c2, len(raw) - 1} {
		bad := bytes.Clone(raw)
		bad[i] ^= 0x01
		asn, err := sm2.PlainCiphertext2ASN1(bad, sm2.C1C3C2)
		if err != nil {
			continue // C1 is no longer a curve point: rejected before decryption
		}
		decrypted++
		if got, err := m.Decrypt(rand.Reader, asn, nil); err == nil {
			t.Errorf("Decrypt(example with byte %d flipped) = %q, want an error", i, got)
		}
	}
	if decrypted < 3 { // C3 and C2 flips always reach decryption
		t.Errorf("only %d flipped ciphertexts reached Decrypt, want at least 3", decrypted)
	}
}
