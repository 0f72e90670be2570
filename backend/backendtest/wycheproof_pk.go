package backendtest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"testing"
)

// VectorStats counts what a Wycheproof runner did with each vector.
type VectorStats struct {
	Passed  int // ran and behaved as the result demands
	Skipped int // not run: the verifier reported ErrVectorUnsupported
}

// ErrVectorUnsupported is returned by a verifier passed to
// RunSignatureVectors for a vector it cannot express (a key type, curve or
// parameter it does not take); the runner counts the vector as skipped.
var ErrVectorUnsupported = errors.New("backendtest: vector not supported by this verifier")

// RSAOAEPVector is one Wycheproof RSAES-OAEP decryption test case
// (rsaes_oaep_decrypt_schema_v1), with its group's private key and hashes.
type RSAOAEPVector struct {
	TcID            int
	Comment         string
	Flags           []string
	PrivateKeyPKCS8 []byte // the group's private key, PKCS #8 DER
	Hash            crypto.Hash
	MGFHash         crypto.Hash // MGF1's hash
	Label           []byte
	Msg             []byte
	CT              []byte
	Result          string // "valid", "invalid" or "acceptable"
}

type oaepFile struct {
	Algorithm     string `json:"algorithm"`
	NumberOfTests int    `json:"numberOfTests"`
	TestGroups    []struct {
		PrivateKeyPKCS8 hexBytes `json:"privateKeyPkcs8"`
		SHA             string   `json:"sha"`
		MGF             string   `json:"mgf"`
		MGFSHA          string   `json:"mgfSha"`
		Tests           []struct {
			TcID    int      `json:"tcId"`
			Comment string   `json:"comment"`
			Flags   []string `json:"flags"`
			Msg     hexBytes `json:"msg"`
			CT      hexBytes `json:"ct"`
			Label   hexBytes `json:"label"`
			Result  string   `json:"result"`
		} `json:"tests"`
	} `json:"testGroups"`
}

// LoadRSAOAEPVectors reads a Wycheproof RSAES-OAEP decryption file (such
// as rsa_oaep_2048_sha256_mgf1sha256_test.json). It skips the test if the
// file does not exist and fails it if the file does not parse, uses
// another mask generation function than MGF1, or holds fewer tests than it
// declares.
func LoadRSAOAEPVectors(t testing.TB, path string) []RSAOAEPVector {
	t.Helper()
	var f oaepFile
	loadJSON(t, path, &f)
	var vs []RSAOAEPVector
	for _, g := range f.TestGroups {
		if g.MGF != "MGF1" {
			t.Fatalf("%s: mask generation function %q, want MGF1", path, g.MGF)
		}
		h, mgf := parseHash(t, path, g.SHA), parseHash(t, path, g.MGFSHA)
		for _, tc := range g.Tests {
			vs = append(vs, RSAOAEPVector{
				TcID: tc.TcID, Comment: tc.Comment, Flags: tc.Flags,
				PrivateKeyPKCS8: g.PrivateKeyPKCS8, Hash: h, MGFHash: mgf,
				Label: tc.Label, Msg: tc.Msg, CT: tc.CT, Result: tc.Result,
			})
		}
	}
	if len(vs) != f.NumberOfTests {
		t.Fatalf("%s: loaded %d tests, file declares %d", path, len(vs), f.NumberOfTests)
	}
	return vs
}

// RunRSAOAEPVectors decrypts every vector's ciphertext with the
// crypto.Decrypter newDecrypter builds from the group's PKCS #8 private key
// (built once per key), passing *rsa.OAEPOptions with the vector's hashes
// and label: "valid" vectors must decrypt to msg, "invalid" ones must fail.
func RunRSAOAEPVectors(t *testing.T, vs []RSAOAEPVector, newDecrypter func(pkcs8 []byte) (crypto.Decrypter, error)) VectorStats {
	t.Helper()
	var st VectorStats
	decrypters := map[string]crypto.Decrypter{}
	for _, v := range vs {
		d, ok := decrypters[string(v.PrivateKeyPKCS8)]
		if !ok {
			var err error
			if d, err = newDecrypter(v.PrivateKeyPKCS8); err != nil {
				t.Fatalf("tcId %d: newDecrypter(PKCS #8 key) err = %v", v.TcID, err)
			}
			decrypters[string(v.PrivateKeyPKCS8)] = d
		}
		opts := &rsa.OAEPOptions{Hash: v.Hash, MGFHash: v.MGFHash, Label: v.Label}
		pt, err := d.Decrypt(rand.Reader, v.CT, opts)
		if !resultOK(t, v.TcID, v.Comment, v.Flags, v.Result, err == nil && bytes.Equal(pt, v.Msg),
			fmt.Sprintf("Decrypt(ct, label %x) = %x, %v; want %x", v.Label, pt, err, v.Msg)) {
			continue
		}
		st.Passed++
	}
	return st
}

