// Package server wires Keyhaven together and serves it: it opens the store
// and the root of trust, builds kms.Service, bootstraps the root
// credentials, and serves the wire dialects over HTTP or HTTPS with request
// limits and graceful shutdown. It holds no business rules.
package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/keyhaven/keyhaven/api/tencent"
	"github.com/keyhaven/keyhaven/audit"
	"github.com/keyhaven/keyhaven/auth"
	"github.com/keyhaven/keyhaven/backend/pkcs11"
	"github.com/keyhaven/keyhaven/backend/software"
	"github.com/keyhaven/keyhaven/kms"
	"github.com/keyhaven/keyhaven/seal"
	"github.com/keyhaven/keyhaven/seal/pkcs11seal"
	"github.com/keyhaven/keyhaven/store/bolt"
)

// Config is everything a server is started with.
type Config struct {
	DataDir string // holds keyhaven.db, root.key (or root.key.wrapped) and root-credentials.json
	Listen  string // host:port
	Region  string
	TLSCert string // PEM files; HTTPS when both are set
	TLSKey  string
	Suite   kms.Suite
	// Dev prints the root credentials at first start. Never use it in
	// production.
	Dev bool
	// RootKey, if set (base64 of 32 bytes, KEYHAVEN_ROOT_KEY), is the root key
	// instead of DataDir/root.key.
	RootKey string
	// RootSecretID and RootSecretKey, if set, are the root access key made at
	// first start instead of random ones.
	RootSecretID  string
	RootSecretKey string
	Logger        *slog.Logger
	// Terminal receives what Dev mode prints (default os.Stdout).
	Terminal io.Writer
	// Clock, if set, replaces the system clock of the key lifecycle (tests,
	// and --dev's KEYHAVEN_DEV_CLOCK_OFFSET). Request signatures are always
	// checked against the real clock, which clients share.
	Clock kms.Clock
	// SchedulerInterval is how often the background jobs (rotation, scheduled
	// deletion) look for due work; default one minute.
	SchedulerInterval time.Duration
	// Rand, if set, replaces crypto/rand as the source of key material,
	// nonces and credentials (tests).
	Rand io.Reader
	// HSM, if its Module is set, is the PKCS #11 token that makes
	// HSM-protected keys.
	HSM HSMConfig
	// Audit configures the audit trail under DataDir/audit: its Mode is
	// durable by default ("memory" only for benchmarks); tests inject faults
	// through its OpenFile.
	Audit audit.Options
	// RootSeal says where the root key comes from: RootSealFile (the
	// default: DataDir/root.key, or RootKey) or RootSealPKCS11
	// (DataDir/root.key.wrapped, wrapped by a key in the HSM token).
	RootSeal string
}

// HSMConfig names the PKCS #11 token of HSM-protected keys.
type HSMConfig struct {
	Module     string // path of the PKCS #11 library
	TokenLabel string // the token's label (slot numbers are not stable)
	PINFile    string // file holding the user PIN; a trailing newline is ignored
	Sessions   int    // session pool size (default pkcs11.DefaultSessions)
}

// Root seal providers (Config.RootSeal).
const (
	RootSealFile   = "file"
	RootSealPKCS11 = "pkcs11"
)

// Server is a running Keyhaven.
type Server struct {
	// Node names this server to the other servers on its store (the
	// scheduler lease holder).
	Node    string
	Service *kms.Service
	// Root is the root account; its SecretKey is set only at first start.
	Root     kms.RootCredentials
	store    kms.Store
	hsm      *pkcs11.Backend // nil without an HSM
	audit    *audit.Log
	http     *http.Server
	log      *slog.Logger
	tls      bool
	interval time.Duration
	stop     context.CancelFunc
	jobsDone chan struct{}
}

// CredentialsFile is the name, in the data dir, of the file that receives the
// root credentials at first start.
const CredentialsFile = "root-credentials.json"

