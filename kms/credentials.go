package kms

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"
	"time"
)

// RootCredentials are the root account and its first access key, made at the
// first start of a server.
type RootCredentials struct {
	AccountID string
	SecretID  string
	SecretKey SecretBytes
}

// Credential is what a SecretId stands for: the principal, and the secret
// that signs its requests.
type Credential struct {
	SecretID string
	Account  string
	User     string
	Secret   SecretBytes
}

const rootSetting = "root-account"

// Bootstrap makes the root account and its first access key if the server
// has none yet, and reports whether it did. A non-empty secretID and
// secretKey are used instead of random ones (for automation). deliver, if
// not nil, receives new credentials before they commit, so that a failure to
// hand them out (say, to write a file) makes nothing. On later starts
// Bootstrap returns the existing root account id and created=false; the
// secret is not returned again.
func (s *Service) Bootstrap(ctx context.Context, secretID string, secretKey []byte, deliver func(RootCredentials) error) (RootCredentials, bool, error) {
	var (
		creds   RootCredentials
		created bool
	)
	if (secretID == "") != (len(secretKey) == 0) {
		return creds, false, fmt.Errorf("%w: give both the root SecretId and SecretKey, or neither", ErrInvalidParameter)
	}
	err := s.store.Update(ctx, func(tx Tx) error {
		raw, err := tx.Setting(rootSetting)
		if err == nil {
			return json.Unmarshal(raw, &creds.AccountID)
		}
		if !errors.Is(err, ErrSettingNotFound) {
			return err
		}
		if creds.AccountID, err = randomDigits(s.rand, 12); err != nil {
			return err
		}
		if secretID == "" {
			if secretID, err = randomToken(s.rand, "AKID", 32); err != nil {
				return err
			}
			key, err := randomToken(s.rand, "", 32)
			if err != nil {
				return err
			}
			secretKey = []byte(key)
		}
		if _, err := tx.AccessKey(secretID); err == nil {
			return fmt.Errorf("%w: SecretId %s exists", ErrInvalidParameter, secretID)
		}
		sealed, err := s.sealer.Seal(secretKey, []byte("accesskey/"+secretID))
		if err != nil {
			return fmt.Errorf("kms: seal secret: %w", err)
		}
		ak := &AccessKey{
			SecretID: secretID, Account: creds.AccountID, User: creds.AccountID,
			SealedSecret: sealed, Status: AccessKeyActive, CreateTime: s.now(),
		}
		if err := tx.PutAccessKey(ak); err != nil {
			return err
		}
		raw, _ = json.Marshal(creds.AccountID)
		if err := tx.PutSetting(rootSetting, raw); err != nil {
			return err
		}
		creds.SecretID, creds.SecretKey, created = secretID, SecretBytes(secretKey), true
		if deliver != nil {
			return deliver(creds)
		}
		return nil
	})
	if err != nil {
		return RootCredentials{}, false, fmt.Errorf("kms: bootstrap: %w", err)
	}
	return creds, created, nil
}

// Credential resolves a SecretId for request verification. It returns
// ErrAccessKeyNotFound or ErrAccessKeyInactive. Resolved secrets are kept in
// memory so that the hot path does not read the store; the returned Secret
// must not be modified.
func (s *Service) Credential(ctx context.Context, secretID string) (Credential, error) {
	if c, ok := s.secrets.get(secretID, s.clock.Now(), s.cacheTTL); ok {
		return c, nil
	}
	var ak *AccessKey
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		ak, err = tx.AccessKey(secretID)
		return err
	})
	if err != nil {
		return Credential{}, err
	}
	if ak.Status != AccessKeyActive {
		return Credential{}, fmt.Errorf("kms: access key %s: %w", secretID, ErrAccessKeyInactive)
	}
	secret, err := s.sealer.Open(ak.SealedSecret, []byte("accesskey/"+secretID))
	if err != nil {
		return Credential{}, fmt.Errorf("kms: unseal access key %s: %w", secretID, err)
	}
	c := Credential{SecretID: secretID, Account: ak.Account, User: ak.User, Secret: secret}
	s.secrets.put(c, s.clock.Now())
	return c, nil
}

// secretCache keeps resolved access keys for the cache TTL, so that a key
// disabled through another server stops working here within it; changes
// made through this server clear it at once. Access keys are few, so it is
// not bounded.
type secretCache struct {
	mu sync.RWMutex
	m  map[string]cachedCredential
}

type cachedCredential struct {
	Credential
	loaded time.Time
}

func newSecretCache() *secretCache { return &secretCache{m: make(map[string]cachedCredential)} }

func (c *secretCache) get(id string, now time.Time, ttl time.Duration) (Credential, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	cred, ok := c.m[id]
	if !ok || now.Sub(cred.loaded) >= ttl {
		return Credential{}, false
	}
	return cred.Credential, true
}

func (c *secretCache) put(cred Credential, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[cred.SecretID] = cachedCredential{cred, now}
}

// clear drops every entry. It does not wipe the secrets: a request being
// verified may still hold one; the garbage collector takes them.
func (c *secretCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
}

const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomToken returns prefix followed by n characters drawn uniformly from
// tokenAlphabet.
func randomToken(rand io.Reader, prefix string, n int) (string, error) {
	b := []byte(prefix)
	max := big.NewInt(int64(len(tokenAlphabet)))
	for range n {
		i, err := randInt(rand, max)
		if err != nil {
			return "", err
		}
		b = append(b, tokenAlphabet[i])
	}
	return string(b), nil
}

// randomDigits returns n decimal digits, the first not zero.
func randomDigits(rand io.Reader, n int) (string, error) {
	b := make([]byte, n)
	for i := range b {
		lo, span := int64(0), int64(10)
		if i == 0 {
			lo, span = 1, 9
		}
		d, err := randInt(rand, big.NewInt(span))
		if err != nil {
			return "", err
		}
		b[i] = byte('0' + lo + d)
	}
	return string(b), nil
}

// randInt returns a uniform integer in [0, max) drawn from r.
func randInt(r io.Reader, max *big.Int) (int64, error) {
	n, err := rand.Int(r, max)
	if err != nil {
		return 0, fmt.Errorf("kms: random: %w", err)
	}
	return n.Int64(), nil
}
