// Command bench measures a real Keyhaven server over loopback: Encrypt,
// Decrypt and GenerateDataKey, and asymmetric signing, verification and RSA
// decryption, each driven by N concurrent keep-alive clients that sign every
// request with TC3-HMAC-SHA256, against the ceiling of a no-op handler behind
// the same net/http settings and, for the asymmetric operations, against the
// in-process cost of the bare primitive.
//
// Each server runs in a child process (this binary re-executed with
// -role=server), so the server's CPU time per request — the portable figure
// of DESIGN.md's performance bar — is read from /proc apart from the load
// generator's. It needs Linux, and only ever listens on and dials 127.0.0.1.
//
//	go run ./bench -d 5s -c 16 [-tls] [-json] [-cpuprofile /tmp/kh] [-hsm]
//
// With -hsm it also measures the same operations on HSM-protected keys in a
// SoftHSM2 token it makes in its temporary directory.
//
// It imports the server and auth packages, backend/pkcs11 (for its default
// session count), gmsm (SM2) and the standard library.
package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// config is what the flags ask for.
type config struct {
	conc       int
	dur        time.Duration
	requests   int64
	warmup     time.Duration
	ops        []string
	tls        bool
	json       bool
	cpuprofile string
	primDur    time.Duration
	auditConc  int
	// hsm also measures the operations of ops that have an HSM variant on
	// HSM-protected keys in a SoftHSM2 token (hsm.go).
	hsm         bool
	hsmModule   string
	hsmSessions int
}

// symmetricOps are the symmetric keyhaven operations the bench can drive.
var symmetricOps = []string{"Encrypt", "Decrypt", "GenerateDataKey"}

// knownOps are all the keyhaven operations the bench can drive, in their
// default order: the symmetric ones, then those of asymSpecs.
var knownOps = func() []string {
	ops := slices.Clone(symmetricOps)
	for _, s := range asymSpecs {
		ops = append(ops, s.name)
	}
	return ops
}()