// Open prepares a server: it creates the data dir, opens the store and the
// root key, and makes the root credentials on first start. Serve starts it.
func Open(ctx context.Context, cfg Config) (_ *Server, err error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.SchedulerInterval <= 0 {
		cfg.SchedulerInterval = time.Minute
	}
	if cfg.Region == "" {
		return nil, errors.New("server: a region is required")
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("server: give both --tls-cert and --tls-key, or neither")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("server: data dir: %w", err)
	}
	hsm, err := openHSM(cfg.HSM, cfg.Rand)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil && hsm != nil {
			hsm.Close()
		}
	}()
	rootKey, err := loadRootKey(ctx, cfg, hsm, log)
	if err != nil {
		return nil, err
	}
	defer clear(rootKey)
	backend, err := software.New(rootKey, cfg.Rand)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	store, err := bolt.Open(filepath.Join(cfg.DataDir, "keyhaven.db"))
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	defer func() {
		if err != nil {
			store.Close()
		}
	}()
	kcfg := kms.Config{Store: store, Backend: backend, Sealer: backend.Sealer(), Suite: cfg.Suite, Clock: cfg.Clock, Rand: cfg.Rand}
	if hsm != nil {
		kcfg.HSM = hsm
		log.Info("HSM protection available", "module", cfg.HSM.Module, "token", hsm.Token())
	}
	svc, err := kms.New(kcfg)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	credPath := filepath.Join(cfg.DataDir, CredentialsFile)
	deliver := func(c kms.RootCredentials) error {
		if cfg.RootSecretID != "" {
			return nil // the operator chose them and has them
		}
		return writeCredentials(credPath, c)
	}
	root, created, err := svc.Bootstrap(ctx, cfg.RootSecretID, []byte(cfg.RootSecretKey), deliver)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	if created {
		if cfg.RootSecretID == "" {
			log.Info("created the root account; its credentials are in a file readable only by this user", "account", root.AccountID, "file", credPath)
		} else {
			log.Info("created the root account with the access key from the environment", "account", root.AccountID, "secret_id", root.SecretID)
		}
		if cfg.Dev {
			term := cfg.Terminal
			if term == nil {
				term = os.Stdout
			}
			fmt.Fprintf(term, "\nDEVELOPMENT SERVER — root credentials (shown once):\n  AccountId: %s\n  SecretId:  %s\n  SecretKey: %s\n\n",
				root.AccountID, root.SecretID, string(root.SecretKey))
		}
	}

	verifier := auth.NewTC3Verifier(func(ctx context.Context, secretID string) (auth.Credential, error) {
		c, err := svc.Credential(ctx, secretID)
		switch {
		case errors.Is(err, kms.ErrAccessKeyNotFound):
			return auth.Credential{}, fmt.Errorf("%w: %w", auth.ErrUnknownSecretID, err)
		case errors.Is(err, kms.ErrAccessKeyInactive):
			return auth.Credential{}, fmt.Errorf("%w: %w", auth.ErrInactive, err)
		case err != nil:
			return auth.Credential{}, err
		}
		return auth.Credential{SecretID: c.SecretID, Account: c.Account, User: c.User, Secret: c.Secret}, nil
	}, nil, auth.TC3Options{}) // signatures are checked against the real clock, which clients share

	node, err := loadNodeID(filepath.Join(cfg.DataDir, "node-id"), cfg.Rand)
	if err != nil {
		return nil, err
	}
	auditDir := filepath.Join(cfg.DataDir, "audit")
	trail, err := audit.Open(auditDir, node, cfg.Audit)
	if err != nil {
		return nil, fmt.Errorf("server: audit trail: %w", err)
	}
	defer func() {
		if err != nil {
			trail.Close()
		}
	}()
	s := &Server{
		Node:     node,
		audit:    trail,
		Service:  svc,
		Root:     root,
		store:    store,
		hsm:      hsm,
		log:      log,
		interval: cfg.SchedulerInterval,
		http: NewHTTP(cfg.Listen, tencent.New(tencent.Config{
			Service: svc, Verifier: verifier, Region: cfg.Region, Logger: log, Audit: trail, AuditDir: auditDir,
		}), log),
	}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("server: TLS: %w", err)
		}
		s.http.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		s.tls = true
	}
	return s, nil
}

