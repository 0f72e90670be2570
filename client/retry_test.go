package client_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/keyhaven/keyhaven/client"
	"github.com/keyhaven/keyhaven/kms"
)

// flaky is a proxy in front of a real server that fails the first attempts
// in a chosen way, and records each attempt's signing timestamp.
type flaky struct {
	mu         sync.Mutex
	failures   int // attempts left to fail
	fail       func(w http.ResponseWriter)
	timestamps []string
	proxy      *httputil.ReverseProxy
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.timestamps = append(f.timestamps, r.Header.Get("X-TC-Timestamp"))
	failNow := f.failures != 0
	if f.failures > 0 {
		f.failures--
	}
	f.mu.Unlock()
	if failNow {
		io.Copy(io.Discard, r.Body)
		f.fail(w)
		return
	}
	f.proxy.ServeHTTP(w, r)
}

func status(code int) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) { http.Error(w, http.StatusText(code), code) }
}

func apiError(code string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		io.WriteString(w, `{"Response":{"Error":{"Code":"`+code+`","Message":"try later"},"RequestId":"r-1"}}`)
	}
}

func reset(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.(*net.TCPConn).SetLinger(0)
		conn.Close()
	}
}

func TestRetry(t *testing.T) {
	addr := startServer(t, kms.SuiteFIPS)
	target, _ := url.Parse("http://" + addr)
	random := func(ctx context.Context, c *client.Client) error { _, err := c.GenerateRandom(ctx, 8); return err }
	create := func(ctx context.Context, c *client.Client) error {
		_, err := c.CreateKey(ctx, client.CreateKeyRequest{Alias: "k" + strconv.FormatInt(time.Now().UnixNano(), 36)})
		return err
	}
	encrypt := func(ctx context.Context, c *client.Client) error {
		_, err := c.Encrypt(ctx, client.EncryptRequest{KeyID: "00000000-0000-4000-8000-000000000000", Plaintext: []byte("x")})
		return err
	}
	cases := []struct {
		name     string
		failures int // -1: always
		fail     func(http.ResponseWriter)
		call     func(context.Context, *client.Client) error
		attempts int
		wantErr  func(error) bool // nil: success
	}{
		{"503 once", 1, status(503), random, 2, nil},
		{"503 once, CreateKey", 1, status(503), create, 2, nil},
		{"502 once", 1, status(502), random, 2, nil},
		{"429 once, CreateKey", 1, status(429), create, 2, nil},
		{"500 once", 1, status(500), random, 2, nil},
		{"500 once, CreateKey: not repeated", 1, status(500), create, 1, isHTTP(500)},
		{"RequestLimitExceeded twice, CreateKey", 2, apiError("RequestLimitExceeded"), create, 3, nil},
		{"ServiceTemporaryUnavailable once", 1, apiError("UnsupportedOperation.ServiceTemporaryUnavailable"), random, 2, nil},
		{"InternalError once", 1, apiError("InternalError"), random, 2, nil},
		{"InternalError once, CreateKey: not repeated", 1, apiError("InternalError"), create, 1, isAPI("InternalError")},
		{"connection reset once", 1, reset, random, 2, nil},
		{"connection reset once, CreateKey: not repeated", 1, reset, create, 1, func(err error) bool { var ue *url.Error; return errors.As(err, &ue) }},
		{"a request error is not retried", 0, nil, encrypt, 1, isAPI("ResourceUnavailable.CmkNotFound")},
		{"400 is not retried", 1, status(400), random, 1, isHTTP(400)},
		{"503 always: gives up after 3 retries", -1, status(503), random, 4, isHTTP(503)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &flaky{failures: tc.failures, fail: tc.fail, proxy: httputil.NewSingleHostReverseProxy(target)}
			front := httptest.NewServer(f)
			defer front.Close()
			c := newClient(t, front.URL)
			// Every attempt is signed at a later time: the clock moves 1 s a call.
			var mu sync.Mutex
			now := time.Now().Add(-time.Minute)
			client.SetClock(c, func() time.Time { mu.Lock(); defer mu.Unlock(); now = now.Add(time.Second); return now })
			err := tc.call(context.Background(), c)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Errorf("call = %v, want success", err)
			case tc.wantErr != nil && !tc.wantErr(err):
				t.Errorf("call = %#v, not the error wanted", err)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if len(f.timestamps) != tc.attempts {
				t.Errorf("%d attempts, want %d", len(f.timestamps), tc.attempts)
			}
			for i := 1; i < len(f.timestamps); i++ {
				if f.timestamps[i] <= f.timestamps[i-1] {
					t.Errorf("attempt %d signed at %s, after attempt %d at %s: want a fresh signature", i, f.timestamps[i], i-1, f.timestamps[i-1])
				}
			}
		})
	}
}

