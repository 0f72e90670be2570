package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"
)

// appendStringToSign appends TC3's string to sign to dst:
//
//	TC3-HMAC-SHA256\nTimestamp\nDate/service/tc3_request\nhex(SHA-256(CanonicalRequest))
//
// where CanonicalRequest = Method\n/\nQuery\nHeaders\nSignedHeaders\nhex(SHA-256(body))
// and headers holds the "name:value\n" lines. scratch is spare room for the
// canonical request, so the signer and the verifier allocate nothing.
func appendStringToSign(dst, scratch []byte, method, query string, headers []byte, signedHeaders string, body []byte, timestamp, date, service string) []byte {
	cr := append(scratch, method...)
	cr = append(cr, "\n/\n"...)
	cr = append(cr, query...)
	cr = append(cr, '\n')
	cr = append(cr, headers...)
	cr = append(cr, '\n')
	cr = append(cr, signedHeaders...)
	cr = append(cr, '\n')
	bodySum := sha256.Sum256(body)
	cr = hex.AppendEncode(cr, bodySum[:])
	crSum := sha256.Sum256(cr)

	dst = append(dst, tc3Algorithm+"\n"...)
	dst = append(dst, timestamp...)
	dst = append(dst, '\n')
	dst = append(dst, date...)
	dst = append(dst, '/')
	dst = append(dst, service...)
	dst = append(dst, "/"+tc3Terminator+"\n"...)
	return hex.AppendEncode(dst, crSum[:])
}

// SignTC3 signs a POST request with a JSON body for service as the official
// Tencent Cloud SDK does: it sets Content-Type, X-TC-Timestamp and
// Authorization (signed headers content-type;host, host taken from r.Host or
// r.URL.Host). The caller sets X-TC-Action, X-TC-Version and X-TC-Region,
// which TC3 does not sign, and must send exactly body.
func SignTC3(r *http.Request, body []byte, service, secretID string, secret []byte, at time.Time) {
	const contentType = "application/json"
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	timestamp := strconv.FormatInt(at.Unix(), 10)
	date := at.UTC().Format(time.DateOnly)
	headers := make([]byte, 0, 64)
	headers = append(headers, "content-type:"+contentType+"\nhost:"...)
	headers = append(headers, host...)
	headers = append(headers, '\n')
	s := appendStringToSign(nil, nil, http.MethodPost, "", headers, "content-type;host", body, timestamp, date, service)
	key := deriveTC3SigningKey(secret, date, service)
	sig := hmacSHA256(&key, s)
	clear(key[:])
	r.Header.Set("Content-Type", contentType)
	r.Header.Set("X-TC-Timestamp", timestamp)
	r.Header.Set("Authorization", tc3Algorithm+" Credential="+secretID+"/"+date+"/"+service+"/"+tc3Terminator+
		", SignedHeaders=content-type;host, Signature="+hex.EncodeToString(sig[:]))
}
