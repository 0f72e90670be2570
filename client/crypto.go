package client

import "context"

// EncryptRequest is Encrypt's input: at most 4096 bytes of Plaintext.
type EncryptRequest struct {
	KeyID             string `json:"KeyId"`
	Plaintext         []byte
	EncryptionContext EncryptionContext `json:",omitempty"`
}

// EncryptResponse is Encrypt's output. CiphertextBlob names its key and
// version, so decrypting it needs no key id.
type EncryptResponse struct {
	CiphertextBlob []byte
	KeyID          string `json:"KeyId"`
	Response
}

// Encrypt encrypts a small plaintext under a symmetric CMK. A key that is
// not Enabled is an APIError such as ResourceUnavailable.CmkDisabled.
func (c *Client) Encrypt(ctx context.Context, req EncryptRequest) (*EncryptResponse, error) {
	var resp EncryptResponse
	return &resp, c.Call(ctx, "Encrypt", req, &resp)
}

// DecryptRequest is Decrypt's input. With EncryptionPublicKey (PEM, RSA-2048
// or SM2) and EncryptionAlgorithm, the server returns the plaintext
// encrypted under that public key instead of in the clear.
type DecryptRequest struct {
	CiphertextBlob      []byte
	EncryptionContext   EncryptionContext `json:",omitempty"`
	EncryptionPublicKey string            `json:",omitempty"`
	EncryptionAlgorithm string            `json:",omitempty"`
}

// DecryptResponse is Decrypt's output.
type DecryptResponse struct {
	KeyID     string `json:"KeyId"`
	Plaintext []byte
	Response
}

// Decrypt decrypts a CiphertextBlob of Encrypt, ReEncrypt or GenerateDataKey.
// A damaged blob or a wrong context is the APIError
// InvalidParameterValue.InvalidCiphertext.
func (c *Client) Decrypt(ctx context.Context, req DecryptRequest) (*DecryptResponse, error) {
	var resp DecryptResponse
	return &resp, c.Call(ctx, "Decrypt", req, &resp)
}

// ReEncryptRequest is ReEncrypt's input; DestinationKeyID "" keeps the
// source key (re-encrypting under its newest version).
type ReEncryptRequest struct {
	CiphertextBlob               []byte
	DestinationKeyID             string            `json:"DestinationKeyId,omitempty"`
	SourceEncryptionContext      EncryptionContext `json:",omitempty"`
	DestinationEncryptionContext EncryptionContext `json:",omitempty"`
}

// ReEncryptResponse is ReEncrypt's output.
type ReEncryptResponse struct {
	CiphertextBlob []byte
	KeyID          string `json:"KeyId"`
	SourceKeyID    string `json:"SourceKeyId"`
	ReEncrypted    bool
	Response
}

// ReEncrypt decrypts a blob and encrypts its plaintext again, inside the
// server.
func (c *Client) ReEncrypt(ctx context.Context, req ReEncryptRequest) (*ReEncryptResponse, error) {
	var resp ReEncryptResponse
	return &resp, c.Call(ctx, "ReEncrypt", req, &resp)
}

// GenerateDataKeyRequest is GenerateDataKey's input. KeySpec (AES_128,
// AES_256 or SM4) or NumberOfBytes (1-1024) chooses the size; neither gives
// the server suite's data key (32 bytes, or 16 for SM4 on an SM server).
// EncryptionPublicKey and EncryptionAlgorithm work as in DecryptRequest.
type GenerateDataKeyRequest struct {
	KeyID               string            `json:"KeyId"`
	KeySpec             string            `json:",omitempty"`
	NumberOfBytes       uint64            `json:",omitempty"`
	EncryptionContext   EncryptionContext `json:",omitempty"`
	EncryptionPublicKey string            `json:",omitempty"`
	EncryptionAlgorithm string            `json:",omitempty"`
}

// GenerateDataKeyResponse is GenerateDataKey's output: the data key in the
// clear (Plaintext) and encrypted under the CMK (CiphertextBlob).
type GenerateDataKeyResponse struct {
	KeyID          string `json:"KeyId"`
	Plaintext      []byte
	CiphertextBlob []byte
	Response
}

// GenerateDataKey makes a data key for envelope encryption.
func (c *Client) GenerateDataKey(ctx context.Context, req GenerateDataKeyRequest) (*GenerateDataKeyResponse, error) {
	var resp GenerateDataKeyResponse
	return &resp, c.Call(ctx, "GenerateDataKey", req, &resp)
}

// GenerateRandomResponse is GenerateRandom's output.
type GenerateRandomResponse struct {
	Plaintext []byte
	Response
}

// GenerateRandom returns n (1-1024) random bytes from the server.
func (c *Client) GenerateRandom(ctx context.Context, n uint64) (*GenerateRandomResponse, error) {
	var resp GenerateRandomResponse
	req := struct{ NumberOfBytes uint64 }{n}
	return &resp, c.Call(ctx, "GenerateRandom", req, &resp)
}