// SignatureScheme names a Wycheproof signature algorithm.
type SignatureScheme string

// Signature schemes, as Wycheproof's "algorithm" field names them.
const (
	SchemeRSAPKCS1v15 SignatureScheme = "RSASSA-PKCS1-v1_5"
	SchemeRSAPSS      SignatureScheme = "RSASSA-PSS"
	SchemeECDSA       SignatureScheme = "ECDSA"
)

// SignatureVector is one Wycheproof signature verification test case
// (rsassa_pkcs1_verify_schema_v1, rsassa_pss_verify_schema_v1 or
// ecdsa_verify_schema_v1, with DER-encoded ECDSA signatures), with its
// group's public key and parameters.
type SignatureVector struct {
	TcID         int
	Comment      string
	Flags        []string
	Scheme       SignatureScheme
	PublicKeyDER []byte // SubjectPublicKeyInfo
	Hash         crypto.Hash
	MGFHash      crypto.Hash // PSS only
	SaltLength   int         // PSS only, in bytes
	Msg          []byte
	Sig          []byte
	Result       string // "valid", "invalid" or "acceptable"
}

type signatureFile struct {
	Algorithm     string `json:"algorithm"`
	NumberOfTests int    `json:"numberOfTests"`
	TestGroups    []struct {
		PublicKeyDER hexBytes `json:"publicKeyDer"`
		SHA          string   `json:"sha"`
		MGF          string   `json:"mgf"`
		MGFSHA       string   `json:"mgfSha"`
		SLen         int      `json:"sLen"`
		Tests        []struct {
			TcID    int      `json:"tcId"`
			Comment string   `json:"comment"`
			Flags   []string `json:"flags"`
			Msg     hexBytes `json:"msg"`
			Sig     hexBytes `json:"sig"`
			Result  string   `json:"result"`
		} `json:"tests"`
	} `json:"testGroups"`
}

// LoadSignatureVectors reads a Wycheproof signature verification file (such
// as rsa_pss_2048_sha256_mgf1_32_test.json, rsa_signature_2048_sha256_test.json
// or ecdsa_secp256r1_sha256_test.json). It skips the test if the file does
// not exist and fails it if the file does not parse, names another
// algorithm, or holds fewer tests than it declares.
func LoadSignatureVectors(t testing.TB, path string) []SignatureVector {
	t.Helper()
	var f signatureFile
	loadJSON(t, path, &f)
	scheme := SignatureScheme(f.Algorithm)
	switch scheme {
	case SchemeRSAPKCS1v15, SchemeRSAPSS, SchemeECDSA:
	default:
		t.Fatalf("%s: algorithm %q is not a signature scheme this loader reads", path, f.Algorithm)
	}
	var vs []SignatureVector
	for _, g := range f.TestGroups {
		v := SignatureVector{Scheme: scheme, PublicKeyDER: g.PublicKeyDER, Hash: parseHash(t, path, g.SHA)}
		if scheme == SchemeRSAPSS {
			if g.MGF != "MGF1" {
				t.Fatalf("%s: mask generation function %q, want MGF1", path, g.MGF)
			}
			v.MGFHash, v.SaltLength = parseHash(t, path, g.MGFSHA), g.SLen
		}
		for _, tc := range g.Tests {
			v.TcID, v.Comment, v.Flags = tc.TcID, tc.Comment, tc.Flags
			v.Msg, v.Sig, v.Result = tc.Msg, tc.Sig, tc.Result
			vs = append(vs, v)
		}
	}
	if len(vs) != f.NumberOfTests {
		t.Fatalf("%s: loaded %d tests, file declares %d", path, len(vs), f.NumberOfTests)
	}
	return vs
}

