package tencent

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"github.com/keyhaven/keyhaven/audit"
	"github.com/keyhaven/keyhaven/auth"
	"github.com/keyhaven/keyhaven/kms"
)

// API versions this dialect speaks; the version names the service.
const (
	Version    = "2019-01-18" // kms
	CAMVersion = "2019-01-16" // cam: users, access keys, policies
)

// MaxBodyBytes is the largest request body accepted.
const MaxBodyBytes = 64 << 10

// Auditor makes audit events durable; Append returns only once the event is
// (or an error).
type Auditor interface {
	Append(ctx context.Context, e audit.Event) (audit.Event, error)
}

// Config holds what a Handler needs.
type Config struct {
	Service  *kms.Service
	Verifier *auth.TC3Verifier
	// Audit receives an event for every request (two for requests that
	// change state); nil turns auditing off (tests of the dialect alone).
	Audit Auditor
	// AuditDir is where LookUpEvents and VerifyAuditTrail read the trail.
	AuditDir string
	// Region is the one region served; requests for another are refused.
	Region string
	Logger *slog.Logger
}

// Handler serves the Tencent dialect at POST /.
type Handler struct {
	svc      *kms.Service
	verifier *auth.TC3Verifier
	region   string
	log      *slog.Logger
	audit    Auditor
	auditDir string
	services map[string]*service // by API version
}

// service is one API of the endpoint: its name in signatures and CAM
// action names, its actions, and which of them change state (audited with a
// request event before they run and an outcome event after).
type service struct {
	name     string
	actions  map[string]action
	mutating map[string]bool
}

// call is one authenticated request as an action sees it.
type call struct {
	h       *Handler
	service string // "kms", "cam", ...
	action  string
	cred    auth.Credential
	body    []byte
	ip      string
	keys    []string // the keys the request touches, for its audit event
}

// action decodes its request from c.body, calls the domain and returns the
// response fields (a pointer to a struct embedding response).
type action func(ctx context.Context, c *call) (any, error)

