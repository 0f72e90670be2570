package kms

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"
)

// Suite is the crypto suite a server runs for default symmetric keys.
type Suite string

// Crypto suites.
const (
	SuiteFIPS Suite = "fips" // AES-256, RSA, ECC
	SuiteSM   Suite = "sm"   // SM4, SM2, SM3
)

// Config holds the live objects a Service works with.
type Config struct {
	Store   Store
	Backend Backend // SOFTWARE protection: material sealed under the root key
	// HSM, if set, makes HSM-protected keys: material generated and used only
	// inside a hardware security module. Without it, asking for HSM
	// protection is ErrHSMUnavailable.
	HSM    Backend
	Sealer Sealer
	Suite  Suite     // default SuiteFIPS
	Clock  Clock     // default: the system clock
	Rand   io.Reader // default: crypto/rand
	// CacheSize bounds the number of keys whose opened material is kept in
	// memory (default 10000).
	CacheSize int
	// CacheTTL is how long a cached key is trusted before it is read again
	// (default 10s): a change made by another server on the same store takes
	// effect here within CacheTTL. Changes made through this Service take
	// effect at once.
	CacheTTL time.Duration
}

// Service is the KMS: every operation a dialect exposes is a method here.
// It is safe for concurrent use.
type Service struct {
	store    Store
	backend  Backend
	hsm      Backend
	sealer   Sealer
	suite    Suite
	clock    Clock
	rand     io.Reader
	keys     *keyCache
	cacheTTL time.Duration
	secrets  *secretCache
	policies *policyCache
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// New returns a Service over cfg. It fails if a required part is missing or
// the suite is not one this build serves.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Backend == nil || cfg.Sealer == nil {
		return nil, errors.New("kms: Store, Backend and Sealer are required")
	}
	if cfg.Suite == "" {
		cfg.Suite = SuiteFIPS
	}
	if cfg.Suite != SuiteFIPS && cfg.Suite != SuiteSM {
		return nil, fmt.Errorf("kms: unknown crypto suite %q; use %q or %q", cfg.Suite, SuiteFIPS, SuiteSM)
	}
	if cfg.Clock == nil {
		cfg.Clock = systemClock{}
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 10 * time.Second
	}
	return &Service{
		store:    cfg.Store,
		backend:  cfg.Backend,
		hsm:      cfg.HSM,
		sealer:   cfg.Sealer,
		suite:    cfg.Suite,
		clock:    cfg.Clock,
		rand:     cfg.Rand,
		keys:     newKeyCache(cfg.CacheSize),
		cacheTTL: cfg.CacheTTL,
		secrets:  newSecretCache(),
		policies: &policyCache{m: make(map[string]cachedPolicies)},
	}, nil
}

// Suite returns the crypto suite the service runs.
func (s *Service) Suite() Suite { return s.suite }

// Close drops every cached key, zeroing its material. It does not close the
// Store, which the caller owns.
func (s *Service) Close() {
	s.keys.clear()
	s.secrets.clear()
}

// now returns the clock's time in UTC at microsecond precision, the precision
// every store keeps.
func (s *Service) now() time.Time {
	return s.clock.Now().UTC().Truncate(time.Microsecond)
}

// openKey returns a key with its opened versions, from the cache or the
// store, holding a reference the caller must give back with s.keys.release.
// It returns ErrKeyNotFound for a key of another account.
func (s *Service) openKey(ctx context.Context, account, id string) (*cachedKey, error) {
	e, epoch := s.keys.acquire(id, s.clock.Now(), s.cacheTTL)
	if e == nil {
		loaded, err := s.loadKey(ctx, id)
		if err != nil {
			return nil, err
		}
		e = s.keys.put(loaded, epoch)
	}
	if e.key.Account != account {
		s.keys.release(e)
		return nil, fmt.Errorf("kms: key %s: %w", id, ErrKeyNotFound)
	}
	return e, nil
}

func (s *Service) loadKey(ctx context.Context, id string) (*cachedKey, error) {
	var (
		k        *Key
		versions []*KeyVersion
		loaded   = s.clock.Now()
	)
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if k, err = tx.Key(id); err != nil {
			return err
		}
		versions, err = tx.Versions(id)
		return err
	})
	if err != nil {
		return nil, err
	}
	e := &cachedKey{key: *k, versions: make(map[uint32]Material, len(versions)), loaded: loaded}
	for _, v := range versions {
		b, err := s.backendFor(k.ProtectionLevel)
		if err != nil {
			e.destroy()
			return nil, err
		}
		m, err := b.Open(ctx, v.KeyID, v.Version, k.Spec, v.Material)
		if err != nil {
			e.destroy()
			return nil, fmt.Errorf("kms: open key %s version %d: %w", id, v.Version, err)
		}
		e.versions[v.Version] = m
	}
	return e, nil
}

// backendFor returns the backend that protects keys of a protection level.
func (s *Service) backendFor(level ProtectionLevel) (Backend, error) {
	switch level {
	case ProtectionSoftware, "":
		return s.backend, nil
	case ProtectionHSM:
		if s.hsm == nil {
			return nil, fmt.Errorf("kms: %w", ErrHSMUnavailable)
		}
		return s.hsm, nil
	}
	return nil, fmt.Errorf("%w: protection level %q is SOFTWARE or HSM", ErrInvalidParameter, level)
}
