// Package tencent is the Tencent Cloud API 3.0 dialect of Keyhaven: it
// decodes `POST /` requests carrying X-TC-Action, verifies their
// TC3-HMAC-SHA256 signature, calls kms.Service, and encodes the response in
// the shapes of the official SDK's kms/v20190118 models.
//
// Every error reaches the client as HTTP 200 with the Tencent error envelope
// {"Response":{"Error":{"Code","Message"},"RequestId"}}; errors.go is the one
// table from kms errors to Tencent codes. The package holds wire details only:
// business rules live in kms.
package tencent
