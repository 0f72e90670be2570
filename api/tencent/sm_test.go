package tencent_test

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tkms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms/v20190118"

	"github.com/keyhaven/keyhaven/kms"
	"github.com/keyhaven/keyhaven/server"
)

// TestSMSuite runs a server with --crypto-suite sm: symmetric keys are SM4,
// data keys default to 128 bits, and ListAlgorithms says so.
func TestSMSuite(t *testing.T) {
	e := start(t, "", func(c *server.Config) { c.Suite = kms.SuiteSM })
	keyID := createKey(t, e.client, "sm4")
	blob, err := encrypt(t, e.client, keyID, []byte("国密"), `{"a":"b"}`)
	if err != nil {
		t.Fatal(err)
	}
	if pt, _, err := decrypt(e.client, blob, `{"a":"b"}`); err != nil || string(pt) != "国密" {
		t.Errorf("Decrypt = %q, %v", pt, err)
	}
	raw, _ := base64.StdEncoding.DecodeString(blob)
	raw[len(raw)-1] ^= 1
	if _, _, err := decrypt(e.client, base64.StdEncoding.EncodeToString(raw), `{"a":"b"}`); code(t, err) != "InvalidParameterValue.InvalidCiphertext" {
		t.Errorf("Decrypt(altered SM4 blob): %v, want InvalidCiphertext", err)
	}
	for _, tc := range []struct {
		spec string
		want int
	}{{"", 16}, {"SM4", 16}, {"AES_256", 32}} {
		req := tkms.NewGenerateDataKeyRequest()
		req.KeyId = common.StringPtr(keyID)
		if tc.spec != "" {
			req.KeySpec = common.StringPtr(tc.spec)
		}
		resp, err := e.client.GenerateDataKey(req)
		if err != nil {
			t.Fatalf("GenerateDataKey(%q): %v", tc.spec, err)
		}
		dk, _ := base64.StdEncoding.DecodeString(*resp.Response.Plaintext)
		if len(dk) != tc.want {
			t.Errorf("GenerateDataKey(%q) = %d bytes, want %d", tc.spec, len(dk), tc.want)
		}
		if pt, _, err := decrypt(e.client, *resp.Response.CiphertextBlob, ""); err != nil || !bytes.Equal(pt, dk) {
			t.Errorf("Decrypt(data key) = %x, %v", pt, err)
		}
	}
	alg, err := e.client.ListAlgorithms(tkms.NewListAlgorithmsRequest())
	if err != nil || *alg.Response.SymmetricAlgorithms[0].Algorithm != "SM4" || len(alg.Response.AsymmetricSignVerifyAlgorithms) != 4 {
		t.Errorf("ListAlgorithms in the SM suite = %v, %v", alg.ToJsonString(), err)
	}
	// Both suites' asymmetric usages are there.
	createAsymmetric(t, e.client, "rsa", "ASYMMETRIC_SIGN_VERIFY_RSA_2048")
	createAsymmetric(t, e.client, "sm2", "ASYMMETRIC_SIGN_VERIFY_SM2")
}
