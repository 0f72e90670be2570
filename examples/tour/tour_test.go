package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/keyhaven/keyhaven/server"
)

// TestTour runs the tour against a real server on a loopback port.
func TestTour(t *testing.T) {
	srv, err := server.Open(context.Background(), server.Config{
		DataDir: t.TempDir(), Region: "local",
		RootSecretID: "AKIDtour000000000000000000000000000", RootSecretKey: "tour-secret-key-0000000000000000",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	var out strings.Builder
	if err := tour(&out, ln.Addr().String(), "AKIDtour000000000000000000000000000", "tour-secret-key-0000000000000000"); err != nil {
		t.Fatalf("tour: %v\n%s", err, out.String())
	}
	for _, want := range []string{"created CMK", `decrypted: "database password: hunter2"`, "envelope-decrypted 1048576 bytes"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("tour output lacks %q:\n%s", want, out.String())
		}
	}
}
