package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/keyhaven/keyhaven/audit"
	"github.com/keyhaven/keyhaven/server"
)

// childFlag is the first argument that makes the bench binary a server child.
const childFlag = "-role=server"

// Server kinds a child can run.
const (
	kindKeyhaven = "keyhaven"
	kindNoop     = "noop"
)

// The child's line protocol on stdin/stdout. It prints msgReady once it is
// listening, answers each command with msgOK (or "error: ..."), and shuts
// down gracefully when stdin reaches EOF, so it never outlives the parent.
const (
	msgReady         = "ready"
	msgOK            = "ok"
	cmdProfileStart  = "profile-start" // followed by a file name
	cmdProfileStop   = "profile-stop"
	childStopTimeout = 15 * time.Second
)

// runChild is the server side: it serves kind at addr until stdin closes.
func runChild(args []string) error {
	fs := flag.NewFlagSet("bench server", flag.ContinueOnError)
	kind := fs.String("kind", kindKeyhaven, "keyhaven or noop")
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	dataDir := fs.String("data-dir", "", "data dir of the keyhaven server")
	tlsCert := fs.String("tls-cert", "", "PEM certificate; with -tls-key, serve HTTPS")
	tlsKey := fs.String("tls-key", "", "PEM key of -tls-cert")
	auditMode := fs.String("audit", "durable", "audit trail of the keyhaven server: durable or memory")
	var hsm server.HSMConfig
	fs.StringVar(&hsm.Module, "hsm-module", "", "PKCS #11 library of the keyhaven server's HSM (none if empty)")
	fs.StringVar(&hsm.TokenLabel, "hsm-token-label", "", "label of the HSM token")
	fs.StringVar(&hsm.PINFile, "hsm-pin-file", "", "file holding the token's user PIN")
	fs.IntVar(&hsm.Sessions, "hsm-sessions", 0, "PKCS #11 session pool size (0: the server's default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	discard := slog.New(slog.DiscardHandler)

	var (
		serve    func(net.Listener) error
		shutdown func(context.Context) error
	)
	switch *kind {
	case kindKeyhaven:
		srv, err := server.Open(ctx, server.Config{
			DataDir:       *dataDir,
			Listen:        *addr,
			Region:        benchRegion,
			TLSCert:       *tlsCert,
			TLSKey:        *tlsKey,
			RootSecretID:  benchSecretID,
			RootSecretKey: benchSecretKey,
			Logger:        discard,
			Audit:         audit.Options{Mode: audit.Mode(*auditMode)},
			HSM:           hsm,
		})
		if err != nil {
			return err
		}
		serve, shutdown = srv.Serve, srv.Shutdown
	case kindNoop:
		hs := noopServer(*addr, discard)
		var tlsConfig *tls.Config
		if *tlsCert != "" {
			cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
			if err != nil {
				return fmt.Errorf("noop: TLS: %w", err)
			}
			tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		}
		serve = func(ln net.Listener) error {
			if tlsConfig != nil {
				ln = tls.NewListener(ln, tlsConfig) // as server.Serve does
			}
			if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		}
		shutdown = hs.Shutdown
	default:
		return fmt.Errorf("unknown server kind %q", *kind)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- serve(ln) }()
	fmt.Println(msgReady)

	commands := make(chan string)
	go func() {
		defer close(commands)
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			commands <- sc.Text()
		}
	}()
	var profile *os.File
	for {
		select {
		case err := <-served:
			return fmt.Errorf("serve: %w", err)
		case line, ok := <-commands:
			if !ok {
				if profile != nil {
					pprof.StopCPUProfile()
					profile.Close()
				}
				sctx, cancel := context.WithTimeout(ctx, childStopTimeout)
				defer cancel()
				return errors.Join(shutdown(sctx), <-served)
			}
			if err := command(line, &profile); err != nil {
				fmt.Println("error:", err)
				continue
			}
			fmt.Println(msgOK)
		}
	}
}

// command runs one line of the child protocol.
func command(line string, profile **os.File) error {
	name, arg, _ := strings.Cut(line, " ")
	switch name {
	case cmdProfileStart:
		if *profile != nil {
			return errors.New("a profile is already running")
		}
		f, err := os.Create(arg)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		*profile = f
	case cmdProfileStop:
		if *profile == nil {
			return errors.New("no profile is running")
		}
		pprof.StopCPUProfile()
		err := (*profile).Close()
		*profile = nil
		return err
	default:
		return fmt.Errorf("unknown command %q", name)
	}
	return nil
}

// noopResponse is the fixed body of every no-op response: the shape of a
// Tencent response with nothing in it but a RequestId.
var noopResponse = []byte(`{"Response":{"RequestId":"00000000-0000-4000-8000-000000000000"}}` + "\n")

// noopServer returns the server package's HTTP server whose API handler only
// reads the body and writes noopResponse: the ceiling of the HTTP stack.
func noopServer(addr string, log *slog.Logger) *http.Server {
	return server.NewHTTP(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, io.LimitReader(r.Body, 64<<10+1)); err != nil {
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		hdr := w.Header()
		hdr["Content-Type"] = []string{"application/json"}
		hdr["X-Tc-Requestid"] = []string{"00000000-0000-4000-8000-000000000000"}
		w.WriteHeader(http.StatusOK)
		w.Write(noopResponse)
	}), log)
}