// New returns a Handler for cfg.
func New(cfg Config) *Handler {
	h := &Handler{svc: cfg.Service, verifier: cfg.Verifier, region: cfg.Region, log: cfg.Logger, audit: cfg.Audit, auditDir: cfg.AuditDir}
	if h.log == nil {
		h.log = slog.Default()
	}
	kmsActions := map[string]action{
		"CreateKey":             h.createKey,
		"DescribeKey":           h.describeKey,
		"DescribeKeys":          h.describeKeys,
		"ListKeys":              h.listKeys,
		"ListKeyDetail":         h.listKeyDetail,
		"UpdateAlias":           h.updateAlias,
		"UpdateKeyDescription":  h.updateKeyDescription,
		"EnableKey":             h.enableKey,
		"DisableKey":            h.disableKey,
		"EnableKeys":            h.enableKeys,
		"DisableKeys":           h.disableKeys,
		"Encrypt":               h.encrypt,
		"Decrypt":               h.decrypt,
		"ReEncrypt":             h.reEncrypt,
		"GenerateDataKey":       h.generateDataKey,
		"GenerateRandom":        h.generateRandom,
		"GetServiceStatus":      h.getServiceStatus,
		"GetRegions":            h.getRegions,
		"ListAlgorithms":        h.listAlgorithms,
		"EnableKeyRotation":     h.enableKeyRotation,
		"DisableKeyRotation":    h.disableKeyRotation,
		"GetKeyRotationStatus":  h.getKeyRotationStatus,
		"RotateKey":             h.rotateKey,
		"ArchiveKey":            h.archiveKey,
		"CancelKeyArchive":      h.cancelKeyArchive,
		"ScheduleKeyDeletion":   h.scheduleKeyDeletion,
		"CancelKeyDeletion":     h.cancelKeyDeletion,
		"GetPublicKey":          h.getPublicKey,
		"AsymmetricRsaDecrypt":  h.asymmetricRsaDecrypt,
		"AsymmetricSm2Decrypt":  h.asymmetricSm2Decrypt,
		"SignByAsymmetricKey":   h.signByAsymmetricKey,
		"VerifyByAsymmetricKey": h.verifyByAsymmetricKey,

		"GetParametersForImport":    h.getParametersForImport,
		"ImportKeyMaterial":         h.importKeyMaterial,
		"DeleteImportedKeyMaterial": h.deleteImportedKeyMaterial,
	}
	h.services = map[string]*service{
		Version: {name: "kms", actions: kmsActions, mutating: set("CreateKey", "UpdateAlias", "UpdateKeyDescription",
			"EnableKey", "DisableKey", "EnableKeys", "DisableKeys", "EnableKeyRotation", "DisableKeyRotation", "RotateKey",
			"ArchiveKey", "CancelKeyArchive", "ScheduleKeyDeletion", "CancelKeyDeletion",
			"GetParametersForImport", "ImportKeyMaterial", "DeleteImportedKeyMaterial")},
		CAMVersion: {name: "cam", actions: h.camActions(), mutating: set("AddUser", "DeleteUser", "CreateAccessKey",
			"UpdateAccessKey", "DeleteAccessKey", "CreatePolicy", "DeletePolicy", "AttachUserPolicy", "DetachUserPolicy")},
		AuditVersion: {name: "cloudaudit", actions: h.auditActions()},
	}
	return h
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// ServeHTTP handles one request. Every outcome is HTTP 200 with a Tencent
// envelope, as the SDK expects.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newRequestID()
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)

	ev := audit.Event{RequestID: requestID, Action: r.Header.Get("X-TC-Action"), SourceIP: sourceIP(r), UserAgent: r.UserAgent()}
	resp, keys, err := h.serve(r, buf, &ev)
	ev.Result, ev.KeyIDs = audit.ResultSuccess, keys
	if err != nil {
		e, internal := toError(err)
		if internal {
			h.log.Error("request failed", "request_id", requestID, "action", ev.Action, "err", err)
		}
		resp = &errorResponse{Error: *e}
		ev.Result, ev.Message = e.Code, e.Message
	}
	if err := h.record(r.Context(), ev); err != nil {
		// Fail closed: no result leaves without its durable event.
		resp = &errorResponse{Error: Error{Code: codeInternal, Message: "the audit trail could not be written, so the result is withheld"}}
	}
	if s, ok := resp.(interface{ setRequestID(string) }); ok {
		s.setRequestID(requestID)
	}
	buf.Reset()
	buf.WriteString(`{"Response":`)
	enc := json.NewEncoder(buf)
	if err := enc.Encode(resp); err != nil {
		h.log.Error("encode response", "request_id", requestID, "err", err)
		buf.Reset()
		buf.WriteString(`{"Response":{"Error":{"Code":"InternalError","Message":"encode response"},"RequestId":"` + requestID + `"}`)
	}
	buf.WriteString("}")
	hdr := w.Header()
	hdr["Content-Type"] = jsonContentType
	hdr["X-Tc-Requestid"] = []string{requestID}
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

var jsonContentType = []string{"application/json"}

// record makes an audit event durable (if auditing is on); the client's
// going away does not stop it.
func (h *Handler) record(ctx context.Context, ev audit.Event) error {
	if h.audit == nil {
		return nil
	}
	if _, err := h.audit.Append(context.WithoutCancel(ctx), ev); err != nil {
		h.log.Error("audit event not written", "request_id", ev.RequestID, "action", ev.Action, "phase", ev.Phase, "err", err)
		return err
	}
	return nil
}

// serve runs one request, filling ev with what it learns (service, caller)
// and returning the response, the keys it touched and its error. A request
// that changes state gets a durable request event before it runs: if that
// cannot be written, nothing happens.
func (h *Handler) serve(r *http.Request, buf *bytes.Buffer, ev *audit.Event) (any, []string, error) {
	resp, c, err := h.dispatch(r, buf, ev)
	if c == nil {
		return resp, nil, err
	}
	return resp, c.keys, err
}

