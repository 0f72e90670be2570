package auth

import (
	"crypto/sha256"
	"errors"
	"strings"
)

const (
	tc3Algorithm  = "TC3-HMAC-SHA256"
	tc3Terminator = "tc3_request"

	maxSecretIDLen     = 128
	maxServiceLen      = 64
	maxSignedHeaders   = 32
	maxHeaderNameLen   = 64
	tc3DateLen         = len("2006-01-02")
	tc3SignatureHexLen = 2 * sha256.Size
)

// tc3Authorization is a parsed TC3 Authorization header:
//
//	TC3-HMAC-SHA256 Credential=<SecretId>/<date>/<service>/tc3_request, SignedHeaders=<a;b>, Signature=<hex>
//
// Its strings are substrings of the header; parsing does not allocate.
type tc3Authorization struct {
	secretID      string
	date          string // yyyy-mm-dd, only its shape is checked here
	service       string
	signedHeaders string // names in [a-z0-9-], ';'-separated, no duplicates
	signature     [sha256.Size]byte
}

var (
	errAlgorithm     = errors.New("the signature algorithm must be TC3-HMAC-SHA256")
	errField         = errors.New("the Authorization header must hold exactly Credential, SignedHeaders and Signature")
	errCredential    = errors.New("the Credential must be <SecretId>/<date>/<service>/tc3_request")
	errSignedHeaders = errors.New("the SignedHeaders must be a ';'-separated list of lowercase header names")
	errSignature     = errors.New("the Signature must be 64 hexadecimal digits")
)

// parseTC3Authorization parses an Authorization header. Its errors are plain
// sentences naming what is malformed.
func parseTC3Authorization(h string) (tc3Authorization, error) {
	var a tc3Authorization
	rest, ok := strings.CutPrefix(h, tc3Algorithm)
	if !ok || rest == "" || rest[0] != ' ' {
		return a, errAlgorithm
	}
	var haveCredential, haveSignedHeaders, haveSignature bool
	for rest != "" {
		var field string
		field, rest, ok = strings.Cut(rest, ",")
		if ok && rest == "" {
			return a, errField // trailing comma
		}
		name, value, ok := strings.Cut(trimSpaces(field), "=")
		if !ok {
			return a, errField
		}
		switch {
		case name == "Credential" && !haveCredential:
			haveCredential = true
			if !parseCredentialScope(value, &a) {
				return a, errCredential
			}
		case name == "SignedHeaders" && !haveSignedHeaders:
			haveSignedHeaders = true
			if !validSignedHeaders(value) {
				return a, errSignedHeaders
			}
			a.signedHeaders = value
		case name == "Signature" && !haveSignature:
			haveSignature = true
			if !decodeHex32(&a.signature, value) {
				return a, errSignature
			}
		default:
			return a, errField
		}
	}
	if !haveCredential || !haveSignedHeaders || !haveSignature {
		return a, errField
	}
	return a, nil
}

// parseCredentialScope fills a's secretID, date and service from
// <SecretId>/<date>/<service>/tc3_request.
func parseCredentialScope(s string, a *tc3Authorization) bool {
	id, s, _ := strings.Cut(s, "/")
	date, s, _ := strings.Cut(s, "/")
	service, terminator, _ := strings.Cut(s, "/")
	if terminator != tc3Terminator ||
		!validToken(id, maxSecretIDLen, isSecretIDByte) ||
		len(date) != tc3DateLen || !validToken(date, tc3DateLen, isDateByte) ||
		!validToken(service, maxServiceLen, isServiceByte) {
		return false
	}
	a.secretID, a.date, a.service = id, date, service
	return true
}

// validSignedHeaders reports whether s is 1 to maxSignedHeaders distinct
// header names in [a-z0-9-], separated by ';'.
func validSignedHeaders(s string) bool {
	n := 0
	for rest := s; ; {
		name, after, more := strings.Cut(rest, ";")
		if !validToken(name, maxHeaderNameLen, isHeaderNameByte) {
			return false
		}
		if n++; n > maxSignedHeaders || signedHeadersContain(s[:len(s)-len(rest)], name) {
			return false
		}
		if !more {
			return true
		}
		rest = after
	}
}

// signedHeadersContain reports whether the ';'-separated list contains name.
func signedHeadersContain(list, name string) bool {
	for list != "" {
		var h string
		h, list, _ = strings.Cut(list, ";")
		if h == name {
			return true
		}
	}
	return false
}

func validToken(s string, maxLen int, ok func(byte) bool) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isLowerOrDigit(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

func isSecretIDByte(c byte) bool {
	return isLowerOrDigit(c) || 'A' <= c && c <= 'Z' || c == '-' || c == '_' || c == '.'
}

func isDateByte(c byte) bool       { return '0' <= c && c <= '9' || c == '-' }
func isServiceByte(c byte) bool    { return isLowerOrDigit(c) || c == '-' }
func isHeaderNameByte(c byte) bool { return isLowerOrDigit(c) || c == '-' }

// trimSpaces trims ASCII spaces, the only separator the header uses.
func trimSpaces(s string) string {
	for s != "" && s[0] == ' ' {
		s = s[1:]
	}
	for s != "" && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	return s
}

// decodeHex32 decodes exactly 64 hexadecimal digits of either case into dst.
func decodeHex32(dst *[sha256.Size]byte, s string) bool {
	if len(s) != tc3SignatureHexLen {
		return false
	}
	for i := range dst {
		hi, ok1 := fromHexChar(s[2*i])
		lo, ok2 := fromHexChar(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func fromHexChar(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
