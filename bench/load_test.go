package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keyhaven/keyhaven/auth"
)

// TestSignerVerifies checks the bench signer against the server's verifier,
// across a change of UTC date (which must refresh the cached signing key).
func TestSignerVerifies(t *testing.T) {
	for _, now := range []time.Time{
		time.Date(2026, 3, 1, 23, 59, 59, 0, time.UTC),
		time.Date(2026, 3, 2, 0, 0, 1, 0, time.UTC),
	} {
		v := auth.NewTC3Verifier(func(ctx context.Context, id string) (auth.Credential, error) {
			return auth.Credential{SecretID: id, Account: "1", User: "1", Secret: []byte(benchSecretKey)}, nil
		}, func() time.Time { return now }, auth.TC3Options{})
		s := newSigner("127.0.0.1:8400")
		body := []byte(`{"KeyId":"k","Plaintext":"AAAA"}`)
		for range 2 { // the second signature uses the cached key
			r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8400/", nil)
			r.Header["Content-Type"] = []string{"application/json"}
			s.sign(r.Header, "Encrypt", body, now)
			if _, err := v.Verify(context.Background(), r, body, "kms"); err != nil {
				t.Fatalf("Verify(signed at %v) = %v, want nil", now, err)
			}
		}
	}
}

// TestRunCountsFailures checks that error responses are counted, not passed.
func TestRunCountsFailures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if strings.Contains(r.Header.Get("Authorization"), "Signature=") && r.Header.Get("X-Tc-Action") == "Encrypt" {
			io.WriteString(w, `{"Response":{"Error":{"Code":"AuthFailure"},"RequestId":"x"}}`)
			return
		}
		io.WriteString(w, `{"Response":{"RequestId":"x"}}`)
	}))
	defer srv.Close()
	tg := newTarget(strings.TrimPrefix(srv.URL, "http://"), 2, nil)
	defer tg.close()
	for _, tc := range []struct {
		action   string
		wantErrs int64
	}{
		{"Encrypt", 20},
		{"Decrypt", 0},
	} {
		op := &operation{name: tc.action, action: tc.action, body: []byte(`{}`), want: []byte(`"RequestId"`)}
		l := tg.run(context.Background(), op, 2, 0, 20, true)
		if l.requests != 20 || l.errors != tc.wantErrs || len(l.lat) != 20 {
			t.Errorf("run(%s, n=20) = %d requests, %d errors, %d latencies; want 20, %d, 20",
				tc.action, l.requests, l.errors, len(l.lat), tc.wantErrs)
		}
	}
}
