package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"strings"
	"sync"
)

// keyCache holds TC3 signing keys, which depend only on the secret, the UTC
// date and the service, so one derivation serves a SecretId for a whole day.
// Each entry remembers a fingerprint of the secret it was derived from, so a
// rotated secret is never answered from the cache. It holds at most max
// entries; a full cache evicts an arbitrary one, zeroing its key.
type keyCache struct {
	max int
	mu  sync.Mutex
	m   map[keyCacheID]*keyCacheEntry
}

type keyCacheID struct{ secretID, date, service string }

type keyCacheEntry struct {
	fingerprint [sha256.Size]byte // SHA-256 of the secret
	key         [sha256.Size]byte // the TC3 signing key
}

func newKeyCache(max int) *keyCache {
	return &keyCache{max: max, m: make(map[keyCacheID]*keyCacheEntry, min(max, 64))}
}

// signingKey returns the TC3 signing key of secret for date and service,
// deriving and caching it on a miss.
func (c *keyCache) signingKey(secretID, date, service string, secret []byte) [sha256.Size]byte {
	fp := sha256.Sum256(secret)
	id := keyCacheID{secretID, date, service}
	var key [sha256.Size]byte
	c.mu.Lock()
	e, ok := c.m[id]
	if ok {
		ok = subtle.ConstantTimeCompare(e.fingerprint[:], fp[:]) == 1
		key = e.key
	}
	c.mu.Unlock()
	if ok {
		return key
	}

	key = deriveTC3SigningKey(secret, date, service)
	fresh := &keyCacheEntry{fingerprint: fp, key: key}
	id = keyCacheID{strings.Clone(secretID), strings.Clone(date), strings.Clone(service)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[id]; ok {
		clear(old.key[:])
	} else if len(c.m) >= c.max {
		for victim, old := range c.m {
			clear(old.key[:])
			delete(c.m, victim)
			break
		}
	}
	c.m[id] = fresh
	return key
}

// len reports the number of cached keys.
func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// deriveTC3SigningKey computes the SDK's chain
// HMAC(HMAC(HMAC("TC3"+secret, date), service), "tc3_request").
func deriveTC3SigningKey(secret []byte, date, service string) [sha256.Size]byte {
	k := make([]byte, 0, len("TC3")+len(secret))
	k = append(append(k, "TC3"...), secret...)
	kDate := hmacSum(k, date)
	clear(k)
	kService := hmacSum(kDate[:], service)
	key := hmacSum(kService[:], tc3Terminator)
	clear(kDate[:])
	clear(kService[:])
	return key
}

func hmacSum(key []byte, msg string) [sha256.Size]byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	var out [sha256.Size]byte
	m.Sum(out[:0])
	return out
}

// hmacSHA256 is HMAC-SHA256 (RFC 2104) for a 32-byte key, written out so the
// per-request signature costs no allocation. A test holds it to crypto/hmac.
func hmacSHA256(key *[sha256.Size]byte, msg []byte) [sha256.Size]byte {
	const blockSize = 64
	var inner [blockSize + 256]byte
	b := inner[:blockSize]
	for i := range b {
		b[i] = 0x36
		if i < len(key) {
			b[i] ^= key[i]
		}
	}
	b = append(b, msg...)
	innerSum := sha256.Sum256(b)
	clear(b[:blockSize])

	var outer [blockSize + sha256.Size]byte
	for i := 0; i < blockSize; i++ {
		outer[i] = 0x5c
		if i < len(key) {
			outer[i] ^= key[i]
		}
	}
	copy(outer[blockSize:], innerSum[:])
	sum := sha256.Sum256(outer[:])
	clear(outer[:blockSize])
	return sum
}
