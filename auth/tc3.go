package auth

import (
	"context"
	"crypto/hmac"
	"errors"
	"net/http"
	"strings"
	"time"
)

// TC3MaxSkew is how far X-TC-Timestamp may be from the verifier's clock, in
// either direction.
const TC3MaxSkew = 5 * time.Minute

// DefaultTC3CacheSize is the signing-key cache bound used when
// TC3Options.CacheSize is zero.
const DefaultTC3CacheSize = 1024

// TC3Options tunes a TC3Verifier. The zero value is ready to use.
type TC3Options struct {
	// CacheSize bounds the derived signing keys kept in memory, one per
	// (SecretId, UTC date, service). Zero means DefaultTC3CacheSize.
	CacheSize int
}

// TC3Verifier checks Tencent Cloud API 3.0 request signatures
// (TC3-HMAC-SHA256) exactly as tencentcloud-sdk-go computes them. It is safe
// for concurrent use.
//
// It accepts POST (canonical query empty) and GET (canonical query is the
// request's raw query, which is how the SDK builds both the URL and the
// signature); any other method fails. The canonical URI is always "/", as in
// the SDK, so the path is not covered by the signature: route the Tencent
// dialect at "/" only.
type TC3Verifier struct {
	lookup Lookup
	now    func() time.Time
	keys   *keyCache
}

// NewTC3Verifier returns a verifier that resolves SecretIds with lookup and
// reads the time from now (time.Now if nil). lookup must not be nil.
func NewTC3Verifier(lookup Lookup, now func() time.Time, opts TC3Options) *TC3Verifier {
	if lookup == nil {
		panic("auth: NewTC3Verifier with nil Lookup")
	}
	if now == nil {
		now = time.Now
	}
	size := opts.CacheSize
	if size <= 0 {
		size = DefaultTC3CacheSize
	}
	return &TC3Verifier{lookup: lookup, now: now, keys: newKeyCache(size)}
}

