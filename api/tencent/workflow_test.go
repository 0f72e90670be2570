package tencent_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tkms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms/v20190118"

	"github.com/keyhaven/keyhaven/kms"
)

func createKey(t testing.TB, c *tkms.Client, alias string) string {
	t.Helper()
	req := tkms.NewCreateKeyRequest()
	req.Alias = common.StringPtr(alias)
	resp, err := c.CreateKey(req)
	if err != nil {
		t.Fatalf("CreateKey(%s): %v", alias, err)
	}
	return *resp.Response.KeyId
}

func encrypt(t *testing.T, c *tkms.Client, keyID string, plaintext []byte, encCtx string) (string, error) {
	t.Helper()
	req := tkms.NewEncryptRequest()
	req.KeyId = common.StringPtr(keyID)
	req.Plaintext = common.StringPtr(base64.StdEncoding.EncodeToString(plaintext))
	if encCtx != "" {
		req.EncryptionContext = common.StringPtr(encCtx)
	}
	resp, err := c.Encrypt(req)
	if err != nil {
		return "", err
	}
	if *resp.Response.KeyId != keyID {
		t.Errorf("Encrypt KeyId = %s, want %s", *resp.Response.KeyId, keyID)
	}
	return *resp.Response.CiphertextBlob, nil
}

func decrypt(c *tkms.Client, blob, encCtx string) ([]byte, string, error) {
	req := tkms.NewDecryptRequest()
	req.CiphertextBlob = common.StringPtr(blob)
	if encCtx != "" {
		req.EncryptionContext = common.StringPtr(encCtx)
	}
	resp, err := c.Decrypt(req)
	if err != nil {
		return nil, "", err
	}
	pt, err := base64.StdEncoding.DecodeString(*resp.Response.Plaintext)
	return pt, *resp.Response.KeyId, err
}

func describe(t *testing.T, c *tkms.Client, keyID string) *tkms.KeyMetadata {
	t.Helper()
	req := tkms.NewDescribeKeyRequest()
	req.KeyId = common.StringPtr(keyID)
	resp, err := c.DescribeKey(req)
	if err != nil {
		t.Fatalf("DescribeKey(%s): %v", keyID, err)
	}
	return resp.Response.KeyMetadata
}