func (h *Handler) dispatch(r *http.Request, buf *bytes.Buffer, ev *audit.Event) (any, *call, error) {
	if r.Method != http.MethodPost {
		return nil, nil, &Error{Code: codeUnsupportedProto, Message: "only POST with a JSON body is served"}
	}
	if r.ContentLength > MaxBodyBytes {
		return nil, nil, &Error{Code: codeRequestTooLarge, Message: "the request body is over 64 KiB"}
	}
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, MaxBodyBytes+1)); err != nil {
		return nil, nil, &Error{Code: codeInvalidParam, Message: "could not read the request body"}
	}
	if buf.Len() > MaxBodyBytes {
		return nil, nil, &Error{Code: codeRequestTooLarge, Message: "the request body is over 64 KiB"}
	}
	body := buf.Bytes()

	name := r.Header.Get("X-TC-Action")
	if name == "" {
		return nil, nil, &Error{Code: codeMissingParam, Message: "the X-TC-Action header is missing"}
	}
	v := r.Header.Get("X-TC-Version")
	svc, ok := h.services[v]
	switch {
	case v == "":
		return nil, nil, &Error{Code: codeMissingParam, Message: "the X-TC-Version header is missing"}
	case !ok:
		return nil, nil, &Error{Code: codeNoSuchVersion, Message: "version " + quote(v) + " is not served; kms is " + Version + ", cam " + CAMVersion}
	}
	act, ok := svc.actions[name]
	if !ok {
		return nil, nil, &Error{Code: codeInvalidAction, Message: "unknown " + svc.name + " action " + quote(name)}
	}
	if reg := r.Header.Get("X-TC-Region"); reg != "" && reg != h.region {
		return nil, nil, &Error{Code: codeUnsupportedReg, Message: "this server serves region " + quote(h.region) + ", not " + quote(reg)}
	}
	cred, err := h.verifier.Verify(r.Context(), r, body, svc.name)
	if err != nil {
		var ae *auth.Error
		if errors.As(err, &ae) {
			return nil, nil, &Error{Code: ae.Code, Message: ae.Message}
		}
		return nil, nil, err
	}
	ev.Service, ev.Account, ev.User, ev.SecretID = audit.Service(svc.name), cred.Account, cred.User, cred.SecretID
	c := &call{h: h, service: svc.name, action: name, cred: cred, body: body, ip: ev.SourceIP}
	if svc.mutating[name] {
		req := *ev
		req.Phase, req.KeyIDs, req.Result = audit.PhaseRequest, peekKeyIDs(body), ""
		if err := h.record(r.Context(), req); err != nil {
			return nil, nil, fmt.Errorf("audit request event: %w", err)
		}
		ev.Phase = audit.PhaseOutcome
	}
	resp, err := act(r.Context(), c)
	return resp, c, err
}

// sourceIP is the client's address, without the port.
func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// peekKeyIDs reads the KeyId/KeyIds of a request body for its request event.
func peekKeyIDs(body []byte) []string {
	var ids struct {
		KeyId  string
		KeyIds []string
	}
	json.Unmarshal(body, &ids)
	if ids.KeyId != "" {
		ids.KeyIds = append(ids.KeyIds, ids.KeyId)
	}
	return ids.KeyIds
}

// quote bounds and quotes a client-supplied string for an error message.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	b, _ := json.Marshal(s)
	return string(b)
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// response carries the RequestId every response has.
type response struct {
	RequestId string
}

func (r *response) setRequestID(id string) { r.RequestId = id }

type errorResponse struct {
	Error Error
	response
}

// decode reads a request strictly: unknown fields are UnknownParameter,
// malformed JSON or wrong types InvalidParameter.
func decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr):
			return &Error{Code: codeInvalidParam, Message: "parameter " + quote(typeErr.Field) + " has the wrong type"}
		case isUnknownField(err):
			return &Error{Code: codeUnknownParam, Message: err.Error()[len("json: "):]}
		}
		return &Error{Code: codeInvalidParam, Message: "the request body is not valid JSON"}
	}
	if dec.More() {
		return &Error{Code: codeInvalidParam, Message: "the request body holds more than one JSON value"}
	}
	return nil
}

func isUnknownField(err error) bool {
	const prefix = "json: unknown field "
	s := err.Error()
	return len(s) > len(prefix) && s[:len(prefix)] == prefix
}

func missing(name string) error {
	return &Error{Code: codeMissingParam, Message: "the parameter " + name + " is required"}
}

func invalid(name, why string) error {
	return &Error{Code: codeInvalidValue, Message: "the parameter " + name + " " + why}
}
