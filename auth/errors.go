package auth

import "errors"

// Errors a Lookup wraps to say why a SecretId does not resolve. Verify turns
// both into an *Error with Code CodeSecretIDNotFound; errors.Is still finds
// them through it.
var (
	// ErrUnknownSecretID means no credential has this SecretId.
	ErrUnknownSecretID = errors.New("auth: unknown SecretId")
	// ErrInactive means the credential exists but is disabled.
	ErrInactive = errors.New("auth: SecretId is disabled")
)

// Codes of an *Error. They are the Tencent Cloud API 3.0 common error codes,
// so a dialect can send them to clients unchanged.
const (
	// CodeMissingParameter: the Authorization or X-TC-Timestamp header is absent.
	CodeMissingParameter = "MissingParameter"
	// CodeSignatureFailure: the signature does not match, or the Authorization
	// header, its credential scope, its signed headers or the timestamp are
	// malformed or do not fit the request.
	CodeSignatureFailure = "AuthFailure.SignatureFailure"
	// CodeSignatureExpire: X-TC-Timestamp is more than 5 minutes from now.
	CodeSignatureExpire = "AuthFailure.SignatureExpire"
	// CodeSecretIDNotFound: the SecretId is unknown or disabled.
	CodeSecretIDNotFound = "AuthFailure.SecretIdNotFound"
	// CodeInternalError: the credential could not be looked up.
	CodeInternalError = "InternalError"
)

// Error is an authentication failure. Code is one of the Code constants and
// Message a plain sentence safe to send to the client: it never holds a
// secret, an expected signature or a canonical request. Err, if set, is the
// cause (a Lookup error) for the server's log; it is not part of Error().
type Error struct {
	Code    string
	Message string
	Err     error
}

// Error returns "Code: Message".
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Unwrap returns the cause, if any.
func (e *Error) Unwrap() error { return e.Err }

func signatureFailure(msg string) *Error {
	return &Error{Code: CodeSignatureFailure, Message: msg}
}
