package software

import (
	"crypto"
	"crypto/cipher"
	"testing"

	"github.com/keyhaven/keyhaven/backend/backendtest"
	"github.com/keyhaven/keyhaven/kms"
)

const wycheproof = "../../../shared/testdata/wycheproof/"

func TestWycheproofSM4GCM(t *testing.T) {
	vs := backendtest.LoadAEADVectors(t, wycheproof+"sm4_gcm_test.json")
	st := backendtest.RunAEADVectors(t, vs, 128, func(key []byte) (cipher.AEAD, error) {
		m, err := newSM4Material(key)
		if err != nil {
			return nil, err
		}
		return m.AEAD(), nil
	})
	t.Logf("SM4-GCM Wycheproof: %d vectors; through material: %d passed, %d skipped (IV/tag size), %d skipped (other key size)",
		len(vs), st.Passed, st.Unsupported, st.OtherKey)
	if st.Passed == 0 {
		t.Errorf("no Wycheproof vector ran")
	}
	if got := st.Passed + st.Unsupported + st.OtherKey; got != len(vs) && !t.Failed() {
		t.Errorf("accounted for %d vectors, loaded %d", got, len(vs))
	}
}

// TestWycheproofRSAOAEP decrypts the Wycheproof OAEP vectors with RSA
// material built from each file's PKCS #8 key, as Open builds it.
func TestWycheproofRSAOAEP(t *testing.T) {
	for _, file := range []string{"rsa_oaep_2048_sha1_mgf1sha1_test.json", "rsa_oaep_2048_sha256_mgf1sha256_test.json"} {
		t.Run(file, func(t *testing.T) {
			vs := backendtest.LoadRSAOAEPVectors(t, wycheproof+file)
			st := backendtest.RunRSAOAEPVectors(t, vs, func(pkcs8 []byte) (crypto.Decrypter, error) {
				m, err := newPrivateMaterial(kms.SpecRSA2048, pkcs8)
				if err != nil {
					return nil, err
				}
				t.Cleanup(m.Destroy)
				return m.(crypto.Decrypter), nil
			})
			t.Logf("%s: %d vectors, %d passed, %d skipped", file, len(vs), st.Passed, st.Skipped)
			if st.Passed != len(vs) && !t.Failed() {
				t.Errorf("passed %d vectors, loaded %d", st.Passed, len(vs))
			}
		})
	}
}
