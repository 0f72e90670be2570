package auth_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	kmsapi "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms/v20190118"

	"github.com/keyhaven/keyhaven/auth"
)

const (
	testID         = "AKIDkeyhavenTest0123456789abcdefgh"
	testSecret     = "keyhavenTestSecretKey0123456789ab"
	disabledID     = "AKIDkeyhavenDisabled0123456789abcd"
	disabledSecret = "keyhavenDisabledSecret0123456789a"
	unknownID      = "AKIDkeyhavenUnknown0123456789abcde"
)

// lookupOf resolves testID (active) and disabledID (inactive).
func lookupOf(secret string) auth.Lookup {
	return func(_ context.Context, id string) (auth.Credential, error) {
		switch id {
		case testID:
			return auth.Credential{SecretID: testID, Account: "100000000001", User: "100000000002", Secret: []byte(secret)}, nil
		case disabledID:
			return auth.Credential{}, fmt.Errorf("test lookup %s: %w", id, auth.ErrInactive)
		}
		return auth.Credential{}, fmt.Errorf("test lookup %s: %w", id, auth.ErrUnknownSecretID)
	}
}

// wire is an HTTP request as the server received it.
type wire struct {
	method, target, host string
	header               http.Header
	body                 []byte
}

func (w wire) clone() wire {
	w.header = w.header.Clone()
	w.body = bytes.Clone(w.body)
	return w
}

func (w wire) request() *http.Request {
	r := httptest.NewRequest(w.method, w.target, bytes.NewReader(w.body))
	r.Host = w.host
	r.Header = w.header.Clone()
	return r
}

// served is what the test server saw for one request.
type served struct {
	wire wire
	cred auth.Credential
	err  error
}

// startServer serves the Tencent wire at 127.0.0.1: every request is checked
// by v for service, recorded, and answered with a GenerateRandom response or
// a Tencent error envelope.
func startServer(t *testing.T, v *auth.TC3Verifier, service string) (endpoint string, seen func() []served) {
	t.Helper()
	var mu sync.Mutex
	var log []served
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		cred, err := v.Verify(r.Context(), r, body, service)
		mu.Lock()
		log = append(log, served{wire{r.Method, r.RequestURI, r.Host, r.Header.Clone(), body}, cred, err})
		mu.Unlock()
		resp := map[string]any{"RequestId": "x"}
		if err != nil {
			var ae *auth.Error
			if !errors.As(err, &ae) {
				ae = &auth.Error{Code: auth.CodeInternalError, Message: err.Error()}
			}
			resp["Error"] = map[string]string{"Code": ae.Code, "Message": ae.Message}
		} else {
			resp["Plaintext"] = "AAECAwQFBgcICQoLDA0ODw=="
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"Response": resp})
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), func() []served {
		mu.Lock()
		defer mu.Unlock()
		return append([]served(nil), log...)
	}
}

// generateRandom calls GenerateRandom through the official SDK.
func generateRandom(t *testing.T, endpoint, id, secret string, tune func(*profile.ClientProfile)) error {
	t.Helper()
	cp := profile.NewClientProfile()
	cp.HttpProfile.Endpoint = endpoint
	cp.HttpProfile.Scheme = "http"
	cp.HttpProfile.ReqTimeout = 10
	cp.Language = "en-US"
	if tune != nil {
		tune(cp)
	}
	c, err := kmsapi.NewClient(common.NewCredential(id, secret), "ap-guangzhou", cp)
	if err != nil {
		t.Fatalf("kms.NewClient: %v", err)
	}
	req := kmsapi.NewGenerateRandomRequest()
	req.NumberOfBytes = common.Uint64Ptr(16)
	resp, err := c.GenerateRandom(req)
	if err != nil {
		return err
	}
	if resp.Response == nil || resp.Response.Plaintext == nil {
		t.Fatalf("GenerateRandom response = %s, want a Plaintext", resp.ToJsonString())
	}
	return nil
}

// sdkCode is the error code the SDK reports, "" for success.
func sdkCode(err error) string {
	if err == nil {
		return ""
	}
	var e *tcerr.TencentCloudSDKError
	if errors.As(err, &e) {
		return e.GetCode()
	}
	return "not an SDK error: " + err.Error()
}

