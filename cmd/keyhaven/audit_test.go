package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	sdkerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	tkms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms/v20190118"

	"github.com/keyhaven/keyhaven/audit"
)

// TestAuditSurvivesKill kills the server with SIGKILL while 8 clients send
// requests: after a restart every request that got a response has its event
// and the chain verifies; `keyhaven audit verify` says so, and finds an edit.
func TestAuditSurvivesKill(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	addr := freeAddr(t)
	proc := startProcess(t, dir, addr, nil)
	p := profile.NewClientProfile()
	p.HttpProfile.Endpoint, p.HttpProfile.Scheme = addr, "http"
	client, _ := tkms.NewClient(common.NewCredential(crashSecretID, crashSecretKey), "local", p)
	created, err := client.CreateKey(func() *tkms.CreateKeyRequest {
		r := tkms.NewCreateKeyRequest()
		r.Alias = common.StringPtr("load")
		return r
	}())
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		answered []string // RequestIds of requests that got any response
		wg       sync.WaitGroup
		stop     = make(chan struct{})
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				req := tkms.NewEncryptRequest()
				req.KeyId = created.Response.KeyId
				req.Plaintext = common.StringPtr(base64.StdEncoding.EncodeToString([]byte("x")))
				resp, err := client.Encrypt(req)
				var id string
				var sdkErr *sdkerrors.TencentCloudSDKError
				switch {
				case err == nil:
					id = *resp.Response.RequestId
				case errors.As(err, &sdkErr) && sdkErr.GetRequestId() != "":
					id = sdkErr.GetRequestId()
				default:
					return // the server is gone
				}
				mu.Lock()
				answered = append(answered, id)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	proc.Process.Signal(syscall.SIGKILL)
	proc.Wait()
	close(stop)
	wg.Wait()

	startProcess(t, dir, addr, nil) // recovers a torn last line, if any
	seen := map[string]bool{}
	if err := audit.Read(filepath.Join(dir, "audit"), func(e audit.Event) error {
		seen[e.RequestID] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	missing := 0
	for _, id := range answered {
		if !seen[id] {
			missing++
		}
	}
	if missing > 0 || len(answered) < 10 {
		t.Errorf("%d of %d answered requests have no audit event", missing, len(answered))
	}
	t.Logf("%d requests answered before SIGKILL, all audited", len(answered))

	var out bytes.Buffer
	cmd := newRoot()
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"audit", "verify", "--data-dir", dir})
	if err := cmd.Execute(); err != nil || !strings.Contains(out.String(), "intact") {
		t.Errorf("audit verify = %v:\n%s", err, out.String())
	}
	files, _ := filepath.Glob(filepath.Join(dir, "audit", "*.jsonl"))
	b, _ := os.ReadFile(files[0])
	i := bytes.Index(b, []byte(`"Encrypt"`))
	b[i+1] = 'D'
	os.WriteFile(files[0], b, 0o600)
	cmd = newRoot()
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"audit", "verify", "--data-dir", dir})
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), filepath.Base(files[0])) || !strings.Contains(err.Error(), "line") {
		t.Errorf("audit verify of an edited trail = %v; want an error naming the file and line", err)
	}
}
