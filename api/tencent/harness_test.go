package tencent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	sdkerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	tkms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms/v20190118"

	"github.com/keyhaven/keyhaven/auth"
	"github.com/keyhaven/keyhaven/server"
)

const (
	testSecretID  = "AKIDkeyhaventest0000000000000000001"
	testSecretKey = "keyhaventestsecretkey00000000001"
)

// clock is a movable test clock.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) move(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// env is a real server on a loopback port and an official SDK client of it.
type env struct {
	t      testing.TB
	dir    string
	addr   string
	srv    *server.Server
	clock  *clock
	client *tkms.Client
	done   chan error
}

type option func(*server.Config)

// start runs a server over dir (a fresh one if dir is "") until the test ends.
func start(t testing.TB, dir string, opts ...option) *env {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	e := &env{t: t, dir: dir, clock: &clock{}}
	cfg := server.Config{
		DataDir:       dir,
		Region:        "local",
		RootSecretID:  testSecretID,
		RootSecretKey: testSecretKey,
		Clock:         e.clock,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("server.Open: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.srv, e.addr, e.done = srv, ln.Addr().String(), make(chan error, 1)
	go func() { e.done <- srv.Serve(ln) }()
	e.client = e.newClient(testSecretID, testSecretKey, "local")
	t.Cleanup(e.stop)
	return e
}

// stop shuts the server down; calling it twice is fine.
func (e *env) stop() {
	if e.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		e.t.Errorf("Shutdown: %v", err)
	}
	if err := <-e.done; err != nil {
		e.t.Errorf("Serve: %v", err)
	}
	e.srv = nil
}

func (e *env) newClient(secretID, secretKey, region string) *tkms.Client {
	return e.newClientWith(secretID, secretKey, region, nil)
}

func (e *env) newClientWith(secretID, secretKey, region string, transport http.RoundTripper) *tkms.Client {
	e.t.Helper()
	p := profile.NewClientProfile()
	p.HttpProfile.Endpoint = e.addr
	p.HttpProfile.Scheme = "http"
	p.HttpProfile.ReqTimeout = 10
	c, err := tkms.NewClient(common.NewCredential(secretID, secretKey), region, p)
	if err != nil {
		e.t.Fatal(err)
	}
	if transport != nil {
		c.WithHttpTransport(transport)
	}
	return c
}

// code returns the Tencent error code of err, or "" for nil.
func code(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var sdkErr *sdkerrors.TencentCloudSDKError
	if !errors.As(err, &sdkErr) {
		t.Fatalf("error %v is not a Tencent SDK error", err)
	}
	if sdkErr.GetRequestId() == "" && sdkErr.GetCode()[:12] != "ClientError." {
		t.Errorf("error %v has no RequestId", err)
	}
	return sdkErr.GetCode()
}

// raw sends body as action signed with auth.TC3Signer (which a test in auth
// holds to the SDK's signature), so tests can send what the SDK never would.
func (e *env) raw(action, version string, body []byte, ts time.Time, secretKey string) (errCode string, resp map[string]any) {
	e.t.Helper()
	return send(e.t, e.addr, action, version, body, ts, secretKey)
}

func send(t testing.TB, addr, action, version string, body []byte, ts time.Time, secretKey string) (string, map[string]any) {
	t.Helper()
	return sendAs(t, addr, testSecretID, secretKey, action, version, body, ts)
}

// sendAs sends a request signed with any access key.
func sendAs(t testing.TB, addr, secretID, secretKey, action, version string, body []byte, ts time.Time) (string, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-TC-Action", action)
	req.Header.Set("X-TC-Version", version)
	req.Header.Set("X-TC-Region", "local")
	service := "kms"
	if version == "2019-01-16" {
		service = "cam"
	}
	auth.NewTC3Signer(service, secretID, []byte(secretKey)).Sign(req, body, ts)
	return do(t, req)
}

func (e *env) do(req *http.Request) (string, map[string]any) {
	e.t.Helper()
	return do(e.t, req)
}

// do sends req and checks the Tencent contract: HTTP 200, a JSON envelope
// and a RequestId. It returns the error code ("" for success) and Response.
func do(t testing.TB, req *http.Request) (string, map[string]any) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("HTTP status %d, want 200 for every outcome", res.StatusCode)
	}
	var out struct {
		Response map[string]any
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("response is not JSON: %v", err)
	}
	if id, _ := out.Response["RequestId"].(string); id == "" {
		t.Errorf("response %v has no RequestId", out.Response)
	}
	if errObj, ok := out.Response["Error"].(map[string]any); ok {
		c, _ := errObj["Code"].(string)
		if c == "" || c == "InternalError" {
			t.Errorf("error response %v: want a specific code", errObj)
		}
		return c, out.Response
	}
	return "", out.Response
}

// recorder is an http.RoundTripper that keeps the last request it sent.
type recorder struct {
	mu     sync.Mutex
	header http.Header
	body   []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.header, r.body = req.Header.Clone(), body
	r.mu.Unlock()
	req.Body = io.NopCloser(bytes.NewReader(body))
	return http.DefaultTransport.RoundTrip(req)
}