var hex64 = regexp.MustCompile(`[0-9a-fA-F]{64}`)

// checkAuthError checks that err is an *auth.Error with code want whose text
// holds no secret, no signature and no canonical request.
func checkAuthError(t *testing.T, call string, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Errorf("%s err = %v, want nil", call, err)
		}
		return
	}
	var ae *auth.Error
	if !errors.As(err, &ae) {
		t.Errorf("%s err = %v (%T), want *auth.Error with code %s", call, err, err, want)
		return
	}
	if ae.Code != want {
		t.Errorf("%s code = %s (%q), want %s", call, ae.Code, ae.Message, want)
	}
	text := ae.Error()
	for _, secret := range []string{testSecret, disabledSecret, "wrongSecret"} {
		if strings.Contains(text, secret) {
			t.Errorf("%s error %q contains a secret", call, text)
		}
	}
	if strings.Contains(text, "\n") || hex64.MatchString(text) {
		t.Errorf("%s error %q looks like it holds a canonical request or signature", call, text)
	}
}

// TestVerifySDK drives Verify with requests signed by tencentcloud-sdk-go.
func TestVerifySDK(t *testing.T) {
	tests := []struct {
		name       string
		id, secret string                       // the client's key pair
		skew       time.Duration                // server clock minus real clock
		service    string                       // service the server verifies for; "" means kms
		tune       func(*profile.ClientProfile) // client profile changes
		want       string                       // error code, "" for success
	}{
		{name: "valid POST", id: testID, secret: testSecret},
		{name: "valid GET", id: testID, secret: testSecret,
			tune: func(p *profile.ClientProfile) { p.HttpProfile.ReqMethod = "GET" }},
		{name: "server clock 4 minutes ahead", id: testID, secret: testSecret, skew: 4 * time.Minute},
		{name: "server clock 4 minutes behind", id: testID, secret: testSecret, skew: -4 * time.Minute},
		{name: "wrong SecretKey", id: testID, secret: "wrongSecret", want: auth.CodeSignatureFailure},
		{name: "wrong SecretKey GET", id: testID, secret: "wrongSecret", want: auth.CodeSignatureFailure,
			tune: func(p *profile.ClientProfile) { p.HttpProfile.ReqMethod = "GET" }},
		{name: "unknown SecretId", id: unknownID, secret: testSecret, want: auth.CodeSecretIDNotFound},
		{name: "disabled SecretId", id: disabledID, secret: disabledSecret, want: auth.CodeSecretIDNotFound},
		{name: "timestamp 6 minutes old", id: testID, secret: testSecret, skew: 6 * time.Minute, want: auth.CodeSignatureExpire},
		{name: "timestamp 6 minutes ahead", id: testID, secret: testSecret, skew: -6 * time.Minute, want: auth.CodeSignatureExpire},
		{name: "UNSIGNED-PAYLOAD", id: testID, secret: testSecret, want: auth.CodeSignatureFailure,
			tune: func(p *profile.ClientProfile) { p.UnsignedPayload = true }},
		{name: "scope names kms, server wants cvm", id: testID, secret: testSecret, service: "cvm", want: auth.CodeSignatureFailure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			service := tc.service
			if service == "" {
				service = "kms"
			}
			now := func() time.Time { return time.Now().Add(tc.skew) }
			endpoint, seen := startServer(t, auth.NewTC3Verifier(lookupOf(testSecret), now, auth.TC3Options{}), service)
			err := generateRandom(t, endpoint, tc.id, tc.secret, tc.tune)
			if got := sdkCode(err); got != tc.want {
				t.Errorf("GenerateRandom as %s: code = %q (%v), want %q", tc.id, got, err, tc.want)
			}
			log := seen()
			if len(log) != 1 {
				t.Fatalf("server saw %d requests, want 1", len(log))
			}
			call := fmt.Sprintf("Verify(%s %s as %s)", log[0].wire.method, log[0].wire.target, tc.id)
			checkAuthError(t, call, log[0].err, tc.want)
			if tc.want == "" && (log[0].cred.SecretID != testID || log[0].cred.User != "100000000002") {
				t.Errorf("%s credential = %v, want SecretID %s, User 100000000002", call, log[0].cred, testID)
			}
		})
	}
}

