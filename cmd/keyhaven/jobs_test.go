package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	sdkerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	tkms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms/v20190118"

	"github.com/keyhaven/keyhaven/kms"
	"github.com/keyhaven/keyhaven/store/bolt"
)

// call sends action through the SDK's common client and returns Response.
func call(addr, action string, params map[string]any) (map[string]any, error) {
	p := profile.NewClientProfile()
	p.HttpProfile.Endpoint, p.HttpProfile.Scheme = addr, "http"
	c := common.NewCommonClient(common.NewCredential(crashSecretID, crashSecretKey), "local", p)
	req := tchttp.NewCommonRequest("kms", "2019-01-18", action)
	if err := req.SetActionParameters(params); err != nil {
		return nil, err
	}
	resp := tchttp.NewCommonResponse()
	if err := c.Send(req, resp); err != nil {
		return nil, err
	}
	var out struct{ Response map[string]any }
	err := json.Unmarshal(resp.GetBody(), &out)
	return out.Response, err
}

// TestKillDuringScheduledJobs restarts a dev server eight days later
// (KEYHAVEN_DEV_CLOCK_OFFSET), kills it with SIGKILL while its scheduler
// rotates and deletes keys, and restarts it: every rotation happened exactly
// once, every due deletion happened, and nothing acknowledged was lost.
func TestKillDuringScheduledJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three server processes")
	}
	dir := filepath.Join(t.TempDir(), "data")
	addr := freeAddr(t)
	proc := startProcess(t, dir, addr, nil, "--dev")
	const rotating, deleting = 60, 30
	type key struct{ id, blob string }
	var keys []key
	for i := range rotating + deleting {
		r, err := call(addr, "CreateKey", map[string]any{"Alias": fmt.Sprintf("k%d", i)})
		if err != nil {
			t.Fatalf("CreateKey: %v", err)
		}
		id := r["KeyId"].(string)
		r, err = call(addr, "Encrypt", map[string]any{"KeyId": id, "Plaintext": base64.StdEncoding.EncodeToString([]byte(id))})
		if err != nil {
			t.Fatalf("Encrypt: %v", err)
		}
		keys = append(keys, key{id, r["CiphertextBlob"].(string)})
		if i < rotating {
			_, err = call(addr, "EnableKeyRotation", map[string]any{"KeyId": id, "RotateDays": 7})
		} else {
			if _, err = call(addr, "DisableKey", map[string]any{"KeyId": id}); err == nil {
				_, err = call(addr, "ScheduleKeyDeletion", map[string]any{"KeyId": id, "PendingWindowInDays": 7})
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	proc.Process.Signal(syscall.SIGTERM)
	proc.Wait()

	later := []string{"KEYHAVEN_DEV_CLOCK_OFFSET=192h"}
	proc = startProcess(t, dir, addr, later, "--dev", "--scheduler-interval", "1ms")
	time.Sleep(20 * time.Millisecond) // let the first run get going
	proc.Process.Signal(syscall.SIGKILL)
	proc.Wait()
	t.Logf("killed with %s of the %d jobs done", jobsDone(t, dir), rotating+deleting)

	startProcess(t, dir, addr, later, "--dev", "--scheduler-interval", "50ms")
	deadline := time.Now().Add(30 * time.Second)
	for i, k := range keys {
		for {
			r, err := call(addr, "GetKeyRotationStatus", map[string]any{"KeyId": k.id})
			var done bool
			if i < rotating {
				if err != nil {
					t.Fatalf("GetKeyRotationStatus(%s): %v", k.id, err)
				}
				done = r["KeyVersion"].(float64) >= 2
			} else {
				var sdkErr *sdkerrors.TencentCloudSDKError
				done = err != nil && errors.As(err, &sdkErr) && sdkErr.Code == "ResourceUnavailable.CmkNotFound"
			}
			if done {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("key %d (%s) still not processed: %v, %v", i, k.id, r, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	time.Sleep(200 * time.Millisecond) // a few more scheduler runs must change nothing
	p := profile.NewClientProfile()
	p.HttpProfile.Endpoint, p.HttpProfile.Scheme = addr, "http"
	client, _ := tkms.NewClient(common.NewCredential(crashSecretID, crashSecretKey), "local", p)
	for i, k := range keys[:rotating] {
		r, err := call(addr, "GetKeyRotationStatus", map[string]any{"KeyId": k.id})
		if err != nil || r["KeyVersion"] != float64(2) {
			t.Errorf("key %d: %v, %v; want exactly one rotation (KeyVersion 2)", i, r, err)
		}
		d := tkms.NewDecryptRequest()
		d.CiphertextBlob = common.StringPtr(k.blob)
		out, err := client.Decrypt(d)
		if err != nil || *out.Response.Plaintext != base64.StdEncoding.EncodeToString([]byte(k.id)) {
			t.Errorf("key %d: Decrypt(version 1 ciphertext) = %v, %v", i, out, err)
		}
	}
	list, err := client.ListKeys(tkms.NewListKeysRequest())
	if err != nil || *list.Response.TotalCount != rotating {
		t.Errorf("ListKeys = %v, %v; want %d keys", list, err, rotating)
	}
}

// jobsDone counts, in the store file, the keys rotated and deleted so far.
func jobsDone(t *testing.T, dir string) string {
	st, err := bolt.Open(filepath.Join(dir, "keyhaven.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rotated, deleted := 0, 0
	err = st.View(context.Background(), func(tx kms.Tx) error {
		return tx.EachKey(func(k *kms.Key) error {
			if k.CurrentVersion > 1 {
				rotated++
			}
			if k.State == kms.StateDeleted {
				deleted++
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d rotations and %d deletions", rotated, deleted)
}
