package main

import (
	"encoding/base64"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	tkms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms/v20190118"
)

// TestMain lets the test binary act as the keyhaven binary, so a test can run
// the server as a real process and kill it.
func TestMain(m *testing.M) {
	if os.Getenv("KEYHAVEN_TEST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const (
	crashSecretID  = "AKIDcrash000000000000000000000000000"
	crashSecretKey = "crash-secret-key-000000000000000"
)

// startProcess runs `keyhaven server` in a child process and waits until it
// answers. env adds variables; args add flags.
func startProcess(t *testing.T, dir, addr string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"server", "--data-dir", dir, "--listen", addr}, args...)...)
	cmd.Env = append(os.Environ(), "KEYHAVEN_TEST_RUN_MAIN=1",
		"KEYHAVEN_ROOT_SECRET_ID="+crashSecretID, "KEYHAVEN_ROOT_SECRET_KEY="+crashSecretKey)
	cmd.Env = append(cmd.Env, env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if res, err := http.Get("http://" + addr + "/healthz"); err == nil {
			res.Body.Close()
			return cmd
		}
		if time.Now().After(deadline) {
			t.Fatal("server process did not come up")
		}
	}
}

// TestCrashLosesNothingAcknowledged kills the server with SIGKILL right after
// acknowledged writes and checks they all survive.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	addr := freeAddr(t)
	proc := startProcess(t, dir, addr, nil)

	p := profile.NewClientProfile()
	p.HttpProfile.Endpoint, p.HttpProfile.Scheme = addr, "http"
	client, _ := tkms.NewClient(common.NewCredential(crashSecretID, crashSecretKey), "local", p)
	type made struct{ id, blob string }
	var keys []made
	for i := range 20 {
		c := tkms.NewCreateKeyRequest()
		c.Alias = common.StringPtr("crash-" + string(rune('a'+i)))
		created, err := client.CreateKey(c)
		if err != nil {
			t.Fatalf("CreateKey: %v", err)
		}
		e := tkms.NewEncryptRequest()
		e.KeyId = created.Response.KeyId
		e.Plaintext = common.StringPtr(base64.StdEncoding.EncodeToString([]byte("payload")))
		enc, err := client.Encrypt(e)
		if err != nil {
			t.Fatalf("Encrypt: %v", err)
		}
		keys = append(keys, made{*created.Response.KeyId, *enc.Response.CiphertextBlob})
	}
	last := tkms.NewDisableKeyRequest()
	last.KeyId = common.StringPtr(keys[len(keys)-1].id)
	if _, err := client.DisableKey(last); err != nil {
		t.Fatalf("DisableKey: %v", err)
	}
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	proc.Wait()

	startProcess(t, dir, addr, nil)
	for i, k := range keys {
		d := tkms.NewDecryptRequest()
		d.CiphertextBlob = common.StringPtr(k.blob)
		_, err := client.Decrypt(d)
		if i == len(keys)-1 {
			if err == nil {
				t.Errorf("Decrypt with the key disabled before the crash succeeded")
			}
			continue
		}
		if err != nil {
			t.Errorf("Decrypt(key %d) after SIGKILL: %v", i, err)
		}
	}
	list, err := client.ListKeys(tkms.NewListKeysRequest())
	if err != nil || *list.Response.TotalCount != uint64(len(keys)) {
		t.Errorf("ListKeys after SIGKILL = %v, %v; want %d keys", list, err, len(keys))
	}
}
