package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// WrappingAlgorithm is how key material is encrypted for import, in
// Tencent's names.
type WrappingAlgorithm string

// Wrapping algorithms. SM2PKE is for servers of the SM suite.
const (
	WrapRSAOAEPSHA256 WrappingAlgorithm = "RSAES_OAEP_SHA_256"
	WrapRSAOAEPSHA1   WrappingAlgorithm = "RSAES_OAEP_SHA_1"
	WrapRSAPKCS1      WrappingAlgorithm = "RSAES_PKCS1_V1_5"
	WrapSM2           WrappingAlgorithm = "SM2PKE"
)

// Wrapping key specs.
const (
	WrappingKeyRSA2048 = "RSA_2048"
	WrappingKeySM2     = "SM2"
)

// ParseWrappingAlgorithm returns the wrapping algorithm named s, or an error
// listing the names.
func ParseWrappingAlgorithm(s string) (WrappingAlgorithm, error) {
	switch a := WrappingAlgorithm(s); a {
	case WrapRSAOAEPSHA256, WrapRSAOAEPSHA1, WrapRSAPKCS1, WrapSM2:
		return a, nil
	}
	return "", fmt.Errorf("client: wrapping algorithm %q is not RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1, RSAES_PKCS1_V1_5 or SM2PKE", s)
}

// KeySpec is the wrapping key spec that goes with the algorithm: SM2 for
// SM2PKE, RSA_2048 for the others.
func (a WrappingAlgorithm) KeySpec() string {
	if a == WrapSM2 {
		return WrappingKeySM2
	}
	return WrappingKeyRSA2048
}

// GetParametersForImportRequest is GetParametersForImport's input, for a
// key made with CreateKey Type 2 (EXTERNAL).
type GetParametersForImportRequest struct {
	KeyID             string `json:"KeyId"`
	WrappingAlgorithm WrappingAlgorithm
	WrappingKeySpec   string
}

// GetParametersForImportResponse is GetParametersForImport's output: a
// one-time wrapping public key (DER SubjectPublicKeyInfo) and the token to
// import with, both valid until ParametersValidTo (Unix seconds).
type GetParametersForImportResponse struct {
	KeyID             string `json:"KeyId"`
	ImportToken       string
	PublicKey         []byte
	ParametersValidTo uint64
	Response
}

// GetParametersForImport makes fresh import parameters. A key that is not
// EXTERNAL is the APIError UnsupportedOperation.NotExternalCmk. It is not retried after an attempt that may have
// reached the server.
func (c *Client) GetParametersForImport(ctx context.Context, req GetParametersForImportRequest) (*GetParametersForImportResponse, error) {
	var resp GetParametersForImportResponse
	return &resp, c.Call(ctx, "GetParametersForImport", req, &resp)
}

// ImportKeyMaterialRequest is ImportKeyMaterial's input: material wrapped
// with the parameters' public key (see WrapKeyMaterial), their token, and
// when the material expires (Unix seconds; 0 for never).
type ImportKeyMaterialRequest struct {
	EncryptedKeyMaterial []byte
	ImportToken          string
	KeyID                string `json:"KeyId"`
	ValidTo              uint64 `json:",omitempty"`
}

// ImportKeyMaterial imports key material; the key becomes Enabled. The token
// is used up by any attempt. APIErrors: InvalidParameterValue.MaterialNotMatch
// for material other than the key's first, ResourceUnavailable.TokenExpired
// for an expired, used or unknown token, InvalidParameter.DecryptMaterialError
// for material that does not unwrap, UnsupportedOperation.NotExternalCmk for
// a key that takes no imported material. It is not retried after an attempt
// that may have reached the server.
func (c *Client) ImportKeyMaterial(ctx context.Context, req ImportKeyMaterialRequest) (*Response, error) {
	var resp Response
	return &resp, c.Call(ctx, "ImportKeyMaterial", req, &resp)
}

// DeleteImportedKeyMaterial destroys an EXTERNAL key's material: the key is
// PendingImport, and its ciphertexts fail until the same material is
// imported again.
func (c *Client) DeleteImportedKeyMaterial(ctx context.Context, keyID string) (*Response, error) {
	var resp Response
	return &resp, c.Call(ctx, "DeleteImportedKeyMaterial", keyIDRequest{keyID}, &resp)
}

// WrapKeyMaterial encrypts material with publicKey (a DER
// SubjectPublicKeyInfo, as GetParametersForImport returns it) the way alg
// says, with randomness from random: RSA-OAEP with SHA-256 or SHA-1 (MGF1
// with the same hash), RSA PKCS #1 v1.5, or SM2 (ASN.1 C1C3C2). It fails if
// the key is not of the algorithm's kind.
func WrapKeyMaterial(random io.Reader, alg WrappingAlgorithm, publicKey, material []byte) ([]byte, error) {
	if _, err := ParseWrappingAlgorithm(string(alg)); err != nil {
		return nil, err
	}
	pub, err := smx509.ParsePKIXPublicKey(publicKey)
	if err != nil {
		return nil, fmt.Errorf("client: wrapping public key: %w", err)
	}
	if alg == WrapSM2 {
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || k.Curve != sm2.P256() {
			return nil, errors.New("client: the wrapping public key is not SM2")
		}
		return sm2.EncryptASN1(random, k, material)
	}
	k, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("client: the wrapping public key is not RSA")
	}
	switch alg {
	case WrapRSAOAEPSHA1:
		return rsa.EncryptOAEP(sha1.New(), random, k, material, nil)
	case WrapRSAPKCS1:
		return rsa.EncryptPKCS1v15(random, k, material)
	}
	return rsa.EncryptOAEP(sha256.New(), random, k, material, nil)
}
