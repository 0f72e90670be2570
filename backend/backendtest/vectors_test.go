package backendtest_test

import (
	"testing"

	"github.com/keyhaven/keyhaven/backend/backendtest"
)

const wycheproof = "../../../shared/testdata/wycheproof/"

// TestSignatureVectorsStdlib runs the verify-only Wycheproof files through
// the verification the domain uses (standard library, public key only).
func TestSignatureVectorsStdlib(t *testing.T) {
	tests := []struct {
		file    string
		tests   int // numberOfTests the file declares
		skipped int // vectors VerifyStdlib cannot express
	}{
		{"rsa_pss_2048_sha256_mgf1_32_test.json", 108, 0},
		{"rsa_signature_2048_sha256_test.json", 259, 0},
		{"ecdsa_secp256r1_sha256_test.json", 484, 0},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			vs := backendtest.LoadSignatureVectors(t, wycheproof+tt.file)
			st := backendtest.RunSignatureVectors(t, vs, backendtest.VerifyStdlib)
			t.Logf("%s: %d vectors, %d passed, %d skipped", tt.file, len(vs), st.Passed, st.Skipped)
			if len(vs) != tt.tests || st.Skipped != tt.skipped {
				t.Errorf("%s: loaded %d, skipped %d; want %d, %d", tt.file, len(vs), st.Skipped, tt.tests, tt.skipped)
			}
			if got := st.Passed + st.Skipped; got != len(vs) && !t.Failed() {
				t.Errorf("accounted for %d vectors, loaded %d", got, len(vs))
			}
		})
	}
	t.Run("ecdsa_secp256k1_sha256_test.json", func(t *testing.T) {
		t.Skip("secp256k1: Go's standard library has no such curve and DESIGN.md lists no library for it, so EC_P256K is not supported")
	})
}
