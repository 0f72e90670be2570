// Command keyhaven is the Keyhaven key management service: `keyhaven server`
// runs it. This package only wires flags and the environment to server.Config.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/keyhaven/keyhaven/kms"
	"github.com/keyhaven/keyhaven/server"
)

func main() {
	if err := newRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "keyhaven:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "keyhaven",
		Short:         "Keyhaven, a self-hosted key management service",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServerCmd(), newAuditCmd())
	addClientCommands(root) // the client commands: cli_*.go
	return root
}

func newServerCmd() *cobra.Command {
	var (
		cfg   server.Config
		suite string
	)
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the KMS server",
		Long: `Run the KMS server. Every flag can also be set by the environment variable
KEYHAVEN_<FLAG> (upper case, '-' as '_'), for example KEYHAVEN_DATA_DIR.
The root key comes from <data-dir>/root.key (created on first start) unless
KEYHAVEN_ROOT_KEY holds it (base64 of 32 bytes), or, with --root-seal pkcs11,
from <data-dir>/root.key.wrapped, wrapped by a non-extractable key in the HSM
token. --hsm-module, --hsm-token-label and --hsm-pin-file enable keys with
protection level HSM. KEYHAVEN_ROOT_SECRET_ID and KEYHAVEN_ROOT_SECRET_KEY
choose the root access key at first start.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := flagsFromEnv(cmd.Flags()); err != nil {
				return err
			}
			switch kms.Suite(suite) {
			case kms.SuiteFIPS, kms.SuiteSM:
				cfg.Suite = kms.Suite(suite)
			default:
				return fmt.Errorf("--crypto-suite is fips or sm, not %q", suite)
			}
			if off, ok := os.LookupEnv("KEYHAVEN_DEV_CLOCK_OFFSET"); ok {
				if !cfg.Dev {
					return errors.New("KEYHAVEN_DEV_CLOCK_OFFSET moves the server's clock and is honoured only with --dev; unset it for a production server")
				}
				d, err := time.ParseDuration(off)
				if err != nil {
					return fmt.Errorf("KEYHAVEN_DEV_CLOCK_OFFSET: %w", err)
				}
				cfg.Clock = offsetClock(d)
			}
			cfg.RootKey = os.Getenv("KEYHAVEN_ROOT_KEY")
			cfg.RootSecretID = os.Getenv("KEYHAVEN_ROOT_SECRET_ID")
			cfg.RootSecretKey = os.Getenv("KEYHAVEN_ROOT_SECRET_KEY")
			cfg.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			cfg.Terminal = cmd.OutOrStdout()
			return runServer(cmd.Context(), cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", "./keyhaven-data", "directory of the embedded store, root key and root credentials")
	f.StringVar(&cfg.Listen, "listen", "127.0.0.1:8400", "address to listen on")
	f.StringVar(&cfg.Region, "region", "local", "the region this server serves; requests for others are refused")
	f.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate file; with --tls-key, serve HTTPS")
	f.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key file of --tls-cert")
	f.StringVar(&suite, "crypto-suite", string(kms.SuiteFIPS), "crypto suite of default symmetric keys: fips or sm")
	f.DurationVar(&cfg.SchedulerInterval, "scheduler-interval", time.Minute, "how often background jobs (rotation, scheduled deletion) look for due work")
	f.StringVar(&cfg.HSM.Module, "hsm-module", "", "PKCS #11 library of the HSM for HSM-protected keys, such as /usr/lib/softhsm/libsofthsm2.so")
	f.StringVar(&cfg.HSM.TokenLabel, "hsm-token-label", "", "label of the HSM token (with --hsm-module)")
	f.StringVar(&cfg.HSM.PINFile, "hsm-pin-file", "", "file holding the HSM token's user PIN; a trailing newline is ignored (with --hsm-module)")
	f.IntVar(&cfg.HSM.Sessions, "hsm-sessions", 8, "number of PKCS #11 sessions: HSM operations run in parallel up to this many")
	f.StringVar(&cfg.RootSeal, "root-seal", server.RootSealFile, "where the root key comes from: file (<data-dir>/root.key or KEYHAVEN_ROOT_KEY) or pkcs11 (<data-dir>/root.key.wrapped, wrapped by a key in the HSM token)")
	f.BoolVar(&cfg.Dev, "dev", false, "development server: prints the root credentials at first start and honours KEYHAVEN_DEV_CLOCK_OFFSET (never in production)")
	return cmd
}

// offsetClock is the system clock moved by a fixed offset (--dev only).
type offsetClock time.Duration

func (o offsetClock) Now() time.Time { return time.Now().Add(time.Duration(o)) }

// flagsFromEnv sets every flag not given on the command line from
// KEYHAVEN_<NAME> if that variable is set.
func flagsFromEnv(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil {
			return
		}
		name := "KEYHAVEN_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s: %w", name, e)
			}
		}
	})
	return err
}

func runServer(ctx context.Context, cfg server.Config) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.Open(ctx, cfg)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe() }()
	select {
	case err := <-done:
		return errors.Join(err, srv.Close())
	case <-ctx.Done():
	}
	cfg.Logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return errors.Join(srv.Shutdown(shutdownCtx), <-done)
}
