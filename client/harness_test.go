package client_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/keyhaven/keyhaven/client"
	"github.com/keyhaven/keyhaven/kms"
	"github.com/keyhaven/keyhaven/server"
)

const (
	testSecretID  = "AKIDclienttest000000000000000000001"
	testSecretKey = "clienttestsecretkey0000000000001"
)

// startServer runs a real server on a loopback port until the test ends
// and returns its address.
func startServer(t testing.TB, suite kms.Suite) string {
	t.Helper()
	srv, err := server.Open(context.Background(), server.Config{
		DataDir:       t.TempDir(),
		Region:        "local",
		Suite:         suite,
		RootSecretID:  testSecretID,
		RootSecretKey: testSecretKey,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("server.Open: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// newClient returns a client of the server at addr (an http URL or host:port).
func newClient(t testing.TB, endpoint string, opts ...func(*client.Config)) *client.Client {
	t.Helper()
	if len(endpoint) < 4 || endpoint[:4] != "http" {
		endpoint = "http://" + endpoint
	}
	cfg := client.Config{Endpoint: endpoint, SecretID: testSecretID, SecretKey: testSecretKey, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	return c
}