// TestWorkflow drives the whole symmetric CMK workflow with the official SDK.
func TestWorkflow(t *testing.T) {
	e := start(t, "")
	c := e.client
	before := time.Now().Unix()

	// Create.
	creq := tkms.NewCreateKeyRequest()
	creq.Alias = common.StringPtr("orders-db")
	creq.Description = common.StringPtr("orders database column key")
	creq.KeyUsage = common.StringPtr("ENCRYPT_DECRYPT")
	creq.Type = common.Uint64Ptr(1)
	creq.Tags = []*tkms.Tag{{TagKey: common.StringPtr("team"), TagValue: common.StringPtr("payments")}}
	cresp, err := c.CreateKey(creq)
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	cr := cresp.Response
	keyID := *cr.KeyId
	if !kmsKeyID(keyID) {
		t.Errorf("CreateKey KeyId = %q, want a UUID", keyID)
	}
	if *cr.Alias != "orders-db" || *cr.Description != "orders database column key" || *cr.KeyState != "Enabled" ||
		*cr.KeyUsage != "ENCRYPT_DECRYPT" || *cr.CreateTime < uint64(before) || *cr.CreateTime > uint64(time.Now().Unix()) {
		t.Errorf("CreateKey response = %s", cresp.ToJsonString())
	}

	// Describe.
	md := describe(t, c, keyID)
	want := tkms.KeyMetadata{
		KeyId: &keyID, Alias: common.StringPtr("orders-db"), CreateTime: cr.CreateTime,
		Description: common.StringPtr("orders database column key"), KeyState: common.StringPtr("Enabled"),
		KeyUsage: common.StringPtr("ENCRYPT_DECRYPT"), Type: common.Int64Ptr(1), CreatorUin: md.CreatorUin,
		KeyRotationEnabled: common.BoolPtr(false), Owner: common.StringPtr("user"), NextRotateTime: common.Uint64Ptr(0),
		DeletionDate: common.Uint64Ptr(0), Origin: common.StringPtr("TENCENT_KMS"), ValidTo: common.Uint64Ptr(0),
		ResourceId: common.StringPtr("creatorUin/" + e.srv.Root.AccountID + "/" + keyID), HsmClusterId: common.StringPtr(""),
	}
	if got, want := toJSON(md), toJSON(&want); got != want {
		t.Errorf("DescribeKey metadata =\n%s\nwant\n%s", got, want)
	}
	if *md.CreatorUin == 0 {
		t.Errorf("DescribeKey CreatorUin = 0, want the root account %s", e.srv.Root.AccountID)
	}

	// List.
	second := createKey(t, c, "second")
	lresp, err := c.ListKeys(tkms.NewListKeysRequest())
	if err != nil {
		t.Fatalf("ListKeys: %v", err)
	}
	if *lresp.Response.TotalCount != 2 || len(lresp.Response.Keys) != 2 ||
		*lresp.Response.Keys[0].KeyId != second || *lresp.Response.Keys[1].KeyId != keyID {
		t.Errorf("ListKeys = %s, want [%s %s] newest first", lresp.ToJsonString(), second, keyID)
	}
	dreq := tkms.NewListKeyDetailRequest()
	dreq.SearchKeyAlias = common.StringPtr("orders")
	dreq.TagFilters = []*tkms.TagFilter{{TagKey: common.StringPtr("team"), TagValue: []*string{common.StringPtr("payments")}}}
	dresp, err := c.ListKeyDetail(dreq)
	if err != nil {
		t.Fatalf("ListKeyDetail: %v", err)
	}
	if *dresp.Response.TotalCount != 1 || *dresp.Response.KeyMetadatas[0].KeyId != keyID {
		t.Errorf("ListKeyDetail(search orders, tag team=payments) = %s, want only %s", dresp.ToJsonString(), keyID)
	}

	// Alias and description.
	areq := tkms.NewUpdateAliasRequest()
	areq.KeyId, areq.Alias = common.StringPtr(keyID), common.StringPtr("orders-db-v2")
	if _, err := c.UpdateAlias(areq); err != nil {
		t.Fatalf("UpdateAlias: %v", err)
	}
	ureq := tkms.NewUpdateKeyDescriptionRequest()
	ureq.KeyId, ureq.Description = common.StringPtr(keyID), common.StringPtr("new words")
	if _, err := c.UpdateKeyDescription(ureq); err != nil {
		t.Fatalf("UpdateKeyDescription: %v", err)
	}
	if md := describe(t, c, keyID); *md.Alias != "orders-db-v2" || *md.Description != "new words" {
		t.Errorf("after updates alias, description = %q, %q", *md.Alias, *md.Description)
	}
	areq.KeyId = common.StringPtr(second) // the alias is taken now
	if _, err := c.UpdateAlias(areq); code(t, err) != "InvalidParameterValue.AliasAlreadyExists" {
		t.Errorf("UpdateAlias to a taken alias: %v, want AliasAlreadyExists", err)
	}

	// Encrypt, decrypt without KeyId.
	secret := []byte("card 4111 1111 1111 1111")
	encCtx := `{"table":"orders","column":"card"}`
	blob, err := encrypt(t, c, keyID, secret, encCtx)
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	pt, gotKey, err := decrypt(c, blob, `{"column":"card", "table":"orders"}`) // same pairs, other order
	if err != nil || !bytes.Equal(pt, secret) || gotKey != keyID {
		t.Fatalf("Decrypt = %q, %s, %v; want %q, %s", pt, gotKey, err, secret, keyID)
	}
	if _, _, err := decrypt(c, blob, `{"table":"orders"}`); code(t, err) != "InvalidParameterValue.InvalidCiphertext" {
		t.Errorf("Decrypt with another context: %v, want InvalidCiphertext", err)
	}

	// Re-encrypt to the second key.
	rreq := tkms.NewReEncryptRequest()
	rreq.CiphertextBlob = common.StringPtr(blob)
	rreq.SourceEncryptionContext = common.StringPtr(encCtx)
	rreq.DestinationKeyId = common.StringPtr(second)
	rresp, err := c.ReEncrypt(rreq)
	if err != nil {
		t.Fatalf("ReEncrypt: %v", err)
	}
	rr := rresp.Response
	if *rr.KeyId != second || *rr.SourceKeyId != keyID || !*rr.ReEncrypted || *rr.CiphertextBlob == blob {
		t.Errorf("ReEncrypt = %s", rresp.ToJsonString())
	}
	if pt, gotKey, err := decrypt(c, *rr.CiphertextBlob, ""); err != nil || !bytes.Equal(pt, secret) || gotKey != second {
		t.Errorf("Decrypt(re-encrypted) = %q, %s, %v", pt, gotKey, err)
	}

	// Data keys.
	for _, tc := range []struct {
		name    string
		spec    string
		n       uint64
		wantLen int
	}{{"AES_256", "AES_256", 0, 32}, {"AES_128", "AES_128", 0, 16}, {"7 bytes", "", 7, 7}, {"1024 bytes", "", 1024, 1024}} {
		greq := tkms.NewGenerateDataKeyRequest()
		greq.KeyId = common.StringPtr(keyID)
		if tc.spec != "" {
			greq.KeySpec = common.StringPtr(tc.spec)
		} else {
			greq.NumberOfBytes = common.Uint64Ptr(tc.n)
		}
		greq.EncryptionContext = common.StringPtr(`{"file":"x"}`)
		gresp, err := c.GenerateDataKey(greq)
		if err != nil {
			t.Fatalf("GenerateDataKey(%s): %v", tc.name, err)
		}
		dk, _ := base64.StdEncoding.DecodeString(*gresp.Response.Plaintext)
		if len(dk) != tc.wantLen || *gresp.Response.KeyId != keyID {
			t.Errorf("GenerateDataKey(%s) = %d bytes under %s, want %d under %s", tc.name, len(dk), *gresp.Response.KeyId, tc.wantLen, keyID)
		}
		if pt, _, err := decrypt(c, *gresp.Response.CiphertextBlob, `{"file":"x"}`); err != nil || !bytes.Equal(pt, dk) {
			t.Errorf("Decrypt(data key %s) = %x, %v; want the data key", tc.name, pt, err)
		}
	}

	// Disable: every use refused; enable again.
	disable := tkms.NewDisableKeyRequest()
	disable.KeyId = common.StringPtr(keyID)
	if _, err := c.DisableKey(disable); err != nil {
		t.Fatalf("DisableKey: %v", err)
	}
	if md := describe(t, c, keyID); *md.KeyState != "Disabled" {
		t.Errorf("KeyState after DisableKey = %s", *md.KeyState)
	}
	if _, err := encrypt(t, c, keyID, secret, ""); code(t, err) != "ResourceUnavailable.CmkDisabled" {
		t.Errorf("Encrypt with a disabled key: %v, want ResourceUnavailable.CmkDisabled", err)
	}
	if _, _, err := decrypt(c, blob, encCtx); code(t, err) != "ResourceUnavailable.CmkDisabled" {
		t.Errorf("Decrypt with a disabled key: %v, want ResourceUnavailable.CmkDisabled", err)
	}
	greq := tkms.NewGenerateDataKeyRequest()
	greq.KeyId, greq.KeySpec = common.StringPtr(keyID), common.StringPtr("AES_256")
	if _, err := c.GenerateDataKey(greq); code(t, err) != "ResourceUnavailable.CmkDisabled" {
		t.Errorf("GenerateDataKey with a disabled key: %v, want ResourceUnavailable.CmkDisabled", err)
	}
	enable := tkms.NewEnableKeyRequest()
	enable.KeyId = common.StringPtr(keyID)
	if _, err := c.EnableKey(enable); err != nil {
		t.Fatalf("EnableKey: %v", err)
	}
	if pt, _, err := decrypt(c, blob, encCtx); err != nil || !bytes.Equal(pt, secret) {
		t.Errorf("Decrypt after EnableKey = %q, %v", pt, err)
	}

	// Batch disable and enable: all or nothing.
	batch := tkms.NewDisableKeysRequest()
	batch.KeyIds = common.StringPtrs([]string{keyID, second})
	if _, err := c.DisableKeys(batch); err != nil {
		t.Fatalf("DisableKeys: %v", err)
	}
	for _, id := range []string{keyID, second} {
		if s := *describe(t, c, id).KeyState; s != "Disabled" {
			t.Errorf("KeyState(%s) after DisableKeys = %s", id, s)
		}
	}
	ebatch := tkms.NewEnableKeysRequest()
	ebatch.KeyIds = common.StringPtrs([]string{keyID, second})
	if _, err := c.EnableKeys(ebatch); err != nil {
		t.Fatalf("EnableKeys: %v", err)
	}
	desc := tkms.NewDescribeKeysRequest()
	desc.KeyIds = common.StringPtrs([]string{second, keyID})
	dk, err := c.DescribeKeys(desc)
	if err != nil {
		t.Fatalf("DescribeKeys: %v", err)
	}
	if len(dk.Response.KeyMetadatas) != 2 || *dk.Response.KeyMetadatas[0].KeyId != second || *dk.Response.KeyMetadatas[1].KeyState != "Enabled" {
		t.Errorf("DescribeKeys = %s", dk.ToJsonString())
	}
}