// RunSignatureVectors hashes every vector's message with its hash and asks
// verify whether sig is a valid signature of that digest: "valid" vectors
// must verify, "invalid" ones must not. A verify that returns
// ErrVectorUnsupported skips the vector.
func RunSignatureVectors(t *testing.T, vs []SignatureVector, verify func(v SignatureVector, digest []byte) error) VectorStats {
	t.Helper()
	var st VectorStats
	for _, v := range vs {
		h := v.Hash.New()
		h.Write(v.Msg)
		err := verify(v, h.Sum(nil))
		if errors.Is(err, ErrVectorUnsupported) {
			st.Skipped++
			continue
		}
		if !resultOK(t, v.TcID, v.Comment, v.Flags, v.Result, err == nil,
			fmt.Sprintf("verify(msg %x, sig %x) err = %v", v.Msg, v.Sig, err)) {
			continue
		}
		st.Passed++
	}
	return st
}

// VerifyStdlib verifies v's signature over digest the way the domain does,
// with the standard library: rsa.VerifyPKCS1v15, rsa.VerifyPSS with the
// vector's salt length, or ecdsa.VerifyASN1. It returns ErrVectorUnsupported
// if the public key does not parse with crypto/x509 (such as a secp256k1
// key) or the PSS MGF1 hash differs from the message hash.
func VerifyStdlib(v SignatureVector, digest []byte) error {
	pub, err := x509.ParsePKIXPublicKey(v.PublicKeyDER)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrVectorUnsupported, err)
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		switch v.Scheme {
		case SchemeRSAPKCS1v15:
			return rsa.VerifyPKCS1v15(k, v.Hash, digest, v.Sig)
		case SchemeRSAPSS:
			if v.MGFHash != v.Hash {
				return fmt.Errorf("%w: PSS with MGF1 %v and hash %v", ErrVectorUnsupported, v.MGFHash, v.Hash)
			}
			return rsa.VerifyPSS(k, v.Hash, digest, v.Sig, &rsa.PSSOptions{SaltLength: v.SaltLength, Hash: v.Hash})
		}
	case *ecdsa.PublicKey:
		if v.Scheme == SchemeECDSA {
			if !ecdsa.VerifyASN1(k, digest, v.Sig) {
				return errors.New("ecdsa: invalid signature")
			}
			return nil
		}
	}
	return fmt.Errorf("%w: %T key for %s", ErrVectorUnsupported, pub, v.Scheme)
}

// resultOK reports whether an outcome matches a Wycheproof result, and
// reports a mismatch.
func resultOK(t *testing.T, tcID int, comment string, flags []string, result string, succeeded bool, call string) bool {
	t.Helper()
	switch result {
	case "valid":
		if !succeeded {
			t.Errorf("tcId %d (%s, flags %v): %s; want success", tcID, comment, flags, call)
			return false
		}
	case "invalid":
		if succeeded {
			t.Errorf("tcId %d (%s, flags %v): %s; want an error", tcID, comment, flags, call)
			return false
		}
	case "acceptable":
	default:
		t.Errorf("tcId %d: unknown result %q", tcID, result)
		return false
	}
	return true
}

func loadJSON(t testing.TB, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("Wycheproof vectors not found at %s; they live in the shared testdata checkout", path)
	}
	if err != nil {
		t.Fatalf("read Wycheproof vectors: %v", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("parse Wycheproof vectors %s: %v", path, err)
	}
}

func parseHash(t testing.TB, path, name string) crypto.Hash {
	t.Helper()
	switch name {
	case "SHA-1":
		return crypto.SHA1
	case "SHA-224":
		return crypto.SHA224
	case "SHA-256":
		return crypto.SHA256
	case "SHA-384":
		return crypto.SHA384
	case "SHA-512":
		return crypto.SHA512
	}
	t.Fatalf("%s: unknown hash %q", path, name)
	return 0
}
