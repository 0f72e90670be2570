package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	tkms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms/v20190118"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// run executes `keyhaven args...` until the server answers /healthz, then
// returns its output and a stop function that returns the command's error.
func run(t *testing.T, addr string, args ...string) (out *syncBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = &syncBuffer{}
	cmd := newRoot()
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(out)
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("keyhaven %s exited early: %v\n%s", strings.Join(args, " "), err, out)
		default:
		}
		if res, err := http.Get("http://" + addr + "/healthz"); err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("server did not come up:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return out, func() error { cancel(); return <-done }
}

// TestServerCommand starts `keyhaven server` as a newcomer would, with the
// environment choosing the data dir, and uses it with the official SDK.
func TestServerCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	addr := freeAddr(t)
	t.Setenv("KEYHAVEN_DATA_DIR", dir)
	out, stop := run(t, addr, "server", "--listen", addr, "--dev")

	for _, name := range []string{"root.key", "root-credentials.json"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want mode 0600", name, err, fi.Mode().Perm())
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "root-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var creds struct{ AccountId, SecretId, SecretKey string }
	if err := json.Unmarshal(raw, &creds); err != nil || creds.AccountId == "" || creds.SecretId == "" || creds.SecretKey == "" {
		t.Fatalf("root-credentials.json = %s, %v", raw, err)
	}
	if !strings.Contains(out.String(), creds.SecretKey) {
		t.Errorf("--dev did not print the root credentials:\n%s", out)
	}
	p := profile.NewClientProfile()
	p.HttpProfile.Endpoint, p.HttpProfile.Scheme = addr, "http"
	client, _ := tkms.NewClient(common.NewCredential(creds.SecretId, creds.SecretKey), "local", p)
	req := tkms.NewGenerateRandomRequest()
	req.NumberOfBytes = common.Uint64Ptr(16)
	if _, err := client.GenerateRandom(req); err != nil {
		t.Errorf("GenerateRandom: %v", err)
	}
	if err := stop(); err != nil {
		t.Errorf("server stopped with %v", err)
	}

	// A second start keeps the credentials and does not print the secret.
	out, stop = run(t, addr, "server", "--listen", addr, "--dev")
	if strings.Contains(out.String(), creds.SecretKey) {
		t.Errorf("second start printed the secret key again:\n%s", out)
	}
	if _, err := client.GenerateRandom(req); err != nil {
		t.Errorf("GenerateRandom after restart: %v", err)
	}
	if err := stop(); err != nil {
		t.Errorf("server stopped with %v", err)
	}
	if strings.Contains(out.String(), "level=ERROR") {
		t.Errorf("errors logged:\n%s", out)
	}
}

// TestServerCommandRefuses checks that bad configuration stops the server
// with a clear message and never echoes a secret.
func TestServerCommandRefuses(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown suite", []string{"--crypto-suite", "des"}, nil, "--crypto-suite is fips or sm"},
		{"certificate without key", []string{"--tls-cert", "x.pem"}, nil, "give both --tls-cert and --tls-key"},
		{"missing certificate file", []string{"--tls-cert", "x.pem", "--tls-key", "y.pem"}, nil, "TLS"},
		{"bad root key", nil, map[string]string{"KEYHAVEN_ROOT_KEY": "c2hvcnQ="}, "KEYHAVEN_ROOT_KEY"},
		{"bad env flag", nil, map[string]string{"KEYHAVEN_DEV": "maybe"}, "KEYHAVEN_DEV"},
		{"secret id without key", nil, map[string]string{"KEYHAVEN_ROOT_SECRET_ID": "AKIDx"}, "SecretKey"},
		{"clock offset without --dev", nil, map[string]string{"KEYHAVEN_DEV_CLOCK_OFFSET": "192h"}, "only with --dev"},
		{"bad clock offset", []string{"--dev"}, map[string]string{"KEYHAVEN_DEV_CLOCK_OFFSET": "eight days"}, "KEYHAVEN_DEV_CLOCK_OFFSET"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var out bytes.Buffer
			cmd := newRoot()
			cmd.SetArgs(append([]string{"server", "--data-dir", t.TempDir(), "--listen", freeAddr(t)}, tc.args...))
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			err := cmd.Execute()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("keyhaven server %v = %v, want an error containing %q", tc.args, err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "c2hvcnQ=") {
				t.Errorf("error echoes the root key: %v", err)
			}
		})
	}
}
