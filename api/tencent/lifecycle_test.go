package tencent_test

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tkms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms/v20190118"
)

// common sends a kms action the SDK's typed client lacks (RotateKey), or
// reads fields it does not model, through the SDK's common client.
func (e *env) common(action string, params map[string]any) (map[string]any, error) {
	e.t.Helper()
	return e.callAPI(testSecretID, testSecretKey, "kms", "2019-01-18", action, params)
}

// blobVersion reads the key version from a ciphertext blob (format v1).
func blobVersion(t *testing.T, blob string) uint32 {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(blob)
	if err != nil || len(b) < 21 {
		t.Fatalf("blob %q: %v", blob, err)
	}
	return uint32(b[17])<<24 | uint32(b[18])<<16 | uint32(b[19])<<8 | uint32(b[20])
}

// TestRotation encrypts, rotates three times, and checks that every
// ciphertext of every version decrypts and ReEncrypt moves old ones to the
// newest version.
func TestRotation(t *testing.T) {
	e := start(t, "")
	keyID := createKey(t, e.client, "rotating")
	var blobs []string
	for v := 1; v <= 4; v++ {
		blob, err := encrypt(t, e.client, keyID, []byte{byte(v)}, `{"v":"x"}`)
		if err != nil {
			t.Fatal(err)
		}
		if got := blobVersion(t, blob); got != uint32(v) {
			t.Errorf("ciphertext after %d rotations is of version %d", v-1, got)
		}
		blobs = append(blobs, blob)
		if v < 4 {
			r, err := e.common("RotateKey", map[string]any{"KeyId": keyID})
			if err != nil || r["KeyVersion"] != float64(v+1) {
				t.Fatalf("RotateKey = %v, %v; want KeyVersion %d", r, err, v+1)
			}
		}
	}
	for i, blob := range blobs {
		pt, _, err := decrypt(e.client, blob, `{"v":"x"}`)
		if err != nil || len(pt) != 1 || pt[0] != byte(i+1) {
			t.Errorf("Decrypt(version %d) = %v, %v", i+1, pt, err)
		}
		req := tkms.NewReEncryptRequest()
		req.CiphertextBlob = common.StringPtr(blob)
		req.SourceEncryptionContext = common.StringPtr(`{"v":"x"}`)
		resp, err := e.client.ReEncrypt(req)
		if err != nil {
			t.Fatalf("ReEncrypt(version %d): %v", i+1, err)
		}
		if v := blobVersion(t, *resp.Response.CiphertextBlob); v != 4 || *resp.Response.KeyId != keyID {
			t.Errorf("ReEncrypt(version %d) gave version %d of %s, want 4 of %s", i+1, v, *resp.Response.KeyId, keyID)
		}
		if pt, _, err := decrypt(e.client, *resp.Response.CiphertextBlob, ""); err != nil || pt[0] != byte(i+1) {
			t.Errorf("Decrypt(re-encrypted %d) = %v, %v", i+1, pt, err)
		}
	}

	// Automatic rotation settings.
	en := tkms.NewEnableKeyRotationRequest()
	en.KeyId, en.RotateDays = common.StringPtr(keyID), common.Uint64Ptr(30)
	if _, err := e.client.EnableKeyRotation(en); err != nil {
		t.Fatalf("EnableKeyRotation: %v", err)
	}
	st := tkms.NewGetKeyRotationStatusRequest()
	st.KeyId = common.StringPtr(keyID)
	if r, err := e.client.GetKeyRotationStatus(st); err != nil || !*r.Response.KeyRotationEnabled {
		t.Errorf("GetKeyRotationStatus = %v, %v; want enabled", r, err)
	}
	r, err := e.common("GetKeyRotationStatus", map[string]any{"KeyId": keyID})
	next := time.Unix(int64(r["NextRotateTime"].(float64)), 0)
	if err != nil || r["RotateDays"] != float64(30) || r["KeyVersion"] != float64(4) || r["LastRotateTime"].(float64) == 0 ||
		next.Sub(time.Now()) < 29*24*time.Hour || next.Sub(time.Now()) > 30*24*time.Hour+time.Minute {
		t.Errorf("GetKeyRotationStatus extensions = %v, %v", r, err)
	}
	md := describe(t, e.client, keyID)
	if !*md.KeyRotationEnabled || *md.NextRotateTime != uint64(next.Unix()) {
		t.Errorf("DescribeKey rotation fields = %v, %v; want true, %d", *md.KeyRotationEnabled, *md.NextRotateTime, next.Unix())
	}
	en.RotateDays = common.Uint64Ptr(400)
	if _, err := e.client.EnableKeyRotation(en); code(t, err) != "InvalidParameterValue" {
		t.Errorf("EnableKeyRotation(400 days): %v, want InvalidParameterValue", err)
	}
	dis := tkms.NewDisableKeyRotationRequest()
	dis.KeyId = common.StringPtr(keyID)
	if _, err := e.client.DisableKeyRotation(dis); err != nil {
		t.Fatalf("DisableKeyRotation: %v", err)
	}
	if md := describe(t, e.client, keyID); *md.KeyRotationEnabled || *md.NextRotateTime != 0 {
		t.Errorf("after DisableKeyRotation: %v, %v", *md.KeyRotationEnabled, *md.NextRotateTime)
	}

	// The scheduler rotates when the period has passed.
	en.RotateDays = common.Uint64Ptr(7)
	if _, err := e.client.EnableKeyRotation(en); err != nil {
		t.Fatal(err)
	}
	e.clock.move(7*24*time.Hour + time.Minute)
	rep, err := e.srv.Service.RunScheduledJobs(context.Background(), e.srv.Node, time.Minute)
	if err != nil || len(rep.Rotated) != 1 {
		t.Fatalf("RunScheduledJobs = %+v, %v; want one rotation", rep, err)
	}
	blob, _ := encrypt(t, e.client, keyID, []byte("x"), "")
	if v := blobVersion(t, blob); v != 5 {
		t.Errorf("after automatic rotation new ciphertexts use version %d, want 5", v)
	}
}

