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

// TestTC3SignerMatchesSDK signs the SDK's captured request again with TC3Signer
// and expects the SDK's Authorization header, byte for byte.
func TestTC3SignerMatchesSDK(t *testing.T) {
	w, at := captureSDK(t, nil)
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(w.body))
	r.Host = w.host
	auth.NewTC3Signer("kms", testID, []byte(testSecret)).Sign(r, w.body, at)
	if got, want := r.Header.Get("Authorization"), w.header.Get("Authorization"); got != want {
		t.Errorf("TC3Signer Authorization = %q, want the SDK's %q", got, want)
	}
}

// TestTC3SignerVerifies checks that what TC3Signer signs, Verify accepts, and that
// a changed body does not verify.
func TestTC3SignerVerifies(t *testing.T) {
	v := auth.NewTC3Verifier(lookupOf(testSecret), nil, auth.TC3Options{})
	body := []byte(`{"NumberOfBytes":16}`)
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8400/", bytes.NewReader(body))
	auth.NewTC3Signer("kms", testID, []byte(testSecret)).Sign(r, body, time.Now())
	if _, err := v.Verify(context.Background(), r, body, "kms"); err != nil {
		t.Fatalf("Verify(TC3Signer request) = %v", err)
	}
	if _, err := v.Verify(context.Background(), r, []byte(`{"NumberOfBytes":17}`), "kms"); err == nil {
		t.Error("Verify(TC3Signer request, other body) succeeded")
	}
}
