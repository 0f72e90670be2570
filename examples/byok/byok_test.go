package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/keyhaven/keyhaven/kms"
	"github.com/keyhaven/keyhaven/server"
)

// TestBYOK runs the example against real servers: every RSA wrapping
// algorithm in the FIPS suite, and SM2 in the SM suite.
func TestBYOK(t *testing.T) {
	for _, tc := range []struct {
		suite kms.Suite
		algs  []string
	}{
		{kms.SuiteFIPS, []string{"RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1", "RSAES_PKCS1_V1_5"}},
		{kms.SuiteSM, []string{"SM2PKE"}},
	} {
		t.Run(string(tc.suite), func(t *testing.T) {
			addr := serve(t, tc.suite)
			for _, alg := range tc.algs {
				var out strings.Builder
				if err := byok(&out, addr, "AKIDbyok000000000000000000000000000", "byok-secret-key-0000000000000000", alg); err != nil {
					t.Fatalf("byok(%s): %v\n%s", alg, err, out.String())
				}
				if !strings.Contains(out.String(), `decrypted: "payroll 2026"`) {
					t.Errorf("byok(%s) output:\n%s", alg, out.String())
				}
			}
		})
	}
}

func serve(t *testing.T, suite kms.Suite) string {
	t.Helper()
	srv, err := server.Open(context.Background(), server.Config{
		DataDir: t.TempDir(), Region: "local", Suite: suite,
		RootSecretID: "AKIDbyok000000000000000000000000000", RootSecretKey: "byok-secret-key-0000000000000000",
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
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return ln.Addr().String()
}
