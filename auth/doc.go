// Package auth owns request authentication: it decides who sent a request.
// Today that is the verification of Tencent Cloud API 3.0 signatures
// (TC3-HMAC-SHA256, see TC3Verifier); principals, CAM-style policies and AWS
// SigV4 come later.
//
// The package does not route and does not decide what a principal may do. It
// takes an *http.Request together with the body the caller has already read,
// and learns secrets only through a Lookup function the caller supplies. It
// must not import a router, a store, a dialect package or the kms domain.
package auth
