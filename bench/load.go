package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyhaven/keyhaven/auth"
)

// Bench credentials: the child makes them the root access key of its fresh
// data dir (server.Config.RootSecretID/RootSecretKey).
const (
	benchSecretID  = "AKIDkeyhavenbench000000000000000001"
	benchSecretKey = "keyhavenbenchsecretkey0000000001"
	benchRegion    = "local"
	apiVersion     = "2019-01-18"
)

// newSigner returns the bench's TC3 signer (the one the client SDK uses).
func newSigner() *auth.TC3Signer {
	return auth.NewTC3Signer("kms", benchSecretID, []byte(benchSecretKey))
}

// setAction sets the unsigned X-TC-* headers of a request for action.
func setAction(h http.Header, action string) {
	h["X-Tc-Action"] = []string{action}
	h["X-Tc-Version"] = []string{apiVersion}
	h["X-Tc-Region"] = []string{benchRegion}
}

// target is one server under load: its URL and the client that reaches it.
type target struct {
	url    string
	host   string
	client *http.Client
}

// newTarget returns a target for the server at addr. Its transport keeps at
// least conc idle connections, so every worker keeps its own keep-alive
// connection. If roots is not nil the target speaks HTTPS and trusts roots.
func newTarget(addr string, conc int, roots *x509.CertPool) *target {
	tr := &http.Transport{
		MaxIdleConns:        conc * 2,
		MaxIdleConnsPerHost: conc * 2,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	scheme := "http"
	if roots != nil {
		scheme = "https"
		tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	return &target{
		url:    scheme + "://" + addr + "/",
		host:   addr,
		client: &http.Client{Transport: tr, Timeout: 30 * time.Second},
	}
}

// close drops the target's idle connections.
func (t *target) close() { t.client.CloseIdleConnections() }

// operation is one kind of request the bench sends.
type operation struct {
	name   string // as printed
	action string // X-TC-Action
	body   []byte
	want   []byte // a field every good response has
	// primitive names the bare primitive behind an asymmetric operation
	// (asymSpec.primitiveKey); empty for the others.
	primitive string
}

// send signs and sends one request of op, reading the response into buf. A
// non-nil error means the request failed: transport error, HTTP status other
// than 200, an "Error" in the response, or the expected field missing.
func (t *target) send(s *auth.TC3Signer, op *operation, buf *bytes.Buffer, now time.Time) error {
	req, err := http.NewRequest(http.MethodPost, t.url, bytes.NewReader(op.body))
	if err != nil {
		return err
	}
	setAction(req.Header, op.action)
	s.Sign(req, op.body, now)
	res, err := t.client.Do(req)
	if err != nil {
		return err
	}
	buf.Reset()
	_, err = buf.ReadFrom(res.Body)
	res.Body.Close()
	switch {
	case err != nil:
		return fmt.Errorf("%s: read response: %w", op.action, err)
	case res.StatusCode != http.StatusOK:
		return fmt.Errorf("%s: HTTP %d: %.200s", op.action, res.StatusCode, buf.Bytes())
	case bytes.Contains(buf.Bytes(), []byte(`"Error"`)):
		return fmt.Errorf("%s: %.300s", op.action, buf.Bytes())
	case !bytes.Contains(buf.Bytes(), op.want):
		return fmt.Errorf("%s: response lacks %s: %.300s", op.action, op.want, buf.Bytes())
	}
	return nil
}

// call sends one signed request and decodes the "Response" object. It is for
// setup, not for the measured loop.
func (t *target) call(action string, req any) (map[string]any, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	op := &operation{name: action, action: action, body: body, want: []byte(`"RequestId"`)}
	var buf bytes.Buffer
	if err := t.send(newSigner(), op, &buf, time.Now()); err != nil {
		return nil, err
	}
	var out struct{ Response map[string]any }
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("%s: response is not JSON: %w", action, err)
	}
	return out.Response, nil
}

// stringField returns resp[name] if it is a non-empty string.
func stringField(resp map[string]any, name string) (string, error) {
	s, _ := resp[name].(string)
	if s == "" {
		return "", fmt.Errorf("response has no %s: %v", name, resp)
	}
	return s, nil
}

// load is the outcome of one phase of load.
type load struct {
	requests int64
	errors   int64
	firstErr error
	wall     time.Duration
	lat      []time.Duration // sorted; empty unless recorded
}

// percentile returns the p-th percentile (0 < p <= 100) of the latencies.
func (l *load) percentile(p float64) time.Duration {
	if len(l.lat) == 0 {
		return 0
	}
	i := int(float64(len(l.lat))*p/100+0.5) - 1
	return l.lat[min(max(i, 0), len(l.lat)-1)]
}

// run drives t with conc workers, each sending op back to back on its own
// keep-alive connection, for d or, if n > 0, until n requests in all have
// been sent. ctx cancels it early. With record, it keeps every latency.
func (t *target) run(ctx context.Context, op *operation, conc int, d time.Duration, n int64, record bool) *load {
	var (
		stop atomic.Bool
		sent atomic.Int64
		wg   sync.WaitGroup
		mu   sync.Mutex
		out  = &load{}
	)
	if n <= 0 {
		timer := time.AfterFunc(d, func() { stop.Store(true) })
		defer timer.Stop()
	}
	stopOnCancel := context.AfterFunc(ctx, func() { stop.Store(true) })
	defer stopOnCancel()

	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := newSigner()
			var buf bytes.Buffer
			var lat []time.Duration
			if record {
				lat = make([]time.Duration, 0, 1<<14)
			}
			var reqs, errs int64
			var first error
			for !stop.Load() {
				if n > 0 && sent.Add(1) > n {
					break
				}
				t0 := time.Now()
				err := t.send(s, op, &buf, t0)
				if record {
					lat = append(lat, time.Since(t0))
				}
				reqs++
				if err != nil {
					errs++
					if first == nil {
						first = err
					}
				}
			}
			mu.Lock()
			out.requests += reqs
			out.errors += errs
			if out.firstErr == nil {
				out.firstErr = first
			}
			out.lat = append(out.lat, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	out.wall = time.Since(start)
	slices.Sort(out.lat)
	return out
}
