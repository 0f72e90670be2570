package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/keyhaven/keyhaven/kms"
	"github.com/keyhaven/keyhaven/server"
)

const (
	cliSecretID  = "AKIDclitest00000000000000000000000001"
	cliSecretKey = "clitestsecretkey0000000000000001"
)

// cliEnv is a real server on a loopback port and a HOME of its own.
type cliEnv struct {
	t        *testing.T
	endpoint string
	home     string
	dataDir  string // the server's
}

// startCLI starts a server and clears the client's environment; with
// envCreds, KEYHAVEN_ENDPOINT/SECRET_ID/SECRET_KEY point at the server.
func startCLI(t *testing.T, envCreds bool) *cliEnv {
	t.Helper()
	dataDir := t.TempDir()
	srv, err := server.Open(context.Background(), server.Config{
		DataDir: dataDir, Region: "local", Suite: kms.SuiteFIPS,
		RootSecretID: cliSecretID, RootSecretKey: cliSecretKey,
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
	e := &cliEnv{t: t, endpoint: "http://" + ln.Addr().String(), home: t.TempDir(), dataDir: dataDir}
	t.Setenv("HOME", e.home)
	for _, v := range []string{envEndpoint, envSecretID, envSecretKey, envProfile, envRegion} {
		t.Setenv(v, "")
	}
	if envCreds {
		t.Setenv(envEndpoint, e.endpoint)
		t.Setenv(envSecretID, cliSecretID)
		t.Setenv(envSecretKey, cliSecretKey)
	}
	return e
}

// result is what one `keyhaven ...` run printed and its exit status, as
// main would give it.
type result struct {
	stdout, stderr string
	code           int
}

// run runs `keyhaven args...` with stdin.
func (e *cliEnv) run(stdin string, args ...string) result {
	e.t.Helper()
	var out, errOut bytes.Buffer
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(stdin))
	r := result{}
	if err := root.ExecuteContext(context.Background()); err != nil {
		fmt.Fprintln(&errOut, "keyhaven:", err) // as main does
		r.code = 1
	}
	r.stdout, r.stderr = out.String(), errOut.String()
	if strings.Contains(r.stdout+r.stderr, cliSecretKey) {
		e.t.Errorf("keyhaven %s printed the secret key", strings.Join(args, " "))
	}
	return r
}

// ok runs a command that must succeed.
func (e *cliEnv) ok(stdin string, args ...string) string {
	e.t.Helper()
	r := e.run(stdin, args...)
	if r.code != 0 {
		e.t.Fatalf("keyhaven %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// json runs a command with --output json and decodes its stdout, which must
// be one JSON object and nothing else.
func (e *cliEnv) json(args ...string) map[string]any {
	e.t.Helper()
	return decodeJSON(e.t, e.ok("", append(args, "--output", "json")...))
}

// decodeJSON decodes out, which must be one JSON object and nothing else,
// without the API's Response wrapper.
func decodeJSON(t *testing.T, out string) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber() // Uins and PolicyIds stay exact
	if err := dec.Decode(&m); err != nil || dec.More() {
		t.Fatalf("output %q is not one JSON object: %v", out, err)
	}
	if _, wrapped := m["Response"]; wrapped {
		t.Errorf("JSON output has the Response wrapper: %s", out)
	}
	return m
}

// as makes the environment's credentials those of another access key.
func (e *cliEnv) as(secretID, secretKey string) {
	e.t.Setenv(envSecretID, secretID)
	e.t.Setenv(envSecretKey, secretKey)
}

// asRoot makes the environment's credentials the root's again.
func (e *cliEnv) asRoot() { e.as(cliSecretID, cliSecretKey) }

// fails runs a command that must exit 1 with want on standard error and
// nothing on standard output.
func (e *cliEnv) fails(want string, args ...string) {
	e.t.Helper()
	r := e.run("", args...)
	if r.code != 1 || !strings.Contains(r.stderr, want) || r.stdout != "" {
		e.t.Errorf("keyhaven %s: exit %d, stdout %q, stderr %q; want exit 1 and %q", strings.Join(args, " "), r.code, r.stdout, r.stderr, want)
	}
}

// str returns a string member of a JSON object, following a path.
func str(m map[string]any, path ...string) string {
	var v any = m
	for _, p := range path {
		o, _ := v.(map[string]any)
		v = o[p]
	}
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