// Verify checks r's TC3 signature over body for service (the credential
// scope's service name, e.g. "kms") and returns the signer's Credential.
//
// Every failure is an *Error:
//   - CodeMissingParameter if the Authorization or X-TC-Timestamp header is
//     absent;
//   - CodeSignatureExpire if X-TC-Timestamp is more than TC3MaxSkew from now;
//   - CodeSecretIDNotFound if lookup reports ErrUnknownSecretID or
//     ErrInactive (the *Error wraps the lookup's error);
//   - CodeInternalError if lookup fails otherwise (wrapped likewise);
//   - CodeSignatureFailure for everything else: a malformed Authorization
//     header or timestamp, another algorithm, a scope whose service or date
//     does not match, signed headers without content-type and host or naming
//     a header the request lacks, X-TC-Content-SHA256: UNSIGNED-PAYLOAD, an
//     unsupported method, or a signature that does not match.
func (v *TC3Verifier) Verify(ctx context.Context, r *http.Request, body []byte, service string) (Credential, error) {
	header := firstValue(r.Header, "Authorization")
	if header == "" {
		return Credential{}, &Error{Code: CodeMissingParameter, Message: "The Authorization header is missing."}
	}
	timestamp := firstValue(r.Header, "X-Tc-Timestamp")
	if timestamp == "" {
		return Credential{}, &Error{Code: CodeMissingParameter, Message: "The X-TC-Timestamp header is missing."}
	}
	a, err := parseTC3Authorization(header)
	if err != nil {
		return Credential{}, signatureFailure("The Authorization header is malformed: " + err.Error() + ".")
	}
	var query string
	switch r.Method {
	case http.MethodPost:
	case http.MethodGet:
		query = r.URL.RawQuery
	default:
		return Credential{}, signatureFailure("Only POST and GET requests can be signed with TC3-HMAC-SHA256.")
	}
	if a.service != service {
		return Credential{}, signatureFailure("The credential scope must name the service " + service + ".")
	}
	if !signedHeadersContain(a.signedHeaders, "content-type") || !signedHeadersContain(a.signedHeaders, "host") {
		return Credential{}, signatureFailure("SignedHeaders must include content-type and host.")
	}
	ts, ok := parseTimestamp(timestamp)
	if !ok {
		return Credential{}, signatureFailure("X-TC-Timestamp must be a Unix time in seconds.")
	}
	t := time.Unix(ts, 0).UTC()
	if d := v.now().Sub(t); d > TC3MaxSkew || d < -TC3MaxSkew {
		return Credential{}, &Error{Code: CodeSignatureExpire, Message: "X-TC-Timestamp is more than 5 minutes from the server's time."}
	}
	var dateBuf [16]byte
	if string(t.AppendFormat(dateBuf[:0], time.DateOnly)) != a.date {
		return Credential{}, signatureFailure("The credential scope date must be the UTC date of X-TC-Timestamp.")
	}
	if p := firstValue(r.Header, "X-Tc-Content-Sha256"); strings.EqualFold(trimSpaces(p), "UNSIGNED-PAYLOAD") {
		return Credential{}, signatureFailure("UNSIGNED-PAYLOAD is not accepted; the request body must be signed.")
	}

	cred, err := v.lookup(ctx, a.secretID)
	switch {
	case err == nil:
	case errors.Is(err, ErrInactive):
		return Credential{}, &Error{Code: CodeSecretIDNotFound, Message: "The SecretId is disabled.", Err: err}
	case errors.Is(err, ErrUnknownSecretID):
		return Credential{}, &Error{Code: CodeSecretIDNotFound, Message: "The SecretId is not found.", Err: err}
	default:
		return Credential{}, &Error{Code: CodeInternalError, Message: "The credential could not be looked up.", Err: err}
	}
	if len(cred.Secret) == 0 {
		return Credential{}, &Error{Code: CodeInternalError, Message: "The credential could not be looked up.", Err: errors.New("auth: lookup returned a credential without a secret")}
	}

	var hBuf, crBuf [256]byte
	headers, ok := appendCanonicalHeaders(hBuf[:0], r, a.signedHeaders)
	if !ok {
		return Credential{}, signatureFailure("A header named in SignedHeaders is missing from the request.")
	}
	var sBuf [256]byte
	s := appendStringToSign(sBuf[:0], crBuf[:0], r.Method, query, headers, a.signedHeaders, body, timestamp, a.date, service)

	key := v.keys.signingKey(a.secretID, a.date, service, cred.Secret)
	want := hmacSHA256(&key, s)
	clear(key[:])
	if !hmac.Equal(want[:], a.signature[:]) {
		return Credential{}, signatureFailure("The request signature does not match. Check the SecretKey and how the request is signed.")
	}
	return cred, nil
}

// appendCanonicalHeaders appends "name:value\n" for each name in the signed
// list, in its order: host from r.Host, others from their first header value,
// trimmed. It reports false if a signed header is absent.
func appendCanonicalHeaders(dst []byte, r *http.Request, signed string) ([]byte, bool) {
	for rest := signed; rest != ""; {
		var name string
		name, rest, _ = strings.Cut(rest, ";")
		var value string
		switch name {
		case "host":
			value = r.Host
		case "content-type":
			value = firstValue(r.Header, "Content-Type")
		default:
			var keyBuf [maxHeaderNameLen]byte
			vs := r.Header[string(canonicalHeaderKey(keyBuf[:0], name))]
			if len(vs) == 0 {
				return dst, false
			}
			value = vs[0]
		}
		if value == "" {
			return dst, false
		}
		dst = append(dst, name...)
		dst = append(dst, ':')
		dst = append(dst, trimSpaces(value)...)
		dst = append(dst, '\n')
	}
	return dst, true
}

// canonicalHeaderKey appends the net/http canonical form of a header name in
// [a-z0-9-]: "x-tc-action" becomes "X-Tc-Action".
func canonicalHeaderKey(dst []byte, name string) []byte {
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		upper = c == '-'
		dst = append(dst, c)
	}
	return dst
}

// firstValue is h.Get for a key already in canonical form.
func firstValue(h http.Header, key string) string {
	if vs := h[key]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// parseTimestamp parses 1 to 18 decimal digits, nothing else.
func parseTimestamp(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
