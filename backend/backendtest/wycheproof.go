package backendtest

import (
	"bytes"
	"crypto/cipher"
	"encoding/hex"
	"encoding/json"
	"testing"
)

// AEADVector is one Wycheproof AEAD test case (aead_test_schema_v1), with
// its group's sizes.
type AEADVector struct {
	TcID    int
	Comment string
	Flags   []string
	KeySize int // bits
	IVSize  int // bits
	TagSize int // bits
	Key     []byte
	IV      []byte
	AAD     []byte
	Msg     []byte
	CT      []byte
	Tag     []byte
	// Result is "valid" (must succeed), "invalid" (must be rejected) or
	// "acceptable" (either).
	Result string
}

type hexBytes []byte

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := hex.DecodeString(s)
	*h = v
	return err
}

type aeadFile struct {
	Algorithm     string `json:"algorithm"`
	NumberOfTests int    `json:"numberOfTests"`
	TestGroups    []struct {
		KeySize int `json:"keySize"`
		IVSize  int `json:"ivSize"`
		TagSize int `json:"tagSize"`
		Tests   []struct {
			TcID    int      `json:"tcId"`
			Comment string   `json:"comment"`
			Flags   []string `json:"flags"`
			Key     hexBytes `json:"key"`
			IV      hexBytes `json:"iv"`
			AAD     hexBytes `json:"aad"`
			Msg     hexBytes `json:"msg"`
			CT      hexBytes `json:"ct"`
			Tag     hexBytes `json:"tag"`
			Result  string   `json:"result"`
		} `json:"tests"`
	} `json:"testGroups"`
}

// LoadAEADVectors reads a Wycheproof AEAD vector file (such as
// aes_gcm_test.json). It skips the test if the file does not exist and
// fails it if the file does not parse or holds fewer tests than it declares.
func LoadAEADVectors(t testing.TB, path string) []AEADVector {
	t.Helper()
	var f aeadFile
	loadJSON(t, path, &f)
	var vs []AEADVector
	for _, g := range f.TestGroups {
		for _, tc := range g.Tests {
			vs = append(vs, AEADVector{
				TcID: tc.TcID, Comment: tc.Comment, Flags: tc.Flags,
				KeySize: g.KeySize, IVSize: g.IVSize, TagSize: g.TagSize,
				Key: tc.Key, IV: tc.IV, AAD: tc.AAD, Msg: tc.Msg, CT: tc.CT, Tag: tc.Tag,
				Result: tc.Result,
			})
		}
	}
	if len(vs) != f.NumberOfTests {
		t.Fatalf("%s: loaded %d tests, file declares %d", path, len(vs), f.NumberOfTests)
	}
	return vs
}

// AEADStats counts what RunAEADVectors did with each vector.
type AEADStats struct {
	Passed      int // ran and behaved as the result demands
	OtherKey    int // skipped: key size is not the one under test
	Unsupported int // skipped: IV or tag size the AEAD does not take
}

// RunAEADVectors runs every vector with a keyBits-bit key through the AEAD
// newAEAD builds from its key: "valid" vectors must seal to ct||tag and open
// back to msg, "invalid" ones must fail to open (and must not seal to
// ct||tag). Vectors with other key sizes, or with nonce or tag sizes the
// AEAD does not take, are skipped and counted.
func RunAEADVectors(t *testing.T, vs []AEADVector, keyBits int, newAEAD func(key []byte) (cipher.AEAD, error)) AEADStats {
	t.Helper()
	var st AEADStats
	for _, v := range vs {
		if v.KeySize != keyBits {
			st.OtherKey++
			continue
		}
		aead, err := newAEAD(v.Key)
		if err != nil {
			t.Errorf("tcId %d: newAEAD(%x) err = %v", v.TcID, v.Key, err)
			continue
		}
		if len(v.IV) != aead.NonceSize() || len(v.Tag) != aead.Overhead() {
			st.Unsupported++
			continue
		}
		ctTag := append(bytes.Clone(v.CT), v.Tag...)
		pt, openErr := aead.Open(nil, v.IV, ctTag, v.AAD)
		sealed := aead.Seal(nil, v.IV, v.Msg, v.AAD)
		switch v.Result {
		case "valid":
			if openErr != nil || !bytes.Equal(pt, v.Msg) {
				t.Errorf("tcId %d (%s): Open() = %x, %v; want %x", v.TcID, v.Comment, pt, openErr, v.Msg)
				continue
			}
			if !bytes.Equal(sealed, ctTag) {
				t.Errorf("tcId %d (%s): Seal() = %x, want %x", v.TcID, v.Comment, sealed, ctTag)
				continue
			}
		case "invalid":
			if openErr == nil {
				t.Errorf("tcId %d (%s, flags %v): Open() = %x, want an error", v.TcID, v.Comment, v.Flags, pt)
				continue
			}
			if bytes.Equal(sealed, ctTag) {
				t.Errorf("tcId %d (%s): Seal() produced the invalid ciphertext %x", v.TcID, v.Comment, sealed)
				continue
			}
		case "acceptable":
		default:
			t.Errorf("tcId %d: unknown result %q", v.TcID, v.Result)
			continue
		}
		st.Passed++
	}
	return st
}
