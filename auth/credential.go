package auth

import (
	"context"
	"log/slog"
)

// Credential is what a SecretId resolves to: the access key pair and the
// principal it belongs to. Secret is owned by whoever returned the Credential;
// the package reads it and keeps only a fingerprint and derived keys.
//
// A Credential never prints, logs or marshals its Secret.
type Credential struct {
	SecretID string
	Account  string // account id
	User     string // principal id
	Secret   []byte `json:"-"` // the SecretKey
}

// String describes the credential without its secret.
func (c Credential) String() string {
	return "Credential{SecretID:" + c.SecretID + " Account:" + c.Account + " User:" + c.User + " Secret:[REDACTED]}"
}

// GoString describes the credential without its secret.
func (c Credential) GoString() string { return c.String() }

// LogValue logs the credential without its secret.
func (c Credential) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("secret_id", c.SecretID),
		slog.String("account", c.Account),
		slog.String("user", c.User),
	)
}

// Lookup resolves a SecretId. It returns an error wrapping ErrUnknownSecretID
// if there is no such credential and one wrapping ErrInactive if it is
// disabled; any other error is reported to the client as an internal error.
// Verify calls it on every request, so it should answer from memory.
type Lookup func(ctx context.Context, secretID string) (Credential, error)
