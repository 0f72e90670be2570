// Package bolt is Keyhaven's embedded store: it implements kms.Store in a
// single bbolt file, the default for a one-node server. It owns that file's
// layout — one bucket per kind of record, values encoded as JSON records
// private to this package — and nothing else. It imports kms and bbolt only;
// it must not import a dialect, a backend or net/http.
//
// Every Update commits with fsync before it returns, so a crash loses nothing
// that was acknowledged. Only one process may open the file at a time.
package bolt

import (
	"context"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/keyhaven/keyhaven/kms"
)

// DefaultLockTimeout is how long Open waits for another process to release
// the file before it fails with ErrInUse.
const DefaultLockTimeout = time.Second

// ErrInUse is returned by Open when another process (typically a second
// server on the same data directory) holds the database file.
var ErrInUse = errors.New("database file is in use by another process")

// formatVersion is the on-disk layout this package reads and writes; Open
// refuses a file written in another layout.
const formatVersion = "1"

// Bucket names. Keys in the index buckets are built by the functions in
// record.go.
var (
	bucketMeta        = []byte("meta")         // "format" -> formatVersion
	bucketKeys        = []byte("keys")         // key id -> keyRecord
	bucketAliases     = []byte("aliases")      // account \x00 alias -> key id
	bucketAccountKeys = []byte("account_keys") // account \x00 create time id -> key id
	bucketVersions    = []byte("versions")     // key id + uint32 BE version -> versionRecord
	bucketAccessKeys  = []byte("access_keys")  // SecretId -> accessKeyRecord
	bucketSettings    = []byte("settings")     // name -> raw value
	bucketUsers       = []byte("users")        // account \x00 user id -> userRecord
	bucketPolicies    = []byte("policies")     // account \x00 uint64 BE id -> policyRecord
)

var _ kms.Store = (*Store)(nil)

// Store is a kms.Store kept in one bbolt file. It is safe for concurrent
// use; writers are serialised, readers run in parallel with them.
type Store struct {
	db *bbolt.DB
}

// Option changes how Open opens the file.
type Option func(*options)

type options struct {
	lockTimeout time.Duration
}

// WithLockTimeout sets how long Open waits for the file lock before it fails
// with ErrInUse (DefaultLockTimeout if not given). A timeout of zero or less
// keeps the default: Open never waits forever.
func WithLockTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.lockTimeout = d
		}
	}
}

// Open opens the store in the file at path, creating the file (mode 0600)
// and its buckets if needed; the directory must exist. It returns an error
// wrapping ErrInUse if another process holds the file for longer than the
// lock timeout, and an error if the file is not a Keyhaven store of this
// format.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{lockTimeout: DefaultLockTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	bo := *bbolt.DefaultOptions // NoSync stays false: commits are fsynced
	bo.Timeout = o.lockTimeout
	db, err := bbolt.Open(path, 0o600, &bo)
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("bolt: open %s: %w (lock not released within %v; is another keyhaven server using this data directory?)",
			path, ErrInUse, o.lockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	if err := db.Update(initBuckets); err != nil {
		db.Close()
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// initBuckets creates the buckets of a new file and checks the format of an
// existing one.
func initBuckets(btx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketMeta, bucketKeys, bucketAliases,
		bucketAccountKeys, bucketVersions, bucketAccessKeys, bucketSettings, bucketUsers, bucketPolicies} {
		if _, err := btx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	meta := btx.Bucket(bucketMeta)
	switch v := meta.Get([]byte("format")); {
	case v == nil:
		return meta.Put([]byte("format"), []byte(formatVersion))
	case string(v) != formatVersion:
		return fmt.Errorf("file has store format %q, this server reads %q", v, formatVersion)
	}
	return nil
}

// View runs fn in a read-only transaction and returns fn's error unchanged.
// Writes inside fn return an error. If ctx is already done, View returns an
// error wrapping ctx.Err() without calling fn.
func (s *Store) View(ctx context.Context, fn func(kms.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bolt: view: %w", err)
	}
	var fnErr error
	err := s.db.View(func(btx *bbolt.Tx) error {
		fnErr = fn(&tx{btx: btx})
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("bolt: view: %w", err)
	}
	return nil
}

// Update runs fn in a read-write transaction that is committed and fsynced
// if and only if fn returns nil; fn's error is returned unchanged, a commit
// failure wrapped. If ctx is already done, Update returns an error wrapping
// ctx.Err() without calling fn. Once fn has started, ctx is not consulted:
// the outcome depends on fn alone.
func (s *Store) Update(ctx context.Context, fn func(kms.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bolt: update: %w", err)
	}
	var fnErr error
	err := s.db.Update(func(btx *bbolt.Tx) error {
		fnErr = fn(&tx{btx: btx})
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("bolt: update: %w", err)
	}
	return nil
}

// Close waits for open transactions to end and releases the file and its
// lock. The Store must not be used afterwards.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bolt: close: %w", err)
	}
	return nil
}
