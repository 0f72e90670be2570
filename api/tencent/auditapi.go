package tencent

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/keyhaven/keyhaven/audit"
)

// AuditVersion is the version of the cloudaudit service, whose LookUpEvents
// queries the audit trail in the style of Tencent CloudAudit.
const AuditVersion = "2019-03-19"

// auditActions are the actions of service cloudaudit. They are authorized
// as cloudaudit:<Action> on the account's resource and audited themselves.
func (h *Handler) auditActions() map[string]action {
	return map[string]action{
		"LookUpEvents":     h.lookUpEvents,
		"VerifyAuditTrail": h.verifyAuditTrail,
	}
}

type lookupAttribute struct {
	AttributeKey   *string
	AttributeValue *string
}

type auditResource struct {
	ResourceType string
	ResourceName string
}

// auditEvent is one event as LookUpEvents returns it.
type auditEvent struct {
	EventId         string
	Username        string
	EventTime       string
	CloudAuditEvent string // the event as the trail holds it
	ErrorCode       int64  // 0 for success
	ErrorMessage    string
	EventName       string
	SecretId        string
	EventSource     string
	RequestID       string
	ResourceRegion  string
	AccountID       string
	SourceIPAddress string
	Resources       []auditResource
}

// lookUpEvents pages through the account's audit events, newest first,
// between StartTime and EndTime (Unix seconds), filtered by EventName
// (action), ResourceName (KeyId) or Username (user id).
func (h *Handler) lookUpEvents(ctx context.Context, c *call) (any, error) {
	var req struct {
		StartTime        *uint64
		EndTime          *uint64
		LookupAttributes []lookupAttribute
		NextToken        *string
		MaxResults       *uint64
		Mode             *string
	}
	if err := decode(c.body, &req); err != nil {
		return nil, err
	}
	if req.StartTime == nil || req.EndTime == nil {
		return nil, missing("StartTime and EndTime")
	}
	if err := c.authorizeAccount(ctx); err != nil {
		return nil, err
	}
	q := audit.Query{Start: time.Unix(int64(*req.StartTime), 0), End: time.Unix(int64(*req.EndTime), 0), Limit: 20}
	if req.MaxResults != nil {
		if *req.MaxResults < 1 || *req.MaxResults > 50 {
			return nil, invalid("MaxResults", "is 1 to 50")
		}
		q.Limit = int(*req.MaxResults)
	}
	if req.NextToken != nil && *req.NextToken != "" {
		n, err := strconv.Atoi(*req.NextToken)
		if err != nil || n < 0 {
			return nil, invalid("NextToken", "is a token from a previous response")
		}
		q.Offset = n
	}
	for _, a := range req.LookupAttributes {
		switch v := deref(a.AttributeValue); deref(a.AttributeKey) {
		case "EventName":
			q.Action = v
		case "ResourceName":
			q.KeyID = v
		case "Username":
			q.User = v
		default:
			return nil, invalid("LookupAttributes.AttributeKey", "is EventName, ResourceName or Username")
		}
	}
	// Only the caller's account: filter, then page.
	all, _, err := audit.Lookup(h.auditDir, audit.Query{Start: q.Start, End: q.End, Action: q.Action, KeyID: q.KeyID, User: q.User})
	if err != nil {
		return nil, err
	}
	mine := all[:0]
	for _, e := range all {
		if e.Account == c.cred.Account {
			mine = append(mine, e)
		}
	}
	page := pageOf(mine, q.Offset, q.Limit)
	out := &struct {
		NextToken  string
		Events     []auditEvent
		ListOver   bool
		TotalCount uint64
		response
	}{Events: make([]auditEvent, len(page)), TotalCount: uint64(len(mine)), ListOver: q.Offset+len(page) >= len(mine)}
	if !out.ListOver {
		out.NextToken = strconv.Itoa(q.Offset + len(page))
	}
	for i, e := range page {
		raw, _ := json.Marshal(e)
		ae := auditEvent{
			EventId: e.Node + "/" + strconv.FormatUint(e.Seq, 10), Username: e.User, EventTime: strconv.FormatInt(e.Time.Unix(), 10),
			CloudAuditEvent: string(raw), EventName: e.Action, SecretId: e.SecretID, EventSource: string(e.Service) + ".tencentcloudapi.com",
			RequestID: e.RequestID, ResourceRegion: h.region, AccountID: e.Account, SourceIPAddress: e.SourceIP,
		}
		if e.Result != audit.ResultSuccess && e.Result != "" {
			ae.ErrorCode, ae.ErrorMessage = 1, e.Result
		}
		for _, id := range e.KeyIDs {
			ae.Resources = append(ae.Resources, auditResource{ResourceType: "kms_key", ResourceName: id})
		}
		out.Events[i] = ae
	}
	return out, nil
}

// verifyAuditTrail checks every node's hash chain in the trail: Keyhaven's
// extension, the online twin of `keyhaven audit verify`.
func (h *Handler) verifyAuditTrail(ctx context.Context, c *call) (any, error) {
	if err := decode(c.body, &struct{}{}); err != nil {
		return nil, err
	}
	if err := c.authorizeAccount(ctx); err != nil {
		return nil, err
	}
	type node struct {
		Node     string
		Events   uint64
		FirstSeq uint64
		LastSeq  uint64
		LastHash string
	}
	out := &struct {
		Valid   bool
		Problem string `json:",omitempty"`
		File    string `json:",omitempty"`
		Line    int    `json:",omitempty"`
		Nodes   []node
		response
	}{Nodes: []node{}}
	report, err := audit.Verify(h.auditDir)
	if err != nil {
		out.Problem = err.Error()
		var ve *audit.VerifyError
		if errors.As(err, &ve) {
			out.File, out.Line = ve.File, ve.Line
		}
	} else {
		out.Valid = true
	}
	for _, n := range report.Nodes {
		out.Nodes = append(out.Nodes, node{n.Node, n.Events, n.FirstSeq, n.LastSeq, n.LastHash})
	}
	return out, nil
}
