package envelope_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/keyhaven/keyhaven/client"
	"github.com/keyhaven/keyhaven/client/envelope"
	"github.com/keyhaven/keyhaven/kms"
	"github.com/keyhaven/keyhaven/server"
)

// serverClient starts a real server of suite on a loopback port and
// returns a client of it.
func serverClient(t *testing.T, suite kms.Suite) *client.Client {
	t.Helper()
	const id, key = "AKIDenvelopetest00000000000000000001", "envelopetestsecret00000000000001"
	srv, err := server.Open(context.Background(), server.Config{
		DataDir: t.TempDir(), Region: "local", Suite: suite, RootSecretID: id, RootSecretKey: key,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
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
		srv.Shutdown(ctx)
		<-done
	})
	c, err := client.New(client.Config{Endpoint: "http://" + ln.Addr().String(), SecretID: id, SecretKey: key})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestWithServer round-trips through a real KMS of each suite: the suite's
// data key chooses the cipher, and the KMS enforces the context.
func TestWithServer(t *testing.T) {
	for _, tc := range []struct {
		suite kms.Suite
		alg   envelope.Algorithm
	}{{kms.SuiteFIPS, envelope.AES256GCM}, {kms.SuiteSM, envelope.SM4GCM}} {
		t.Run(string(tc.suite), func(t *testing.T) {
			c := serverClient(t, tc.suite)
			ctx := context.Background()
			key, err := c.CreateKey(ctx, client.CreateKeyRequest{Alias: "env"})
			if err != nil {
				t.Fatal(err)
			}
			keys := envelope.FromClient(c)
			encCtx := map[string]string{"file": "a.bin"}
			data := random(3*envelope.DefaultChunkSize + 123)
			var stream bytes.Buffer
			w, err := envelope.NewWriter(ctx, &stream, keys, key.KeyID, &envelope.Options{Context: encCtx})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(data); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if h := w.Header(); h.Algorithm != tc.alg || h.KeyID != key.KeyID {
				t.Errorf("header: %v under %s, want %v under %s", h.Algorithm, h.KeyID, tc.alg, key.KeyID)
			}
			got, err := open(keys, stream.Bytes(), &envelope.Options{Context: encCtx}, -1)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("open = %d bytes, %v", len(got), err)
			}

			// A header whose context was rewritten to match a wrong context
			// given to the reader: the KMS refuses the data key.
			forged := bytes.Replace(stream.Bytes(), []byte(`"a.bin"`), []byte(`"b.bin"`), 1)
			_, err = open(keys, forged, &envelope.Options{Context: map[string]string{"file": "b.bin"}}, -1)
			if !client.IsCode(err, "InvalidParameterValue.InvalidCiphertext") {
				t.Errorf("open with a forged context = %v, want InvalidCiphertext from the KMS", err)
			}
			if _, err := open(keys, stream.Bytes(), nil, -1); !errors.Is(err, envelope.ErrContextMismatch) {
				t.Errorf("open without context = %v, want ErrContextMismatch", err)
			}
		})
	}
}
