package auth_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/keyhaven/keyhaven/auth"
)

// TestSignTC3MatchesSDK signs the SDK's captured request again with SignTC3
// and expects the SDK's Authorization header, byte for byte.
func TestSignTC3MatchesSDK(t *testing.T) {
	w, at := captureSDK(t, nil)
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(w.body))
	r.Host = w.host
	auth.SignTC3(r, w.body, "kms", testID, []byte(testSecret), at)
	if got, want := r.Header.Get("Authorization"), w.header.Get("Authorization"); got != want {
		t.Errorf("SignTC3 Authorization = %q, want the SDK's %q", got, want)
	}
}

// TestSignTC3Verifies checks that what SignTC3 signs, Verify accepts, and that
// a changed body does not verify.
func TestSignTC3Verifies(t *testing.T) {
	v := auth.NewTC3Verifier(lookupOf(testSecret), nil, auth.TC3Options{})
	body := []byte(`{"NumberOfBytes":16}`)
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8400/", bytes.NewReader(body))
	auth.SignTC3(r, body, "kms", testID, []byte(testSecret), time.Now())
	if _, err := v.Verify(context.Background(), r, body, "kms"); err != nil {
		t.Fatalf("Verify(SignTC3 request) = %v", err)
	}
	if _, err := v.Verify(context.Background(), r, []byte(`{"NumberOfBytes":17}`), "kms"); err == nil {
		t.Error("Verify(SignTC3 request, other body) succeeded")
	}
}
