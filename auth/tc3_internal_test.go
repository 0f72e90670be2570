package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
)

// TestHMACSHA256 holds the allocation-free HMAC to crypto/hmac.
func TestHMACSHA256(t *testing.T) {
	var key [sha256.Size]byte
	for i := range key {
		key[i] = byte(7*i + 1)
	}
	msg := bytes.Repeat([]byte("TC3-HMAC-SHA256\n"), 40)
	for n := 0; n <= len(msg); n += 13 {
		got := hmacSHA256(&key, msg[:n])
		m := hmac.New(sha256.New, key[:])
		m.Write(msg[:n])
		if want := m.Sum(nil); !bytes.Equal(got[:], want) {
			t.Errorf("hmacSHA256(key, %d bytes) = %x, want %x", n, got, want)
		}
	}
}

// TestDeriveTC3SigningKey checks the key chain against the SDK's algorithm
// recomputed step by step, including a secret longer than the HMAC block.
func TestDeriveTC3SigningKey(t *testing.T) {
	mac := func(key []byte, msg string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	for _, secret := range []string{"Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", strings.Repeat("s", 100)} {
		got := deriveTC3SigningKey([]byte(secret), "2019-02-25", "cvm")
		want := mac(mac(mac([]byte("TC3"+secret), "2019-02-25"), "cvm"), "tc3_request")
		if !bytes.Equal(got[:], want) {
			t.Errorf("deriveTC3SigningKey(%d-byte secret) = %x, want %x", len(secret), got, want)
		}
	}
}

// TestKeyCache checks the bound, the eviction and that a changed secret is
// never served from the cache.
func TestKeyCache(t *testing.T) {
	c := newKeyCache(3)
	for i := range 10 {
		id := "AKID" + strconv.Itoa(i)
		secret := []byte("secret" + strconv.Itoa(i))
		want := deriveTC3SigningKey(secret, "2026-01-01", "kms")
		for range 2 { // miss, then hit
			if got := c.signingKey(id, "2026-01-01", "kms", secret); got != want {
				t.Errorf("signingKey(%s) = %x, want %x", id, got, want)
			}
		}
		if n := c.len(); n > 3 {
			t.Fatalf("after %d SecretIds the cache holds %d keys, want at most 3", i+1, n)
		}
	}

	steps := []struct{ secret, date, service string }{
		{"old", "2026-01-01", "kms"},
		{"new", "2026-01-01", "kms"}, // rotated secret: must not get old's key
		{"new", "2026-01-02", "kms"}, // next day
		{"new", "2026-01-02", "cvm"}, // other service
		{"old", "2026-01-01", "kms"}, // rotated back
	}
	for _, s := range steps {
		want := deriveTC3SigningKey([]byte(s.secret), s.date, s.service)
		if got := c.signingKey("AKIDrotate", s.date, s.service, []byte(s.secret)); got != want {
			t.Errorf("signingKey(AKIDrotate, %s, %s) with secret %q = %x, want %x", s.date, s.service, s.secret, got, want)
		}
	}
}

// formatTC3Authorization is the inverse of parseTC3Authorization.
func formatTC3Authorization(a tc3Authorization) string {
	return tc3Algorithm + " Credential=" + a.secretID + "/" + a.date + "/" + a.service + "/" + tc3Terminator +
		", SignedHeaders=" + a.signedHeaders + ", Signature=" + hex.EncodeToString(a.signature[:])
}

// FuzzParseAuthorization checks that the parser never panics, that whatever
// it accepts survives a format/parse round trip, and that every well-formed
// header built from valid parts parses back to those parts.
func FuzzParseAuthorization(f *testing.F) {
	sig := bytes.Repeat([]byte{0xab}, sha256.Size)
	f.Add("TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168",
		"AKIDEXAMPLE", "kms", "content-type;host;x-tc-action", sig)
	f.Add("TC3-HMAC-SHA256   Credential=a/1/b/tc3_request,SignedHeaders=host , Signature=00", "a", "b", "host", sig)
	f.Add("TC3-HMAC-SHA256 Signature=, Credential=//, SignedHeaders=;", "", "", "", []byte{})
	f.Add("TC3-HMAC-SHA256 Credential=a/2024-01-01/kms/tc3_request, SignedHeaders=h;h, Signature=x,", "a.b_c-D", "k-m-s", "a;b;c", sig)
	f.Fuzz(func(t *testing.T, header, id, service, signedHeaders string, sigBytes []byte) {
		if a, err := parseTC3Authorization(header); err == nil {
			again := formatTC3Authorization(a)
			b, err := parseTC3Authorization(again)
			if err != nil || b != a {
				t.Fatalf("parse(%q) = %+v; parse(format) of it = %+v, %v; want the same, nil", header, a, b, err)
			}
		}

		if !validToken(id, maxSecretIDLen, isSecretIDByte) || !validToken(service, maxServiceLen, isServiceByte) ||
			!validSignedHeaders(signedHeaders) || len(sigBytes) < sha256.Size {
			return
		}
		want := tc3Authorization{secretID: id, date: "2026-01-01", service: service, signedHeaders: signedHeaders}
		copy(want.signature[:], sigBytes)
		h := formatTC3Authorization(want)
		got, err := parseTC3Authorization(h)
		if err != nil || got != want {
			t.Fatalf("parse(%q) = %+v, %v; want %+v, nil", h, got, err, want)
		}
	})
}
