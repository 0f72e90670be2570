package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

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