// signSpec is everything a TC3 signature covers. Its authorization method
// computes the header the way the SDK's sendWithSignatureV3 does, with the
// signed headers and the payload hash as parameters; TestSignerMatchesSDK
// holds it to the SDK.
type signSpec struct {
	id, secret    string
	method, query string
	headers       [][2]string // signed headers: lowercase name, value; in order
	payloadHash   string
	timestamp     string
	date, service string
}

func (s signSpec) authorization() string {
	var canonHeaders, names []string
	for _, h := range s.headers {
		canonHeaders = append(canonHeaders, h[0]+":"+h[1]+"\n")
		names = append(names, h[0])
	}
	signedHeaders := strings.Join(names, ";")
	canonicalRequest := fmt.Sprintf("%s\n%s\n%s\n%s\n%s\n%s",
		s.method, "/", s.query, strings.Join(canonHeaders, ""), signedHeaders, s.payloadHash)
	scope := fmt.Sprintf("%s/%s/tc3_request", s.date, s.service)
	stringToSign := fmt.Sprintf("%s\n%s\n%s\n%s", "TC3-HMAC-SHA256", s.timestamp, scope, sha256hex(canonicalRequest))
	mac := func(key []byte, msg string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	key := mac(mac(mac([]byte("TC3"+s.secret), s.date), s.service), "tc3_request")
	return fmt.Sprintf("TC3-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		s.id, scope, signedHeaders, hex.EncodeToString(mac(key, stringToSign)))
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// specOf is the signSpec that makes w a valid request from testID for kms
// signing content-type and host, like the SDK.
func specOf(w wire) signSpec {
	ts := w.header.Get("X-TC-Timestamp")
	sec, _ := strconv.ParseInt(ts, 10, 64)
	query := ""
	if w.method == http.MethodGet {
		_, query, _ = strings.Cut(w.target, "?")
	}
	return signSpec{
		id: testID, secret: testSecret,
		method: w.method, query: query,
		headers:     [][2]string{{"content-type", w.header.Get("Content-Type")}, {"host", w.host}},
		payloadHash: sha256hex(string(w.body)),
		timestamp:   ts,
		date:        time.Unix(sec, 0).UTC().Format(time.DateOnly),
		service:     "kms",
	}
}

// captureSDK returns a valid GenerateRandom request as the SDK sends it, and
// the time it was signed at.
func captureSDK(t *testing.T, tune func(*profile.ClientProfile)) (wire, time.Time) {
	t.Helper()
	endpoint, seen := startServer(t, auth.NewTC3Verifier(lookupOf(testSecret), nil, auth.TC3Options{}), "kms")
	if err := generateRandom(t, endpoint, testID, testSecret, tune); err != nil {
		t.Fatalf("GenerateRandom: %v", err)
	}
	w := seen()[0].wire
	sec, err := strconv.ParseInt(w.header.Get("X-TC-Timestamp"), 10, 64)
	if err != nil {
		t.Fatalf("captured X-TC-Timestamp %q: %v", w.header.Get("X-TC-Timestamp"), err)
	}
	return w, time.Unix(sec, 0)
}

// TestSignerMatchesSDK proves the test signer reproduces the SDK's header,
// so the requests it signs for the tampering cases are what the SDK would send.
func TestSignerMatchesSDK(t *testing.T) {
	for _, method := range []string{"POST", "GET"} {
		w, _ := captureSDK(t, func(p *profile.ClientProfile) { p.HttpProfile.ReqMethod = method })
		got, want := specOf(w).authorization(), w.header.Get("Authorization")
		if got != want {
			t.Errorf("%s: signSpec.authorization() = %q, want the SDK's %q", method, got, want)
		}
	}
}

// TestVerifySecretRotation checks that a changed secret is not answered from
// the signing-key cache.
func TestVerifySecretRotation(t *testing.T) {
	w, at := captureSDK(t, nil)
	secret := testSecret
	v := auth.NewTC3Verifier(func(ctx context.Context, id string) (auth.Credential, error) {
		return lookupOf(secret)(ctx, id)
	}, func() time.Time { return at }, auth.TC3Options{})
	steps := []struct {
		name, serverSecret, signedWith, want string
	}{
		{"old secret, before rotation", testSecret, testSecret, ""},
		{"old secret, after rotation", "rotatedSecret", testSecret, auth.CodeSignatureFailure},
		{"new secret, after rotation", "rotatedSecret", "rotatedSecret", ""},
		{"old secret, rotated back", testSecret, testSecret, ""},
	}
	for _, s := range steps {
		secret = s.serverSecret
		spec := specOf(w)
		spec.secret = s.signedWith
		req := w.clone()
		req.header.Set("Authorization", spec.authorization())
		_, err := v.Verify(context.Background(), req.request(), req.body, "kms")
		checkAuthError(t, "Verify("+s.name+")", err, s.want)
	}
}

// TestVerifyLookupError checks that a failing Lookup is an internal error
// that keeps its cause.
func TestVerifyLookupError(t *testing.T) {
	w, at := captureSDK(t, nil)
	cause := errors.New("store unavailable")
	tests := []struct {
		name   string
		id     string // SecretId the request is signed with
		lookup auth.Lookup
		want   string
		is     error // an error Verify's error must wrap
	}{
		{"lookup fails", testID,
			func(context.Context, string) (auth.Credential, error) { return auth.Credential{}, cause },
			auth.CodeInternalError, cause},
		{"lookup returns no secret", testID,
			func(context.Context, string) (auth.Credential, error) { return auth.Credential{SecretID: testID}, nil },
			auth.CodeInternalError, nil},
		{"unknown SecretId", unknownID, lookupOf(testSecret), auth.CodeSecretIDNotFound, auth.ErrUnknownSecretID},
		{"disabled SecretId", disabledID, lookupOf(testSecret), auth.CodeSecretIDNotFound, auth.ErrInactive},
	}
	for _, tc := range tests {
		v := auth.NewTC3Verifier(tc.lookup, func() time.Time { return at }, auth.TC3Options{})
		spec := specOf(w)
		spec.id = tc.id
		req := w.clone()
		req.header.Set("Authorization", spec.authorization())
		_, err := v.Verify(context.Background(), req.request(), req.body, "kms")
		call := "Verify(" + tc.name + ")"
		checkAuthError(t, call, err, tc.want)
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s err = %v, want it to wrap %v", call, err, tc.is)
		}
	}
}

// TestCredentialRedacts checks that a Credential never prints its secret.
func TestCredentialRedacts(t *testing.T) {
	c := auth.Credential{SecretID: testID, Account: "1", User: "2", Secret: []byte(testSecret)}
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("json.Marshal(Credential): %v", err)
	}
	for _, out := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), string(j), c.LogValue().String()} {
		if strings.Contains(out, testSecret) || !strings.Contains(out, testID) {
			t.Errorf("formatted Credential = %q, want SecretID shown and secret hidden", out)
		}
	}
}

