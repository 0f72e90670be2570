package client

import (
	"errors"
	"strings"
)

// APIError is an error the server answered with: HTTP 200 and a Tencent
// error envelope. Code is the stable Tencent code (for example
// "ResourceUnavailable.CmkNotFound"); Message is for people.
type APIError struct {
	Code      string
	Message   string
	RequestID string
}

func (e *APIError) Error() string {
	s := e.Code + ": " + e.Message
	if e.RequestID != "" {
		s += " (RequestId " + e.RequestID + ")"
	}
	return s
}

// IsCode reports whether err is an *APIError whose code is code or, when code
// names a category such as "ResourceUnavailable", one of its subcodes.
func IsCode(err error, code string) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.Code == code || strings.HasPrefix(ae.Code, code+".")
}

// ErrAliasNotFound is returned (wrapped) by ResolveKeyID when no key has the
// alias asked for.
var ErrAliasNotFound = errors.New("client: no key has this alias")

// HTTPError is a response that was not the API's: a status other than 200
// (a proxy or load balancer answering, usually) or a body that is not a
// Tencent envelope.
type HTTPError struct {
	StatusCode int
	Status     string
	// Body is the start of the response body, for diagnostics.
	Body string
}

func (e *HTTPError) Error() string {
	s := "client: HTTP " + e.Status
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}
