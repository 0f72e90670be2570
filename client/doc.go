// Package client is the Go SDK of Keyhaven: a typed client for every action
// of the server's Tencent Cloud API 3.0 dialect (TC3-HMAC-SHA256 signed JSON
// POSTs at "/"): the KMS actions (kms, version 2019-01-18), the identity
// actions (cam, 2019-01-16: sub-users, access keys, policies) and the audit
// trail (cloudaudit, 2019-03-19). Each request is signed for its service.
//
// Each action is a method that takes a context first and a request struct
// whose fields are the API's (in Go spelling; the JSON names are the API's
// exactly, so encoding a response gives the API's response object). Fields
// that are base64 on the wire are []byte here: the client encodes and
// decodes them. Encryption contexts are maps.
//
// Errors the server answers with are *APIError, carrying the Tencent code,
// message and RequestId; use errors.As to inspect them. Transient failures
// are retried with exponential backoff and jitter, each attempt re-signed
// with a fresh timestamp; see Config.MaxRetries for what is retried.
//
// The package signs with auth.TC3Signer (the signer the server's tests hold
// to the official SDK's). It imports no server code and no kms domain type.
// Actions of the cam and cloudaudit services are in cam.go and audit.go;
// Client.Call sends kms actions only. Secrets the server returns once (a new
// user's or access key's SecretKey) are of type Secret, which never prints.
//
// A Client is safe for concurrent use.
package client
