// Package kms is Keyhaven's domain: customer master keys (CMKs), their
// versions and states, the rules of their lifecycle, and the cryptographic
// operations done with them.
//
// The package owns the interfaces it consumes — Store (persistence), Backend
// (key material), Sealer (secrets at rest) and Clock — and imports no adapter:
// no net/http, no SQL driver, no wire dialect. Dialects under api/ turn their
// requests into calls on Service and map its errors (errors.go) to their codes.
package kms
