package tencent

import (
	"context"
	"encoding/base64"
	"encoding/pem"

	"github.com/keyhaven/keyhaven/kms"
)

func (h *Handler) getPublicKey(ctx context.Context, c *call) (any, error) {
	id, err := c.keyID(ctx)
	if err != nil {
		return nil, err
	}
	pub, err := h.svc.GetPublicKey(ctx, c.cred.Account, id)
	if err != nil {
		return nil, err
	}
	return &struct {
		KeyId        string
		PublicKey    string
		PublicKeyPem string
		response
	}{
		KeyId:        id,
		PublicKey:    base64.StdEncoding.EncodeToString(pub.DER),
		PublicKeyPem: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub.DER})),
	}, nil
}

func (h *Handler) asymmetricRsaDecrypt(ctx context.Context, c *call) (any, error) {
	var req struct {
		KeyId      *string
		Ciphertext *string
		Algorithm  *string
	}
	if err := decode(c.body, &req); err != nil {
		return nil, err
	}
	if req.KeyId == nil {
		return nil, missing("KeyId")
	}
	if req.Algorithm == nil {
		return nil, missing("Algorithm")
	}
	alg := kms.EncryptAlgorithm(*req.Algorithm)
	switch alg {
	case kms.EncryptRSAOAEPSHA1, kms.EncryptRSAOAEPSHA256:
	case "RSAES_PKCS1_V1_5":
		return nil, &Error{Code: codeUnsupportedOp, Message: "RSAES_PKCS1_V1_5 decryption is not offered (it invites padding-oracle attacks); use RSAES_OAEP_SHA_256"}
	default:
		return nil, invalid("Algorithm", "is RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256")
	}
	return h.asymmetricDecrypt(ctx, c, *req.KeyId, alg, req.Ciphertext)
}

func (h *Handler) asymmetricSm2Decrypt(ctx context.Context, c *call) (any, error) {
	var req struct {
		KeyId      *string
		Ciphertext *string
	}
	if err := decode(c.body, &req); err != nil {
		return nil, err
	}
	if req.KeyId == nil {
		return nil, missing("KeyId")
	}
	return h.asymmetricDecrypt(ctx, c, *req.KeyId, kms.EncryptSM2, req.Ciphertext)
}

func (h *Handler) asymmetricDecrypt(ctx context.Context, c *call, id string, alg kms.EncryptAlgorithm, ciphertext *string) (any, error) {
	ct, err := decodeBase64("Ciphertext", ciphertext)
	if err != nil {
		return nil, err
	}
	if err := c.authorize(ctx, id, nil); err != nil {
		return nil, err
	}
	pt, err := h.svc.AsymmetricDecrypt(ctx, kms.AsymmetricDecryptInput{Account: c.cred.Account, KeyID: id, Algorithm: alg, Ciphertext: ct})
	if err != nil {
		return nil, err
	}
	defer pt.Wipe()
	return &struct {
		KeyId     string
		Plaintext string
		response
	}{KeyId: id, Plaintext: base64.StdEncoding.EncodeToString(pt)}, nil
}

// signRequest holds the fields SignByAsymmetricKey and VerifyByAsymmetricKey share.
type signRequest struct {
	KeyId          *string
	Algorithm      *string
	Message        *string
	MessageType    *string
	SignatureValue *string // VerifyByAsymmetricKey only
}

func (r *signRequest) input(account string) (kms.SignInput, error) {
	switch {
	case r.KeyId == nil:
		return kms.SignInput{}, missing("KeyId")
	case r.Algorithm == nil:
		return kms.SignInput{}, missing("Algorithm")
	}
	msg, err := decodeBase64("Message", r.Message)
	if err != nil {
		return kms.SignInput{}, err
	}
	typ := kms.MessageRaw
	if r.MessageType != nil {
		typ = kms.MessageType(*r.MessageType)
		if typ != kms.MessageRaw && typ != kms.MessageDigest {
			return kms.SignInput{}, invalid("MessageType", "is RAW or DIGEST")
		}
	}
	return kms.SignInput{Account: account, KeyID: *r.KeyId, Algorithm: kms.SignAlgorithm(*r.Algorithm), Type: typ, Message: msg}, nil
}

func (h *Handler) signByAsymmetricKey(ctx context.Context, c *call) (any, error) {
	var req signRequest
	if err := decode(c.body, &req); err != nil {
		return nil, err
	}
	if req.SignatureValue != nil {
		return nil, &Error{Code: codeUnknownParam, Message: "SignByAsymmetricKey has no parameter SignatureValue"}
	}
	in, err := req.input(c.cred.Account)
	if err != nil {
		return nil, err
	}
	if err := c.authorize(ctx, in.KeyID, nil); err != nil {
		return nil, err
	}
	sig, err := h.svc.Sign(ctx, in)
	if err != nil {
		return nil, err
	}
	return &struct {
		Signature string
		response
	}{Signature: base64.StdEncoding.EncodeToString(sig)}, nil
}

func (h *Handler) verifyByAsymmetricKey(ctx context.Context, c *call) (any, error) {
	var req signRequest
	if err := decode(c.body, &req); err != nil {
		return nil, err
	}
	in, err := req.input(c.cred.Account)
	if err != nil {
		return nil, err
	}
	if err := c.authorize(ctx, in.KeyID, nil); err != nil {
		return nil, err
	}
	sig, err := decodeBase64("SignatureValue", req.SignatureValue)
	if err != nil {
		return nil, err
	}
	ok, err := h.svc.Verify(ctx, in, sig)
	if err != nil {
		return nil, err
	}
	return &struct {
		SignatureValid bool
		response
	}{SignatureValid: ok}, nil
}
