package kms

import "log/slog"

// SecretBytes holds key material, plaintext or a secret key. It never prints,
// logs or marshals its contents.
type SecretBytes []byte

// String returns a fixed placeholder, never the bytes.
func (SecretBytes) String() string { return "[REDACTED]" }

// GoString returns a fixed placeholder, never the bytes.
func (SecretBytes) GoString() string { return "[REDACTED]" }

// LogValue keeps the bytes out of structured logs.
func (SecretBytes) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// MarshalJSON keeps the bytes out of any JSON it is accidentally part of.
func (SecretBytes) MarshalJSON() ([]byte, error) { return []byte(`"[REDACTED]"`), nil }

// Wipe zeroes the bytes.
func (s SecretBytes) Wipe() { clear(s) }