// BenchmarkVerify measures one verification of a typical Encrypt request with
// a warm signing-key cache.
func BenchmarkVerify(b *testing.B) {
	at := time.Unix(1767225600, 0) // 2026-01-01T00:00:00Z
	w := wire{
		method: "POST", target: "/", host: "kms.keyhaven.example:8443",
		header: http.Header{
			"Content-Type":       {"application/json"},
			"X-Tc-Action":        {"Encrypt"},
			"X-Tc-Version":       {"2019-01-18"},
			"X-Tc-Timestamp":     {strconv.FormatInt(at.Unix(), 10)},
			"X-Tc-Region":        {"ap-guangzhou"},
			"X-Tc-Requestclient": {"SDK_GO_1.0.563"},
			"X-Tc-Language":      {"en-US"},
		},
		body: []byte(`{"KeyId":"0b6b7a1c-2f1e-11f0-9a4c-525400d3a7b2","Plaintext":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}`),
	}
	w.header.Set("Authorization", specOf(w).authorization())
	r := w.request()
	cred := auth.Credential{SecretID: testID, Account: "1", User: "2", Secret: []byte(testSecret)}
	v := auth.NewTC3Verifier(func(context.Context, string) (auth.Credential, error) { return cred, nil },
		func() time.Time { return at }, auth.TC3Options{})
	ctx := context.Background()
	if _, err := v.Verify(ctx, r, w.body, "kms"); err != nil {
		b.Fatalf("Verify: %v", err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(ctx, r, w.body, "kms"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := v.Verify(ctx, r, w.body, "kms"); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
