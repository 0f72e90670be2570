package client

import "context"

// The actions of service cloudaudit (version AuditVersion): the account's
// audit trail, in the style of Tencent CloudAudit. Every request the server
// answers has an event in the trail, these ones included.

// LookupAttribute narrows LookUpEvents: AttributeKey EventName (the
// action), ResourceName (a KeyId) or Username (a user's uin).
type LookupAttribute struct {
	AttributeKey   string
	AttributeValue string
}

// LookUpEventsRequest is LookUpEvents' input: events at or after StartTime
// and before EndTime (Unix seconds; both required), newest first, at most
// MaxResults (1-50, default 20) a page. NextToken continues from a previous
// response's.
type LookUpEventsRequest struct {
	StartTime        uint64
	EndTime          uint64
	LookupAttributes []LookupAttribute `json:",omitempty"`
	NextToken        string            `json:",omitempty"`
	MaxResults       uint64            `json:",omitempty"`
	Mode             string            `json:",omitempty"`
}

// AuditResource is a resource an event touched.
type AuditResource struct {
	ResourceType string // "kms_key"
	ResourceName string // the KeyId
}

// AuditEvent is one event of the trail. EventTime is Unix seconds (a
// string, as CloudAudit has it); CloudAuditEvent is the event exactly as
// the trail holds it (a JSON object, hash chain fields included); ErrorCode
// is 0 for success, and ErrorMessage then the Tencent error code.
type AuditEvent struct {
	EventID         string `json:"EventId"`
	Username        string
	EventTime       string
	CloudAuditEvent string
	ErrorCode       int64
	ErrorMessage    string
	EventName       string
	SecretID        string `json:"SecretId"`
	EventSource     string
	RequestID       string // spelled RequestID here, as CloudAudit does
	ResourceRegion  string
	AccountID       string
	SourceIPAddress string
	Resources       []AuditResource
}

// LookUpEventsResponse is LookUpEvents' output. ListOver is true on the
// last page; otherwise NextToken asks for the next.
type LookUpEventsResponse struct {
	NextToken  string
	Events     []AuditEvent
	ListOver   bool
	TotalCount uint64
	Response
}

// LookUpEvents returns a page of the caller's account's audit events.
// Missing times are the APIError MissingParameter; a bad MaxResults or
// NextToken, InvalidParameterValue.
func (c *Client) LookUpEvents(ctx context.Context, req LookUpEventsRequest) (*LookUpEventsResponse, error) {
	var resp LookUpEventsResponse
	return &resp, c.call(ctx, serviceAudit, "LookUpEvents", req, &resp)
}

// AuditNode is one server node's hash chain in VerifyAuditTrail's output.
type AuditNode struct {
	Node     string
	Events   uint64
	FirstSeq uint64
	LastSeq  uint64
	LastHash string
}

// VerifyAuditTrailResponse is VerifyAuditTrail's output. When Valid is
// false, Problem says what is wrong and, if it is in a line of the trail,
// File and Line say where.
type VerifyAuditTrailResponse struct {
	Valid   bool
	Problem string `json:",omitempty"`
	File    string `json:",omitempty"`
	Line    int    `json:",omitempty"`
	Nodes   []AuditNode
	Response
}

// VerifyAuditTrail has the server check every node's hash chain of its
// audit trail: Keyhaven's extension, the online twin of `keyhaven audit
// verify --data-dir`. A broken chain is not an error: Valid is false.
func (c *Client) VerifyAuditTrail(ctx context.Context) (*VerifyAuditTrailResponse, error) {
	var resp VerifyAuditTrailResponse
	return &resp, c.call(ctx, serviceAudit, "VerifyAuditTrail", nil, &resp)
}