func main() {
	if len(os.Args) > 1 && os.Args[1] == childFlag {
		if err := runChild(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench server:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, cfg)
	if rep != nil {
		if cfg.json {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			enc.Encode(rep)
		} else {
			rep.print(os.Stdout)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: FAIL:", err)
		stop()
		os.Exit(1)
	}
}

func parseFlags() (config, error) {
	var cfg config
	ops := flag.String("ops", strings.Join(knownOps, ","), "comma-separated operations to drive: "+strings.Join(knownOps, ", "))
	flag.IntVar(&cfg.conc, "c", 16, "concurrent clients, each on its own keep-alive connection")
	flag.DurationVar(&cfg.dur, "d", 5*time.Second, "measured duration of each operation")
	flag.Int64Var(&cfg.requests, "n", 0, "if > 0, measure this many requests per operation instead of -d")
	flag.DurationVar(&cfg.warmup, "warmup", time.Second, "unmeasured load before each operation")
	flag.BoolVar(&cfg.tls, "tls", false, "serve HTTPS with a self-signed certificate made at startup")
	flag.BoolVar(&cfg.json, "json", false, "print the results as JSON")
	flag.StringVar(&cfg.cpuprofile, "cpuprofile", "", "write the server's CPU profile of each measured operation to `PREFIX`.<op>.pprof")
	flag.DurationVar(&cfg.primDur, "primitive-d", time.Second, "time each asymmetric operation's bare primitive in-process for this long (0: skip)")
	flag.IntVar(&cfg.auditConc, "audit-c", 64, "after the other operations, run Encrypt at this concurrency with the durable audit trail and again with it in memory only, and report the ratio (0: skip)")
	flag.BoolVar(&cfg.hsm, "hsm", false, "after the software operations, measure those an HSM supports (all but SM2's) again on HSM-protected keys in a SoftHSM2 token made for the run; skipped with a message if SoftHSM2 is not installed")
	flag.StringVar(&cfg.hsmModule, "hsm-module", defaultHSMModule, "with -hsm, the SoftHSM2 PKCS #11 library")
	flag.IntVar(&cfg.hsmSessions, "hsm-sessions", 0, "with -hsm, the server's PKCS #11 session pool size (0: the server's default)")
	flag.Parse()
	if flag.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	if cfg.conc < 1 || cfg.conc > 4096 {
		return cfg, errors.New("-c is 1 to 4096")
	}
	if cfg.dur <= 0 && cfg.requests <= 0 {
		return cfg, errors.New("-d must be positive (or give -n)")
	}
	if cfg.hsmSessions < 0 {
		return cfg, errors.New("-hsm-sessions must not be negative")
	}
	for _, op := range strings.Split(*ops, ",") {
		op = strings.TrimSpace(op)
		if op == "" {
			continue
		}
		if !slices.Contains(knownOps, op) {
			return cfg, fmt.Errorf("unknown operation %q in -ops; known: %s", op, strings.Join(knownOps, ", "))
		}
		cfg.ops = append(cfg.ops, op)
	}
	return cfg, nil
}

// run starts the no-op server, measures it, stops it, then does the same
// for a keyhaven server and each operation in cfg.ops. It returns what it
// measured even when it fails.
func run(ctx context.Context, cfg config) (*report, error) {
	dir, err := os.MkdirTemp("", "keyhaven-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	var roots *x509.CertPool
	var tlsFlags []string
	if cfg.tls {
		certFile, keyFile, pool, err := selfSigned(dir)
		if err != nil {
			return nil, fmt.Errorf("TLS certificate: %w", err)
		}
		roots, tlsFlags = pool, []string{"-tls-cert=" + certFile, "-tls-key=" + keyFile}
	}
	rep := newReport(cfg)
	ticks := clockTicks()

	var tok *softToken
	if cfg.hsm {
		if tok, err = setupHSM(cfg, rep, dir); err != nil {
			return nil, err
		}
	}

	// The primitives' ceilings, measured first while the box is quiet.
	var prims map[string]*primitive
	if cfg.primDur > 0 {
		if prims, err = measurePrimitives(cfg.ops, cfg.primDur); err != nil {
			return nil, err
		}
	}

	// The ceiling: the same signed Encrypt request to a no-op handler.
	noopOp := &operation{
		name:   "noop (ceiling)",
		action: "Encrypt",
		body:   []byte(`{"KeyId":"00000000-0000-4000-8000-000000000000","Plaintext":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`),
		want:   []byte(`"RequestId"`),
	}
	err = withServer(kindNoop, cfg, roots, tlsFlags, nil, func(ch *child, t *target) error {
		r, err := measure(ctx, cfg, ch, t, noopOp, ticks, "noop")
		if r != nil {
			rep.add(r)
		}
		return err
	})
	if err != nil {
		return rep, err
	}

	if len(cfg.ops) == 0 {
		return rep, nil
	}
	flags := append(tlsFlags, "-data-dir="+filepath.Join(dir, "data"))
	err = withServer(kindKeyhaven, cfg, roots, flags, nil, func(ch *child, t *target) error {
		ops, err := prepare(t, cfg.ops, "")
		if err != nil {
			return fmt.Errorf("setup: %w", err)
		}
		for _, name := range cfg.ops {
			if err := ctx.Err(); err != nil {
				return err
			}
			r, err := measure(ctx, cfg, ch, t, ops[name], ticks, name)
			if r != nil {
				r.setPrimitive(prims[ops[name].primitive])
				rep.add(r)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if tok != nil {
		if err := measureHSM(ctx, cfg, rep, roots, tlsFlags, dir, ticks, tok, rep.Env.HSM.Sessions); err != nil {
			return rep, err
		}
	}
	if cfg.auditConc == 0 {
		return rep, nil
	}
	return rep, measureAudit(ctx, cfg, rep, roots, tlsFlags, dir, ticks)
}

// measureAudit runs Encrypt at cfg.auditConc clients against a server with
// the durable audit trail and one with the trail in memory only, on fresh
// data dirs, and records the ratio of their rates.
func measureAudit(ctx context.Context, cfg config, rep *report, roots *x509.CertPool, tlsFlags []string, dir string, ticks int64) error {
	c := cfg
	c.conc = cfg.auditConc
	rates := map[string]float64{}
	for _, mode := range []string{"durable", "memory"} {
		flags := append(slices.Clone(tlsFlags), "-data-dir="+filepath.Join(dir, "audit-"+mode), "-audit="+mode)
		err := withServer(kindKeyhaven, c, roots, flags, nil, func(ch *child, t *target) error {
			ops, err := prepare(t, []string{"Encrypt"}, "")
			if err != nil {
				return fmt.Errorf("setup: %w", err)
			}
			op := *ops["Encrypt"]
			op.name = "Encrypt audit=" + mode
			r, err := measure(ctx, c, ch, t, &op, ticks, "Encrypt-audit-"+mode)
			if r != nil {
				rep.add(r)
				rates[mode] = r.ReqPerSec
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	if rates["memory"] > 0 {
		rep.AuditRatio = rates["durable"] / rates["memory"]
	}
	return nil
}

// withServer runs a child of kind on a free loopback port, with the extra
// flags and environment variables, for the length of f.
func withServer(kind string, cfg config, roots *x509.CertPool, flags, env []string, f func(*child, *target) error) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	t := newTarget(addr, cfg.conc, roots)
	defer t.close()
	ch, err := startChild(kind, addr, t, env, flags...)
	if err != nil {
		return err
	}
	err = f(ch, t)
	t.close()
	if stopErr := ch.stop(); stopErr != nil {
		err = errors.Join(err, fmt.Errorf("%s server exit: %w", kind, stopErr))
	}
	return err
}

// measure warms ch up with op, then measures it: throughput and latency as
// the clients see them, and the CPU time ch and this process spent.
func measure(ctx context.Context, cfg config, ch *child, t *target, op *operation, ticks int64, profileName string) (*result, error) {
	if cfg.warmup > 0 {
		w := t.run(ctx, op, cfg.conc, cfg.warmup, 0, false)
		if w.errors > 0 {
			return nil, fmt.Errorf("%s warm-up: %d of %d requests failed; first: %w", op.name, w.errors, w.requests, w.firstErr)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pid := ch.cmd.Process.Pid
	if cfg.cpuprofile != "" {
		if err := ch.command(cmdProfileStart + " " + cfg.cpuprofile + "." + profileName + ".pprof"); err != nil {
			return nil, fmt.Errorf("start profile: %w", err)
		}
	}
	srv0, err := processCPU(pid, ticks)
	if err != nil {
		return nil, fmt.Errorf("server CPU: %w", err)
	}
	self0 := selfCPU()
	l := t.run(ctx, op, cfg.conc, cfg.dur, cfg.requests, true)
	self1 := selfCPU()
	srv1, err := processCPU(pid, ticks)
	if err != nil {
		return nil, fmt.Errorf("server CPU: %w", err)
	}
	if cfg.cpuprofile != "" {
		if err := ch.command(cmdProfileStop); err != nil {
			return nil, fmt.Errorf("stop profile: %w", err)
		}
	}
	r := newResult(op.name, cfg.conc, l, srv1-srv0, self1-self0)
	if l.errors > 0 {
		return r, fmt.Errorf("%s: %d of %d requests failed; first: %w", op.name, l.errors, l.requests, l.firstErr)
	}
	if l.requests == 0 {
		return r, fmt.Errorf("%s: no request completed", op.name)
	}
	return r, nil
}

// environment describes where the numbers were taken.
type environment struct {
	GoVersion   string `json:"go_version"`
	OS          string `json:"os"`
	NumCPU      int    `json:"num_cpu"`
	GOMAXPROCS  int    `json:"gomaxprocs"`
	TLS         bool   `json:"tls"`
	Concurrency int    `json:"concurrency"`
	Duration    string `json:"duration,omitempty"`
	Requests    int64  `json:"requests_per_op,omitempty"`
	Warmup      string `json:"warmup"`
	// HSM is set with -hsm.
	HSM *hsmInfo `json:"hsm,omitempty"`
}

func newReport(cfg config) *report {
	rep := &report{Env: environment{
		GoVersion:   runtime.Version(),
		OS:          runtime.GOOS + "/" + runtime.GOARCH,
		NumCPU:      runtime.NumCPU(),
		GOMAXPROCS:  runtime.GOMAXPROCS(0),
		TLS:         cfg.tls,
		Concurrency: cfg.conc,
		Requests:    cfg.requests,
		Warmup:      cfg.warmup.String(),
	}}
	if cfg.requests <= 0 {
		rep.Env.Duration = cfg.dur.String()
	}
	return rep
}
