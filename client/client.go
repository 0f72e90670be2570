package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/keyhaven/keyhaven/auth"
)

// API versions the client speaks; each names its service.
const (
	Version      = "2019-01-18" // kms
	CAMVersion   = "2019-01-16" // cam: users, access keys, policies
	AuditVersion = "2019-03-19" // cloudaudit: the audit trail
)

// service is an API of the endpoint, by its name in TC3 signatures.
type service string

// The services the client has methods for.
const (
	serviceKMS   service = "kms"
	serviceCAM   service = "cam"
	serviceAudit service = "cloudaudit"
)

// services are the services a Client signs for.
func services() []service { return []service{serviceKMS, serviceCAM, serviceAudit} }

// version is the service's API version, which the server routes by.
func (s service) version() string {
	switch s {
	case serviceCAM:
		return CAMVersion
	case serviceAudit:
		return AuditVersion
	}
	return Version
}

// DefaultRegion is the region a Keyhaven server serves unless told otherwise.
const DefaultRegion = "local"

// maxResponseBytes bounds what the client reads of one response.
const maxResponseBytes = 8 << 20

// Secret is a SecretKey. It never prints, logs or marshals its value.
type Secret string

// String returns "[REDACTED]".
func (Secret) String() string { return "[REDACTED]" }

// GoString returns "[REDACTED]".
func (Secret) GoString() string { return "[REDACTED]" }

// LogValue logs "[REDACTED]".
func (Secret) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// MarshalText returns "[REDACTED]", so a Config in JSON or a log holds no secret.
func (Secret) MarshalText() ([]byte, error) { return []byte("[REDACTED]"), nil }

// Config is what a Client is made from.
type Config struct {
	// Endpoint is the server's base URL, http(s)://host[:port]; its path, if
	// any, must be "/".
	Endpoint string
	// Region is sent as X-TC-Region; "" is DefaultRegion.
	Region string
	// SecretID and SecretKey are the access key requests are signed with.
	SecretID  string
	SecretKey Secret
	// HTTPClient sends the requests; nil is a client with a 30 s timeout.
	HTTPClient *http.Client
	// MaxRetries is how many times a request is retried after a transient
	// failure: 0 means 3, a negative number means never. Retried are:
	// connections that could not be made, HTTP 429/502/503 and the codes
	// RequestLimitExceeded and UnsupportedOperation.ServiceTemporaryUnavailable
	// (the server did nothing); and, for actions that are safe to repeat
	// (see Repeatable), also connections broken mid-request, other HTTP 5xx
	// and InternalError. API errors about the request itself never are.
	MaxRetries int
	// MinBackoff and MaxBackoff bound the wait before a retry, which doubles
	// from MinBackoff (default 100 ms) up to MaxBackoff (default 5 s), with
	// jitter of up to half the wait.
	MinBackoff, MaxBackoff time.Duration
}

// Client calls a Keyhaven server. Make one with New.
type Client struct {
	endpoint string
	region   string
	http     *http.Client
	signers  map[service]*auth.TC3Signer
	retries  int
	min, max time.Duration
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error
}

// New returns a Client for cfg. It fails if the endpoint is not an http or
// https URL or the credentials are missing; it does not contact the server.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: endpoint %q is not an http:// or https:// URL", cfg.Endpoint)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("client: endpoint %q must have no path, query or user; the API is served at /", cfg.Endpoint)
	}
	if cfg.SecretID == "" || cfg.SecretKey == "" {
		return nil, errors.New("client: a SecretId and a SecretKey are required")
	}
	c := &Client{
		endpoint: u.Scheme + "://" + u.Host + "/",
		region:   cfg.Region,
		http:     cfg.HTTPClient,
		signers:  map[service]*auth.TC3Signer{},
		retries:  cfg.MaxRetries,
		min:      cfg.MinBackoff,
		max:      cfg.MaxBackoff,
		now:      time.Now,
		sleep:    sleep,
	}
	for _, s := range services() {
		c.signers[s] = auth.NewTC3Signer(string(s), cfg.SecretID, []byte(cfg.SecretKey))
	}
	if c.region == "" {
		c.region = DefaultRegion
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	switch {
	case c.retries == 0:
		c.retries = 3
	case c.retries < 0:
		c.retries = 0
	}
	if c.min <= 0 {
		c.min = 100 * time.Millisecond
	}
	if c.max < c.min {
		c.max = max(5*time.Second, c.min)
	}
	return c, nil
}

// Endpoint returns the base URL the client sends to.
func (c *Client) Endpoint() string { return c.endpoint }

// Region returns the region the client names in its requests.
func (c *Client) Region() string { return c.region }

