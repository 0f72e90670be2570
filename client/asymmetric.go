package client

import "context"

// GetPublicKeyResponse is GetPublicKey's output: the DER
// SubjectPublicKeyInfo and its PEM.
type GetPublicKeyResponse struct {
	KeyID        string `json:"KeyId"`
	PublicKey    []byte
	PublicKeyPem string
	Response
}

// GetPublicKey returns an asymmetric key's public key.
func (c *Client) GetPublicKey(ctx context.Context, keyID string) (*GetPublicKeyResponse, error) {
	var resp GetPublicKeyResponse
	return &resp, c.Call(ctx, "GetPublicKey", keyIDRequest{keyID}, &resp)
}

// AsymmetricRsaDecryptRequest is AsymmetricRsaDecrypt's input; Algorithm is
// RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256.
type AsymmetricRsaDecryptRequest struct {
	KeyID      string `json:"KeyId"`
	Ciphertext []byte
	Algorithm  string
}

// AsymmetricDecryptResponse is the output of AsymmetricRsaDecrypt and
// AsymmetricSm2Decrypt.
type AsymmetricDecryptResponse struct {
	KeyID     string `json:"KeyId"`
	Plaintext []byte
	Response
}

// AsymmetricRsaDecrypt decrypts with an ASYMMETRIC_DECRYPT_RSA_2048 key.
func (c *Client) AsymmetricRsaDecrypt(ctx context.Context, req AsymmetricRsaDecryptRequest) (*AsymmetricDecryptResponse, error) {
	var resp AsymmetricDecryptResponse
	return &resp, c.Call(ctx, "AsymmetricRsaDecrypt", req, &resp)
}

// AsymmetricSm2DecryptRequest is AsymmetricSm2Decrypt's input: an SM2
// ciphertext in ASN.1 C1C3C2.
type AsymmetricSm2DecryptRequest struct {
	KeyID      string `json:"KeyId"`
	Ciphertext []byte
}

// AsymmetricSm2Decrypt decrypts with an ASYMMETRIC_DECRYPT_SM2 key.
func (c *Client) AsymmetricSm2Decrypt(ctx context.Context, req AsymmetricSm2DecryptRequest) (*AsymmetricDecryptResponse, error) {
	var resp AsymmetricDecryptResponse
	return &resp, c.Call(ctx, "AsymmetricSm2Decrypt", req, &resp)
}

// SignByAsymmetricKeyRequest is SignByAsymmetricKey's input. Algorithm is
// SM2DSA, ECC_P256_R1, ECC_P384_R1, RSA_PSS_SHA_256/384/512 or
// RSA_PKCS1_SHA_256/384/512; MessageType "" is RAW (Message ≤ 4096 bytes);
// DIGEST takes exactly the digest.
type SignByAsymmetricKeyRequest struct {
	KeyID       string `json:"KeyId"`
	Algorithm   string
	Message     []byte
	MessageType MessageType `json:",omitempty"`
}

// SignByAsymmetricKeyResponse is SignByAsymmetricKey's output; ECDSA and SM2
// signatures are ASN.1 DER.
type SignByAsymmetricKeyResponse struct {
	Signature []byte
	Response
}

// SignByAsymmetricKey signs a message.
func (c *Client) SignByAsymmetricKey(ctx context.Context, req SignByAsymmetricKeyRequest) (*SignByAsymmetricKeyResponse, error) {
	var resp SignByAsymmetricKeyResponse
	return &resp, c.Call(ctx, "SignByAsymmetricKey", req, &resp)
}

// VerifyByAsymmetricKeyRequest is VerifyByAsymmetricKey's input.
type VerifyByAsymmetricKeyRequest struct {
	KeyID          string `json:"KeyId"`
	Algorithm      string
	Message        []byte
	MessageType    MessageType `json:",omitempty"`
	SignatureValue []byte
}

// VerifyByAsymmetricKeyResponse is VerifyByAsymmetricKey's output.
type VerifyByAsymmetricKeyResponse struct {
	SignatureValid bool
	Response
}

// VerifyByAsymmetricKey checks a signature. An invalid signature is not an
// error: SignatureValid is false.
func (c *Client) VerifyByAsymmetricKey(ctx context.Context, req VerifyByAsymmetricKeyRequest) (*VerifyByAsymmetricKeyResponse, error) {
	var resp VerifyByAsymmetricKeyResponse
	return &resp, c.Call(ctx, "VerifyByAsymmetricKey", req, &resp)
}
