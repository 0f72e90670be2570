// Package audit owns Keyhaven's tamper-evident audit trail: the Event every
// request becomes, the per-node SHA-256 hash chain that links events, the
// group-committed durable segment files they are written to, and the offline
// verification and reading of those files.
//
// A Log appends one node's events: Append returns only once the event is
// written and fsynced, and concurrent appends share one write and one fsync
// (group commit). Each node has its own chain, so nodes never serialise on
// each other; several nodes may share one directory. Verify checks every
// chain in a directory and says where it breaks; Read and Lookup read events
// back, and are safe to use on files a running Log is appending to.
//
// The file format and the hash are specified in docs/audit.md.
//
// The package must not import kms or any wire dialect: the domain and the
// dialects fill in Events, this package only chains, stores and reads them.
package audit

import (
	"errors"
	"fmt"
	"time"
)

// Phase says which half of a two-event (control-plane) request an event is.
// Data-plane requests are audited by a single event with an empty Phase.
type Phase string

// The phases of a control-plane request: the request event is durable before
// anything changes, the outcome event before the response is sent.
const (
	PhaseSingle  Phase = ""
	PhaseRequest Phase = "request"
	PhaseOutcome Phase = "outcome"
)

// ParsePhase returns the Phase whose wire string is s, or an error wrapping
// ErrInvalidEvent.
func ParsePhase(s string) (Phase, error) {
	switch p := Phase(s); p {
	case PhaseSingle, PhaseRequest, PhaseOutcome:
		return p, nil
	}
	return "", fmt.Errorf("audit: phase %q: %w", s, ErrInvalidEvent)
}

// Service is the API service a request was addressed to.
type Service string

// The services whose requests are audited.
const (
	ServiceKMS        Service = "kms"
	ServiceCAM        Service = "cam"
	ServiceCloudAudit Service = "cloudaudit"
)

// ParseService returns the Service whose wire string is s, or an error
// wrapping ErrInvalidEvent.
func ParseService(s string) (Service, error) {
	switch v := Service(s); v {
	case ServiceKMS, ServiceCAM, ServiceCloudAudit:
		return v, nil
	}
	return "", fmt.Errorf("audit: service %q: %w", s, ErrInvalidEvent)
}

// ResultSuccess is the Result of a request that succeeded; any other Result is
// the error code the client received.
const ResultSuccess = "Success"

// Event is one audited request (or one phase of it). It never holds anything
// secret: no plaintext, key material, signature or SecretKey.
//
// The JSON encoding of an Event is one line of a segment file. Field order is
// the struct order and is part of the hash definition (see docs/audit.md);
// Hash must stay the last field.
type Event struct {
	// Seq is the event's position in its node's chain, starting at 1. Set by
	// the Log.
	Seq uint64 `json:"seq"`
	// Time is when the request was received, in UTC; Append sets it to the
	// current time if it is zero. Encoded as RFC 3339 with nanoseconds.
	Time time.Time `json:"time"`
	// Node is the server node whose chain holds the event. Set by the Log.
	Node      string   `json:"node"`
	RequestID string   `json:"requestId,omitempty"`
	Phase     Phase    `json:"phase,omitempty"`
	Service   Service  `json:"service,omitempty"`
	Action    string   `json:"action,omitempty"`
	Account   string   `json:"account,omitempty"`
	User      string   `json:"user,omitempty"`
	SecretID  string   `json:"secretId,omitempty"`
	SourceIP  string   `json:"sourceIp,omitempty"`
	UserAgent string   `json:"userAgent,omitempty"`
	KeyIDs    []string `json:"keyIds,omitempty"`
	// Result is ResultSuccess or the error code returned to the client.
	Result string `json:"result,omitempty"`
	// Message is a short, non-secret explanation of a failure.
	Message string `json:"message,omitempty"`
	// Prev is the hex SHA-256 hash of the previous event of the chain, or
	// ZeroHash for the first event. Set by the Log.
	Prev string `json:"prev"`
	// Hash is the hex SHA-256 hash of this event (see docs/audit.md). Set by
	// the Log.
	Hash string `json:"hash,omitempty"`
}

// ZeroHash is the Prev of the first event of every chain: 64 zeros.
const ZeroHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Field limits applied by Append. Longer UserAgent and Message values are cut
// (at a UTF-8 boundary); an event whose line would exceed MaxLineBytes is
// refused with ErrInvalidEvent.
const (
	MaxUserAgentBytes = 512
	MaxMessageBytes   = 1024
	MaxLineBytes      = 1 << 20
)

// Errors of the package. Write and sync failures are returned wrapped with
// the segment file's name; callers treat any Append error as "not durable".
var (
	// ErrClosed: Append or Close on a Log that was closed.
	ErrClosed = errors.New("audit: log is closed")
	// ErrInvalidEvent: the event cannot be recorded (time outside years
	// 0-9999, or its line longer than MaxLineBytes); also returned by
	// ParsePhase and ParseService for unknown names.
	ErrInvalidEvent = errors.New("audit: invalid event")
	// ErrLocked: another Log (in this or another process) has the node's
	// chain open in the same directory; two writers would fork the chain.
	ErrLocked = errors.New("audit: node's log is already open")
	// ErrInvalidNode: the node name is empty, longer than 64 bytes, or has
	// characters outside [A-Za-z0-9._-].
	ErrInvalidNode = errors.New("audit: invalid node name")
)