// Repeatable reports whether action is safe to send again when a first
// attempt may have taken effect: everything but GetParametersForImport
// (each call makes new one-time parameters) and the actions whose names
// start with Create, Add, Delete, Import, Update, Attach, Detach, Rotate,
// Schedule, Cancel or Archive (repeating them makes a second key, user,
// access key, policy or version, or fails on the state the first attempt
// left).
func Repeatable(action string) bool {
	if action == "GetParametersForImport" {
		return false
	}
	for _, p := range []string{"Create", "Add", "Delete", "Import", "Update", "Attach", "Detach", "Rotate", "Schedule", "Cancel", "Archive"} {
		if strings.HasPrefix(action, p) {
			return false
		}
	}
	return true
}

// Call sends the kms action with req (marshalled to JSON; nil is {}) and
// decodes the response object, without its Response wrapper, into resp (nil
// to discard). It returns *APIError for an error answer, *HTTPError for a
// non-API answer, and the transport's error otherwise, after the retries
// Config describes. The typed methods use it; so can kms actions this
// package has no method for.
func (c *Client) Call(ctx context.Context, action string, req, resp any) error {
	return c.call(ctx, serviceKMS, action, req, resp)
}

// call is Call for an action of service svc: signed for svc and sent with
// its version.
func (c *Client) call(ctx context.Context, svc service, action string, req, resp any) error {
	body := []byte("{}")
	if req != nil {
		var err error
		if body, err = json.Marshal(req); err != nil {
			return fmt.Errorf("client: %s: encode request: %w", action, err)
		}
	}
	repeatable := Repeatable(action)
	for attempt := 0; ; attempt++ {
		raw, err := c.send(ctx, svc, action, body)
		if err == nil {
			return decodeResponse(action, raw, resp)
		}
		if attempt >= c.retries || !retryable(err, repeatable) || ctx.Err() != nil {
			return err
		}
		if err := c.sleep(ctx, c.backoff(attempt)); err != nil {
			return err
		}
	}
}

// send makes one signed attempt. It returns the Response object of an
// answer that is not an error, or the error.
func (c *Client) send(ctx context.Context, svc service, action string, body []byte) (json.RawMessage, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("client: %s: %w", action, err)
	}
	r.Header["X-Tc-Action"] = []string{action}
	r.Header["X-Tc-Version"] = []string{svc.version()}
	r.Header["X-Tc-Region"] = []string{c.region}
	r.Header["User-Agent"] = []string{"keyhaven-client/1"}
	c.signers[svc].Sign(r, body, c.now()) // a fresh timestamp on every attempt
	res, err := c.http.Do(r)
	if err != nil {
		return nil, fmt.Errorf("client: %s: %w", action, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("client: %s: read response: %w", action, err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, &HTTPError{StatusCode: res.StatusCode, Status: res.Status, Body: snippet(b)}
	}
	if len(b) > maxResponseBytes {
		return nil, fmt.Errorf("client: %s: response over %d bytes", action, maxResponseBytes)
	}
	var envelope struct {
		Response json.RawMessage
	}
	if err := json.Unmarshal(b, &envelope); err != nil || len(envelope.Response) == 0 {
		return nil, &HTTPError{StatusCode: res.StatusCode, Status: res.Status, Body: snippet(b)}
	}
	var head struct {
		Error *struct {
			Code    string
			Message string
		}
		RequestId string
	}
	if err := json.Unmarshal(envelope.Response, &head); err != nil {
		return nil, &HTTPError{StatusCode: res.StatusCode, Status: res.Status, Body: snippet(b)}
	}
	if head.Error != nil {
		return nil, &APIError{Code: head.Error.Code, Message: head.Error.Message, RequestID: head.RequestId}
	}
	return envelope.Response, nil
}

func decodeResponse(action string, raw json.RawMessage, resp any) error {
	if resp == nil {
		return nil
	}
	if err := json.Unmarshal(raw, resp); err != nil {
		return fmt.Errorf("client: %s: decode response: %w", action, err)
	}
	return nil
}

func snippet(b []byte) string {
	const n = 256
	if len(b) > n {
		b = b[:n]
	}
	return strings.TrimSpace(strings.ToValidUTF8(string(b), "?"))
}

// retryable classifies a failed attempt: see Config.MaxRetries.
func retryable(err error, repeatable bool) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		switch {
		case ae.Code == "RequestLimitExceeded" || strings.HasPrefix(ae.Code, "RequestLimitExceeded."),
			ae.Code == "UnsupportedOperation.ServiceTemporaryUnavailable":
			return true
		case ae.Code == "InternalError" || strings.HasPrefix(ae.Code, "InternalError."):
			return repeatable
		}
		return false
	}
	var he *HTTPError
	if errors.As(err, &he) {
		switch {
		case he.StatusCode == http.StatusTooManyRequests, he.StatusCode == http.StatusBadGateway,
			he.StatusCode == http.StatusServiceUnavailable:
			return true
		case he.StatusCode >= 500:
			return repeatable
		}
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true // nothing was sent
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return repeatable // sent, maybe acted on; the connection broke
	}
	return false
}

// backoff is the wait before retry number attempt+1: exponential, capped,
// with jitter so clients that failed together do not retry together.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.min << min(attempt, 30)
	if d > c.max || d <= 0 {
		d = c.max
	}
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