func isHTTP(code int) func(error) bool {
	return func(err error) bool { var he *client.HTTPError; return errors.As(err, &he) && he.StatusCode == code }
}

func isAPI(code string) func(error) bool {
	return func(err error) bool { var ae *client.APIError; return errors.As(err, &ae) && ae.Code == code }
}

// TestRetryDialFailure checks that a refused connection is retried, even for
// CreateKey (nothing was sent), with growing waits, and that a cancelled
// context stops the retries.
func TestRetryDialFailure(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens here now
	c := newClient(t, addr, func(cfg *client.Config) { cfg.MinBackoff, cfg.MaxBackoff = 100*time.Millisecond, 300*time.Millisecond })
	var waits []time.Duration
	client.SetSleep(c, func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return ctx.Err() })
	_, err := c.CreateKey(context.Background(), client.CreateKeyRequest{Alias: "x"})
	var opErr *net.OpError
	if !errors.As(err, &opErr) || len(waits) != 3 {
		t.Fatalf("CreateKey = %v after %d waits; want a dial error after 3", err, len(waits))
	}
	for i, want := range []time.Duration{100, 200, 300} {
		want *= time.Millisecond
		if waits[i] < want/2 || waits[i] > want {
			t.Errorf("wait %d = %v, want %v to %v", i, waits[i], want/2, want)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	waits = nil
	client.SetSleep(c, func(ctx context.Context, d time.Duration) error { waits = append(waits, d); cancel(); return ctx.Err() })
	if _, err := c.GetRegions(ctx); !errors.Is(err, context.Canceled) || len(waits) != 1 {
		t.Errorf("GetRegions with a context cancelled while waiting = %v after %d waits", err, len(waits))
	}
}

func TestBackoffJitter(t *testing.T) {
	c := newClient(t, "127.0.0.1:1", func(cfg *client.Config) { cfg.MinBackoff, cfg.MaxBackoff = 100*time.Millisecond, time.Second })
	seen := map[time.Duration]bool{}
	for range 50 {
		for attempt, d := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
			d *= time.Millisecond
			got := client.Backoff(c, attempt)
			if got < d/2 || got > d {
				t.Fatalf("Backoff(%d) = %v, want %v to %v", attempt, got, d/2, d)
			}
			seen[got] = true
		}
	}
	if len(seen) < 20 {
		t.Errorf("only %d distinct waits in 300: no jitter?", len(seen))
	}
}

func TestRepeatable(t *testing.T) {
	for action, want := range map[string]bool{
		"Encrypt": true, "DescribeKey": true, "DisableKey": true, "ListUsers": true, "ListAttachedUserPolicies": true,
		"LookUpEvents": true, "VerifyAuditTrail": true, "GetPublicKey": true,
		"CreateKey": false, "RotateKey": false, "ScheduleKeyDeletion": false, "CancelKeyDeletion": false,
		"ArchiveKey": false, "CancelKeyArchive": false, "CreateAccessKey": false, "DeleteUser": false,
		"UpdateAlias": false, "AddUser": false, "UpdateAccessKey": false, "AttachUserPolicy": false,
		"DetachUserPolicy": false, "GetParametersForImport": false, "ImportKeyMaterial": false,
		"DeleteImportedKeyMaterial": false,
	} {
		if got := client.Repeatable(action); got != want {
			t.Errorf("Repeatable(%s) = %v, want %v", action, got, want)
		}
	}
}