func kmsKeyID(s string) bool {
	return len(s) == 36 && strings.Count(s, "-") == 4
}

func toJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestServiceKey checks that a key made for an integrated service can be
// used but not disabled.
func TestServiceKey(t *testing.T) {
	e := start(t, "")
	k, err := e.srv.Service.CreateKey(context.Background(), kms.CreateKeyInput{Account: e.srv.Root.AccountID, Service: "cos"})
	if err != nil {
		t.Fatalf("CreateKey(service cos): %v", err)
	}
	md := describe(t, e.client, k.ID)
	if *md.Alias != "kms-cos" || *md.Owner != "cos" {
		t.Errorf("service key alias, owner = %q, %q; want kms-cos, cos", *md.Alias, *md.Owner)
	}
	if _, err := encrypt(t, e.client, k.ID, []byte("x"), ""); err != nil {
		t.Errorf("Encrypt with a service key: %v", err)
	}
	req := tkms.NewDisableKeyRequest()
	req.KeyId = common.StringPtr(k.ID)
	if _, err := e.client.DisableKey(req); code(t, err) != "UnsupportedOperation.NotUserCreatedCmk" {
		t.Errorf("DisableKey(service key): %v, want UnsupportedOperation.NotUserCreatedCmk", err)
	}
	if s := *describe(t, e.client, k.ID).KeyState; s != "Enabled" {
		t.Errorf("service key state = %s after refused DisableKey", s)
	}
	lreq := tkms.NewListKeysRequest()
	lreq.Role = common.Uint64Ptr(1)
	lresp, err := e.client.ListKeys(lreq)
	if err != nil || *lresp.Response.TotalCount != 1 || *lresp.Response.Keys[0].KeyId != k.ID {
		t.Errorf("ListKeys(Role 1) = %v, %v; want the service key", lresp, err)
	}
	if _, err := e.client.ListKeys(tkms.NewListKeysRequest()); err != nil {
		t.Errorf("ListKeys: %v", err)
	}
	if _, err := e.client.DescribeKey(tkms.NewDescribeKeyRequest()); code(t, err) != "MissingParameter" {
		t.Errorf("DescribeKey without KeyId: %v, want MissingParameter", err)
	}
}