// TestArchiveAndDeletion walks a key through archiving and scheduled
// deletion with the SDK, checking each refusal's code.
func TestArchiveAndDeletion(t *testing.T) {
	e := start(t, "")
	c := e.client
	keyID := createKey(t, c, "lifecycle")
	blob, err := encrypt(t, c, keyID, []byte("kept"), "")
	if err != nil {
		t.Fatal(err)
	}
	id := func() *string { return common.StringPtr(keyID) }

	arch := tkms.NewArchiveKeyRequest()
	arch.KeyId = id()
	if _, err := c.ArchiveKey(arch); err != nil {
		t.Fatalf("ArchiveKey: %v", err)
	}
	if s := *describe(t, c, keyID).KeyState; s != "Archived" {
		t.Errorf("state after ArchiveKey = %s", s)
	}
	if _, err := encrypt(t, c, keyID, []byte("x"), ""); code(t, err) != "ResourceUnavailable.CmkArchived" {
		t.Errorf("Encrypt with an archived key: %v, want ResourceUnavailable.CmkArchived", err)
	}
	gdk := tkms.NewGenerateDataKeyRequest()
	gdk.KeyId, gdk.KeySpec = id(), common.StringPtr("AES_256")
	if _, err := c.GenerateDataKey(gdk); code(t, err) != "ResourceUnavailable.CmkArchived" {
		t.Errorf("GenerateDataKey with an archived key: %v, want ResourceUnavailable.CmkArchived", err)
	}
	if pt, _, err := decrypt(c, blob, ""); err != nil || string(pt) != "kept" {
		t.Errorf("Decrypt with an archived key = %q, %v; archived keys decrypt", pt, err)
	}
	sched := tkms.NewScheduleKeyDeletionRequest()
	sched.KeyId, sched.PendingWindowInDays = id(), common.Uint64Ptr(7)
	if _, err := c.ScheduleKeyDeletion(sched); code(t, err) != "ResourceUnavailable.CmkShouldBeDisabled" {
		t.Errorf("ScheduleKeyDeletion of an archived key: %v, want ResourceUnavailable.CmkShouldBeDisabled", err)
	}
	unarch := tkms.NewCancelKeyArchiveRequest()
	unarch.KeyId = id()
	if _, err := c.CancelKeyArchive(unarch); err != nil {
		t.Fatalf("CancelKeyArchive: %v", err)
	}
	if _, err := c.CancelKeyArchive(unarch); code(t, err) != "ResourceUnavailable.CmkStateNotSupport" {
		t.Errorf("CancelKeyArchive of an enabled key: %v, want ResourceUnavailable.CmkStateNotSupport", err)
	}

	if _, err := c.ScheduleKeyDeletion(sched); code(t, err) != "ResourceUnavailable.CmkShouldBeDisabled" {
		t.Errorf("ScheduleKeyDeletion of an enabled key: %v, want ResourceUnavailable.CmkShouldBeDisabled", err)
	}
	dis := tkms.NewDisableKeyRequest()
	dis.KeyId = id()
	if _, err := c.DisableKey(dis); err != nil {
		t.Fatal(err)
	}
	for _, days := range []uint64{6, 31, 1 << 40} {
		sched.PendingWindowInDays = common.Uint64Ptr(days)
		if _, err := c.ScheduleKeyDeletion(sched); code(t, err) != "InvalidParameter.InvalidPendingWindowInDays" {
			t.Errorf("ScheduleKeyDeletion(%d days): %v, want InvalidParameter.InvalidPendingWindowInDays", days, err)
		}
	}
	sched.PendingWindowInDays = common.Uint64Ptr(7)
	resp, err := c.ScheduleKeyDeletion(sched)
	if err != nil {
		t.Fatalf("ScheduleKeyDeletion: %v", err)
	}
	date := time.Unix(int64(*resp.Response.DeletionDate), 0)
	if d := time.Until(date); d < 7*24*time.Hour-time.Minute || d > 7*24*time.Hour+time.Minute || *resp.Response.KeyId != keyID {
		t.Errorf("ScheduleKeyDeletion = %s, want DeletionDate 7 days from now", resp.ToJsonString())
	}
	if md := describe(t, c, keyID); *md.KeyState != "PendingDelete" || *md.DeletionDate != *resp.Response.DeletionDate {
		t.Errorf("DescribeKey = %s, %d; want PendingDelete, %d", *md.KeyState, *md.DeletionDate, *resp.Response.DeletionDate)
	}
	if _, _, err := decrypt(c, blob, ""); code(t, err) != "ResourceUnavailable.KeyPendingDelete" {
		t.Errorf("Decrypt with a key pending deletion: %v, want ResourceUnavailable.KeyPendingDelete", err)
	}
	en := tkms.NewEnableKeyRequest()
	en.KeyId = id()
	if _, err := c.EnableKey(en); code(t, err) != "ResourceUnavailable.KeyPendingDelete" {
		t.Errorf("EnableKey of a key pending deletion: %v, want ResourceUnavailable.KeyPendingDelete", err)
	}
	cancel := tkms.NewCancelKeyDeletionRequest()
	cancel.KeyId = id()
	if _, err := c.CancelKeyDeletion(cancel); err != nil {
		t.Fatalf("CancelKeyDeletion: %v", err)
	}
	if _, err := c.CancelKeyDeletion(cancel); code(t, err) != "ResourceUnavailable.CmkNotPendingDelete" {
		t.Errorf("CancelKeyDeletion again: %v, want ResourceUnavailable.CmkNotPendingDelete", err)
	}
	if md := describe(t, c, keyID); *md.KeyState != "Disabled" || *md.DeletionDate != 0 {
		t.Errorf("after CancelKeyDeletion: %s, %d; want Disabled, 0", *md.KeyState, *md.DeletionDate)
	}

	// Schedule again and let the date pass: the key is gone.
	if _, err := c.ScheduleKeyDeletion(sched); err != nil {
		t.Fatal(err)
	}
	e.clock.move(7*24*time.Hour + time.Minute)
	rep, err := e.srv.Service.RunScheduledJobs(context.Background(), e.srv.Node, time.Minute)
	if err != nil || len(rep.Deleted) != 1 {
		t.Fatalf("RunScheduledJobs = %+v, %v; want one deletion", rep, err)
	}
	req := tkms.NewDescribeKeyRequest()
	req.KeyId = id()
	if _, err := c.DescribeKey(req); code(t, err) != "ResourceUnavailable.CmkNotFound" {
		t.Errorf("DescribeKey of a deleted key: %v, want ResourceUnavailable.CmkNotFound", err)
	}
	if _, _, err := decrypt(c, blob, ""); code(t, err) != "ResourceUnavailable.CmkNotFound" {
		t.Errorf("Decrypt under a deleted key: %v, want ResourceUnavailable.CmkNotFound", err)
	}
	if n := keyCount(t, e); n != 0 {
		t.Errorf("ListKeys counts %d keys after deletion, want 0", n)
	}
}
