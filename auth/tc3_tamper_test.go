package auth_test

import (
	"context"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/keyhaven/keyhaven/auth"
)

var authRE = regexp.MustCompile(`^TC3-HMAC-SHA256 Credential=([^,]*), SignedHeaders=([^,]*), Signature=(.*)$`)

// TestVerifyTampered captures a valid request from the SDK and checks that
// every change to it, and every malformed or mis-scoped variant, is refused
// with the right code. Cases with sign set are re-signed validly (by the
// signer TestSignerMatchesSDK holds to the SDK) before edit runs, so they
// show the check itself refuses them, not a signature mismatch.
func TestVerifyTampered(t *testing.T) {
	captured, at := captureSDK(t, nil)
	m := authRE.FindStringSubmatch(captured.header.Get("Authorization"))
	if m == nil {
		t.Fatalf("captured Authorization %q does not have the SDK's shape", captured.header.Get("Authorization"))
	}
	cred, signedHeaders, sig := m[1], m[2], m[3]
	ts := captured.header.Get("X-TC-Timestamp")

	setHeader := func(name, value string) func(*wire) {
		return func(w *wire) { w.header.Set(name, value) }
	}
	delHeader := func(name string) func(*wire) {
		return func(w *wire) { w.header.Del(name) }
	}
	setAuth := func(value string) func(*wire) { return setHeader("Authorization", value) }
	shiftTime := func(d time.Duration) func(*signSpec) {
		return func(s *signSpec) {
			t := at.Add(d)
			s.timestamp = strconv.FormatInt(t.Unix(), 10)
			s.date = t.UTC().Format(time.DateOnly)
		}
	}

	tests := []struct {
		name string
		sign func(*signSpec) // re-sign validly with this change, nil keeps the SDK's header
		edit func(*wire)     // then change the request
		want string          // error code, "" for success
	}{
		{name: "as captured"},
		{name: "re-signed unchanged", sign: func(*signSpec) {}},

		// The body, headers and method are covered.
		{name: "body replaced", edit: func(w *wire) { w.body = []byte(`{"NumberOfBytes":1024}`) }, want: auth.CodeSignatureFailure},
		{name: "body with a trailing space", edit: func(w *wire) { w.body = append(w.body, ' ') }, want: auth.CodeSignatureFailure},
		{name: "body empty", edit: func(w *wire) { w.body = nil }, want: auth.CodeSignatureFailure},
		{name: "host changed", edit: func(w *wire) { w.host = "kms.tencentcloudapi.com" }, want: auth.CodeSignatureFailure},
		{name: "host empty", edit: func(w *wire) { w.host = "" }, want: auth.CodeSignatureFailure},
		{name: "content-type changed", edit: setHeader("Content-Type", "text/plain"), want: auth.CodeSignatureFailure},
		{name: "content-type removed", edit: delHeader("Content-Type"), want: auth.CodeSignatureFailure},
		{name: "method GET", edit: func(w *wire) { w.method = "GET" }, want: auth.CodeSignatureFailure},
		{name: "method PUT, validly signed", sign: func(s *signSpec) { s.method = "PUT" },
			edit: func(w *wire) { w.method = "PUT" }, want: auth.CodeSignatureFailure},
		{name: "timestamp one second later", edit: setHeader("X-TC-Timestamp", strconv.FormatInt(at.Unix()+1, 10)), want: auth.CodeSignatureFailure},

		// Missing and malformed headers.
		{name: "Authorization missing", edit: delHeader("Authorization"), want: auth.CodeMissingParameter},
		{name: "Authorization empty", edit: setAuth(""), want: auth.CodeMissingParameter},
		{name: "X-TC-Timestamp missing", edit: delHeader("X-TC-Timestamp"), want: auth.CodeMissingParameter},
		{name: "X-TC-Timestamp fractional", edit: setHeader("X-TC-Timestamp", ts+".5"), want: auth.CodeSignatureFailure},
		{name: "X-TC-Timestamp signed", edit: setHeader("X-TC-Timestamp", "+"+ts), want: auth.CodeSignatureFailure},
		{name: "X-TC-Timestamp negative", edit: setHeader("X-TC-Timestamp", "-1"), want: auth.CodeSignatureFailure},
		{name: "X-TC-Timestamp in milliseconds", edit: setHeader("X-TC-Timestamp", ts+"000"), want: auth.CodeSignatureExpire},
		{name: "X-TC-Timestamp huge", edit: setHeader("X-TC-Timestamp", "99999999999999999999999"), want: auth.CodeSignatureFailure},
		{name: "algorithm HMAC-SHA256", edit: setAuth("HMAC-SHA256 Credential=" + cred + ", SignedHeaders=" + signedHeaders + ", Signature=" + sig), want: auth.CodeSignatureFailure},
		{name: "algorithm in lower case", edit: setAuth("tc3-hmac-sha256 Credential=" + cred + ", SignedHeaders=" + signedHeaders + ", Signature=" + sig), want: auth.CodeSignatureFailure},
		{name: "no space after algorithm", edit: setAuth("TC3-HMAC-SHA256Credential=" + cred + ", SignedHeaders=" + signedHeaders + ", Signature=" + sig), want: auth.CodeSignatureFailure},
		{name: "algorithm only", edit: setAuth("TC3-HMAC-SHA256 "), want: auth.CodeSignatureFailure},
		{name: "bearer token", edit: setAuth("Bearer " + sig), want: auth.CodeSignatureFailure},
		{name: "Credential missing", edit: setAuth("TC3-HMAC-SHA256 SignedHeaders=" + signedHeaders + ", Signature=" + sig), want: auth.CodeSignatureFailure},
		{name: "SignedHeaders missing", edit: setAuth("TC3-HMAC-SHA256 Credential=" + cred + ", Signature=" + sig), want: auth.CodeSignatureFailure},
		{name: "Signature missing", edit: setAuth("TC3-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=" + signedHeaders), want: auth.CodeSignatureFailure},
		{name: "Signature repeated", edit: setAuth("TC3-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=" + signedHeaders + ", Signature=" + sig + ", Signature=" + sig), want: auth.CodeSignatureFailure},
		{name: "unknown field", edit: setAuth("TC3-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=" + signedHeaders + ", Signature=" + sig + ", Nonce=1"), want: auth.CodeSignatureFailure},
		{name: "trailing comma", edit: setAuth("TC3-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=" + signedHeaders + ", Signature=" + sig + ","), want: auth.CodeSignatureFailure},
		{name: "Signature 63 digits", edit: setAuth("TC3-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=" + signedHeaders + ", Signature=" + sig[1:]), want: auth.CodeSignatureFailure},
		{name: "Signature not hex", edit: setAuth("TC3-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=" + signedHeaders + ", Signature=" + sig[1:] + "g"), want: auth.CodeSignatureFailure},
		{name: "Signature flipped", edit: setAuth("TC3-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=" + signedHeaders + ", Signature=" + flipHex(sig)), want: auth.CodeSignatureFailure},
		{name: "scope without tc3_request", edit: setAuth("TC3-HMAC-SHA256 Credential=" + cred[:len(cred)-len("/tc3_request")] + ", SignedHeaders=" + signedHeaders + ", Signature=" + sig), want: auth.CodeSignatureFailure},
		{name: "scope with an extra segment", edit: setAuth("TC3-HMAC-SHA256 Credential=" + cred + "/x, SignedHeaders=" + signedHeaders + ", Signature=" + sig), want: auth.CodeSignatureFailure},
		{name: "scope with empty SecretId", edit: setAuth("TC3-HMAC-SHA256 Credential=" + cred[len(testID):] + ", SignedHeaders=" + signedHeaders + ", Signature=" + sig), want: auth.CodeSignatureFailure},
		{name: "SignedHeaders empty", edit: setAuth("TC3-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=, Signature=" + sig), want: auth.CodeSignatureFailure},
		{name: "SignedHeaders in upper case", edit: setAuth("TC3-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=Content-Type;Host, Signature=" + sig), want: auth.CodeSignatureFailure},
		{name: "SignedHeaders with an empty name", edit: setAuth("TC3-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=content-type;;host, Signature=" + sig), want: auth.CodeSignatureFailure},
		{name: "SignedHeaders with a duplicate", edit: setAuth("TC3-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=content-type;host;host, Signature=" + sig), want: auth.CodeSignatureFailure},

		// Scope and signed headers that fit the signature but not the request.
		{name: "scope names cvm, validly signed", sign: func(s *signSpec) { s.service = "cvm" }, want: auth.CodeSignatureFailure},
		{name: "scope date a day early, validly signed", sign: func(s *signSpec) { s.date = at.UTC().AddDate(0, 0, -1).Format(time.DateOnly) }, want: auth.CodeSignatureFailure},
		{name: "scope date a day late, validly signed", sign: func(s *signSpec) { s.date = at.UTC().AddDate(0, 0, 1).Format(time.DateOnly) }, want: auth.CodeSignatureFailure},
		{name: "host not signed, validly signed", sign: func(s *signSpec) { s.headers = s.headers[:1] }, want: auth.CodeSignatureFailure},
		{name: "content-type not signed, validly signed", sign: func(s *signSpec) { s.headers = s.headers[1:] }, want: auth.CodeSignatureFailure},
		{name: "x-tc-action signed too", sign: func(s *signSpec) {
			s.headers = append(s.headers, [2]string{"x-tc-action", captured.header.Get("X-TC-Action")})
		}},
		{name: "signed x-tc-action changed", sign: func(s *signSpec) {
			s.headers = append(s.headers, [2]string{"x-tc-action", captured.header.Get("X-TC-Action")})
		}, edit: setHeader("X-TC-Action", "ScheduleKeyDeletion"), want: auth.CodeSignatureFailure},
		{name: "signed header absent", sign: func(s *signSpec) {
			s.headers = append(s.headers, [2]string{"x-keyhaven-test", ""})
		}, want: auth.CodeSignatureFailure},
		{name: "UNSIGNED-PAYLOAD header added", edit: setHeader("X-TC-Content-SHA256", "UNSIGNED-PAYLOAD"), want: auth.CodeSignatureFailure},
		{name: "UNSIGNED-PAYLOAD signed as the SDK does", sign: func(s *signSpec) { s.payloadHash = sha256hex("UNSIGNED-PAYLOAD") },
			edit: setHeader("X-TC-Content-SHA256", "UNSIGNED-PAYLOAD"), want: auth.CodeSignatureFailure},

		// Keys and clocks.
		{name: "other SecretKey", sign: func(s *signSpec) { s.secret = "wrongSecret" }, want: auth.CodeSignatureFailure},
		{name: "unknown SecretId", sign: func(s *signSpec) { s.id = unknownID }, want: auth.CodeSecretIDNotFound},
		{name: "disabled SecretId", sign: func(s *signSpec) { s.id, s.secret = disabledID, disabledSecret }, want: auth.CodeSecretIDNotFound},
		{name: "timestamp 5 minutes old", sign: shiftTime(-5 * time.Minute)},
		{name: "timestamp 5 minutes ahead", sign: shiftTime(5 * time.Minute)},
		{name: "timestamp 6 minutes old", sign: shiftTime(-6 * time.Minute), want: auth.CodeSignatureExpire},
		{name: "timestamp 6 minutes ahead", sign: shiftTime(6 * time.Minute), want: auth.CodeSignatureExpire},
	}
	v := auth.NewTC3Verifier(lookupOf(testSecret), func() time.Time { return at }, auth.TC3Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := captured.clone()
			if tc.sign != nil {
				spec := specOf(w)
				tc.sign(&spec)
				w.header.Set("X-TC-Timestamp", spec.timestamp)
				w.header.Set("Authorization", spec.authorization())
			}
			if tc.edit != nil {
				tc.edit(&w)
			}
			_, err := v.Verify(context.Background(), w.request(), w.body, "kms")
			checkAuthError(t, "Verify("+tc.name+")", err, tc.want)
		})
	}
}

// flipHex changes the first digit of a hex string.
func flipHex(s string) string {
	if s[0] == '0' {
		return "1" + s[1:]
	}
	return "0" + s[1:]
}