// loadNodeID reads this server's node id (it names the server's audit chain
// and scheduler lease), making one on first start.
func loadNodeID(path string, rand io.Reader) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("server: node id: %w", err)
	}
	raw := make([]byte, 8)
	if _, err := io.ReadFull(rand, raw); err != nil {
		return "", fmt.Errorf("server: node id: %w", err)
	}
	id := fmt.Sprintf("%x", raw)
	if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("server: node id: %w", err)
	}
	return id, nil
}

// NewHTTP returns the HTTP server every Keyhaven listener runs: its timeouts
// and limits, the API at POST / and GET /healthz. The benchmark's no-op
// ceiling uses it too, so both measure the same stack.
func NewHTTP(addr string, api http.Handler, log *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("POST /{$}", api)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	return &http.Server{
		Addr:              addr,
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// openHSM opens the PKCS #11 backend if a module is configured, and
// returns nil otherwise. Its errors name the module and token, never the
// PIN.
func openHSM(cfg HSMConfig, rand io.Reader) (*pkcs11.Backend, error) {
	if cfg.Module == "" {
		if cfg.TokenLabel != "" || cfg.PINFile != "" {
			return nil, errors.New("server: --hsm-token-label and --hsm-pin-file need --hsm-module")
		}
		return nil, nil
	}
	if cfg.TokenLabel == "" || cfg.PINFile == "" {
		return nil, errors.New("server: --hsm-module needs --hsm-token-label and --hsm-pin-file")
	}
	pin, err := os.ReadFile(cfg.PINFile)
	if err != nil {
		return nil, fmt.Errorf("server: HSM PIN file: %w", err)
	}
	defer clear(pin)
	trimmed := bytes.TrimSuffix(bytes.TrimSuffix(pin, []byte("\n")), []byte("\r"))
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("server: HSM PIN file %s is empty", cfg.PINFile)
	}
	b, err := pkcs11.Open(pkcs11.Config{Module: cfg.Module, TokenLabel: cfg.TokenLabel, PIN: string(trimmed), Sessions: cfg.Sessions, Rand: rand})
	if err != nil {
		return nil, fmt.Errorf("server: HSM: %w", err)
	}
	return b, nil
}

// loadRootKey takes the root key from the configured seal provider: the
// HSM-wrapped root.key.wrapped (RootSealPKCS11), or the configuration or
// the data dir's root.key (RootSealFile), creating the file on first start.
// It refuses to create a root key of one provider in a data dir that holds
// the other's, which would make every existing software key unreadable.
func loadRootKey(ctx context.Context, cfg Config, hsm *pkcs11.Backend, log *slog.Logger) ([]byte, error) {
	plain := filepath.Join(cfg.DataDir, "root.key")
	wrapped := filepath.Join(cfg.DataDir, pkcs11seal.FileName)
	switch cfg.RootSeal {
	case "", RootSealFile:
		if cfg.RootKey == "" && !exists(plain) && exists(wrapped) {
			return nil, fmt.Errorf("server: the data dir's root key is wrapped by an HSM (%s); start with --root-seal pkcs11 and its HSM", wrapped)
		}
	case RootSealPKCS11:
		if hsm == nil {
			return nil, errors.New("server: --root-seal pkcs11 needs an HSM (--hsm-module, --hsm-token-label, --hsm-pin-file)")
		}
		if cfg.RootKey != "" {
			return nil, errors.New("server: KEYHAVEN_ROOT_KEY is set, but --root-seal pkcs11 takes the root key from the HSM; unset one")
		}
		if exists(plain) && !exists(wrapped) {
			return nil, fmt.Errorf("server: the data dir has a plaintext root key (%s); it cannot switch to --root-seal pkcs11 in place", plain)
		}
		key, created, err := pkcs11seal.LoadOrCreate(ctx, hsm, wrapped, cfg.Rand)
		if err != nil {
			return nil, fmt.Errorf("server: root key: %w", err)
		}
		if created {
			log.Info("created a new root key wrapped by the HSM; back up the file, and the token's wrap key with the HSM's own backup", "file", wrapped, "token", hsm.Token(), "wrap_key", pkcs11seal.WrapKeyLabel)
		}
		return key, nil
	default:
		return nil, fmt.Errorf("server: --root-seal is file or pkcs11, not %q", cfg.RootSeal)
	}
	if cfg.RootKey != "" {
		key, err := seal.FromEnv(cfg.RootKey)
		if err != nil {
			return nil, fmt.Errorf("server: KEYHAVEN_ROOT_KEY: %w", err)
		}
		return key, nil
	}
	path := plain
	key, created, err := seal.LoadOrCreateFile(path, cfg.Rand)
	if err != nil {
		return nil, fmt.Errorf("server: root key: %w", err)
	}
	if created {
		log.Info("created a new root key; back it up: without it no key material can be opened", "file", path)
	}
	return key, nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func writeCredentials(path string, c kms.RootCredentials) error {
	b, err := json.MarshalIndent(struct {
		AccountId string
		SecretId  string
		SecretKey string
	}{c.AccountID, c.SecretID, string(c.SecretKey)}, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("server: write %s: %w", path, err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("server: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("server: write %s: %w", path, err)
	}
	return f.Close()
}

// runJobs runs the scheduler every interval until ctx ends. The lease it
// holds lasts three intervals, so a server that dies hands the jobs over to
// another within that time.
func (s *Server) runJobs(ctx context.Context) {
	defer close(s.jobsDone)
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		r, err := s.Service.RunScheduledJobs(ctx, s.Node, 3*s.interval)
		if err != nil && ctx.Err() == nil {
			s.log.Error("scheduled jobs", "err", err)
		}
		if len(r.Rotated) > 0 || len(r.Deleted) > 0 {
			s.log.Info("scheduled jobs", "rotated", r.Rotated, "deleted", r.Deleted)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Serve accepts connections on ln until Shutdown. It returns nil after a
// clean shutdown.
func (s *Server) Serve(ln net.Listener) error {
	scheme := "http"
	if s.tls {
		scheme = "https"
		ln = tls.NewListener(ln, s.http.TLSConfig)
	}
	s.log.Info("serving", "url", scheme+"://"+ln.Addr().String(), "node", s.Node)
	ctx, stop := context.WithCancel(context.Background())
	s.stop, s.jobsDone = stop, make(chan struct{})
	go s.runJobs(ctx)
	if err := s.http.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ListenAndServe listens on the configured address and serves.
func (s *Server) ListenAndServe() error {
	ln, err := net.Listen("tcp", s.http.Addr)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	return s.Serve(ln)
}

// Shutdown stops accepting requests, waits for those in flight, then closes
// the store and wipes cached key material.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	s.stopJobs()
	s.Service.Close()
	return errors.Join(err, s.audit.Close(), s.store.Close(), s.closeHSM())
}

// Close releases a server that was opened but never served.
func (s *Server) Close() error {
	s.stopJobs()
	s.Service.Close()
	return errors.Join(s.audit.Close(), s.store.Close(), s.closeHSM())
}

func (s *Server) closeHSM() error {
	if s.hsm == nil {
		return nil
	}
	return s.hsm.Close()
}

func (s *Server) stopJobs() {
	if s.stop != nil {
		s.stop()
		<-s.jobsDone
		s.stop = nil
	}
}
