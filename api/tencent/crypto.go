package tencent

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"

	"github.com/keyhaven/keyhaven/internal/pubenc"
	"github.com/keyhaven/keyhaven/kms"
)

// maxContext is the longest EncryptionContext string accepted.
const maxContext = 1024

// encryptionContext parses Tencent's EncryptionContext, a JSON object of
// string pairs; absent and "" mean none.
func encryptionContext(name string, s *string) (map[string]string, error) {
	if s == nil || *s == "" {
		return nil, nil
	}
	if len(*s) > maxContext {
		return nil, invalid(name, "has at most 1024 characters")
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(*s), &m); err != nil || m == nil {
		return nil, invalid(name, "must be a JSON object of string keys and string values")
	}
	return m, nil
}

func decodeBase64(name string, s *string) ([]byte, error) {
	if s == nil || *s == "" {
		return nil, missing(name)
	}
	b, err := base64.StdEncoding.DecodeString(*s)
	if err != nil {
		return nil, invalid(name, "is not valid base64")
	}
	return b, nil
}

// ciphertextBlob decodes a CiphertextBlob; bad base64 is an invalid
// ciphertext, as any other damage to the blob.
func ciphertextBlob(s *string) ([]byte, error) {
	if s == nil || *s == "" {
		return nil, missing("CiphertextBlob")
	}
	b, err := base64.StdEncoding.DecodeString(*s)
	if err != nil {
		return nil, &Error{Code: "InvalidParameterValue.InvalidCiphertext", Message: "CiphertextBlob is not valid base64"}
	}
	return b, nil
}

func (h *Handler) encrypt(ctx context.Context, c *call) (any, error) {
	var req struct {
		KeyId             *string
		Plaintext         *string
		EncryptionContext *string
	}
	if err := decode(c.body, &req); err != nil {
		return nil, err
	}
	if req.KeyId == nil {
		return nil, missing("KeyId")
	}
	pt, err := decodeBase64("Plaintext", req.Plaintext)
	if err != nil {
		return nil, err
	}
	defer kms.SecretBytes(pt).Wipe()
	encCtx, err := encryptionContext("EncryptionContext", req.EncryptionContext)
	if err != nil {
		return nil, err
	}
	if err := c.authorize(ctx, *req.KeyId, encCtx); err != nil {
		return nil, err
	}
	blob, err := h.svc.Encrypt(ctx, kms.EncryptInput{Account: c.cred.Account, KeyID: *req.KeyId, Plaintext: pt, Context: encCtx})
	if err != nil {
		return nil, err
	}
	return &struct {
		CiphertextBlob string
		KeyId          string
		response
	}{CiphertextBlob: base64.StdEncoding.EncodeToString(blob), KeyId: *req.KeyId}, nil
}

// recipient parses the EncryptionPublicKey option: when it is set, the
// plaintext goes back encrypted under the caller's public key instead of in
// the clear. It returns nil when the option is not used.
func recipient(publicKey, algorithm *string) (*pubenc.PublicKey, error) {
	if publicKey == nil || *publicKey == "" {
		if algorithm != nil && *algorithm != "" {
			return nil, missing("EncryptionPublicKey")
		}
		return nil, nil
	}
	pub, err := pubenc.Parse(*publicKey, deref(algorithm))
	switch {
	case errors.Is(err, pubenc.ErrUnsupportedAlgorithm):
		return nil, invalid("EncryptionAlgorithm", "is SM2, SM2_C1C3C2_ASN1, RSAES_PKCS1_V1_5, RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256")
	case err != nil:
		return nil, invalid("EncryptionPublicKey", "must be a PEM RSA-2048 or SM2 public key matching EncryptionAlgorithm")
	}
	return pub, nil
}

// plaintextField encodes a plaintext for the response, under pub if set.
func plaintextField(pub *pubenc.PublicKey, plaintext []byte) (string, error) {
	if pub == nil {
		return base64.StdEncoding.EncodeToString(plaintext), nil
	}
	ct, err := pub.Encrypt(rand.Reader, plaintext)
	if err != nil {
		return "", invalid("EncryptionPublicKey", "cannot encrypt a plaintext this long with this algorithm")
	}
	return base64.StdEncoding.EncodeToString(ct), nil
}

func (h *Handler) decrypt(ctx context.Context, c *call) (any, error) {
	var req struct {
		CiphertextBlob      *string
		EncryptionContext   *string
		EncryptionPublicKey *string
		EncryptionAlgorithm *string
	}
	if err := decode(c.body, &req); err != nil {
		return nil, err
	}
	blob, err := ciphertextBlob(req.CiphertextBlob)
	if err != nil {
		return nil, err
	}
	encCtx, err := encryptionContext("EncryptionContext", req.EncryptionContext)
	if err != nil {
		return nil, err
	}
	pub, err := recipient(req.EncryptionPublicKey, req.EncryptionAlgorithm)
	if err != nil {
		return nil, err
	}
	if err := c.authorizeBlob(ctx, blob, encCtx); err != nil {
		return nil, err
	}
	out, err := h.svc.Decrypt(ctx, kms.DecryptInput{Account: c.cred.Account, Ciphertext: blob, Context: encCtx})
	if err != nil {
		return nil, err
	}
	defer out.Plaintext.Wipe()
	pt, err := plaintextField(pub, out.Plaintext)
	if err != nil {
		return nil, err
	}
	return &struct {
		KeyId     string
		Plaintext string
		response
	}{KeyId: out.KeyID, Plaintext: pt}, nil
}

func (h *Handler) reEncrypt(ctx context.Context, c *call) (any, error) {
	var req struct {
		CiphertextBlob               *string
		DestinationKeyId             *string
		SourceEncryptionContext      *string
		DestinationEncryptionContext *string
	}
	if err := decode(c.body, &req); err != nil {
		return nil, err
	}
	blob, err := ciphertextBlob(req.CiphertextBlob)
	if err != nil {
		return nil, err
	}
	in := kms.ReEncryptInput{Account: c.cred.Account, Ciphertext: blob, DestinationKeyID: deref(req.DestinationKeyId)}
	if in.SourceContext, err = encryptionContext("SourceEncryptionContext", req.SourceEncryptionContext); err != nil {
		return nil, err
	}
	if in.DestinationContext, err = encryptionContext("DestinationEncryptionContext", req.DestinationEncryptionContext); err != nil {
		return nil, err
	}
	if err := c.authorizeBlob(ctx, blob, in.SourceContext); err != nil {
		return nil, err
	}
	if in.DestinationKeyID != "" {
		if err := c.authorize(ctx, in.DestinationKeyID, in.DestinationContext); err != nil {
			return nil, err
		}
	}
	out, err := h.svc.ReEncrypt(ctx, in)
	if err != nil {
		return nil, err
	}
	return &struct {
		CiphertextBlob string
		KeyId          string
		SourceKeyId    string
		ReEncrypted    bool
		response
	}{CiphertextBlob: base64.StdEncoding.EncodeToString(out.Ciphertext), KeyId: out.KeyID, SourceKeyId: out.SourceKeyID, ReEncrypted: true}, nil
}

// dataKeySpecs are GenerateDataKey's KeySpec values and their lengths.
var dataKeySpecs = map[string]uint64{"AES_128": 16, "AES_256": 32, "SM4": 16}

func (h *Handler) generateDataKey(ctx context.Context, c *call) (any, error) {
	var req struct {
		KeyId               *string
		KeySpec             *string
		NumberOfBytes       *uint64
		EncryptionContext   *string
		EncryptionPublicKey *string
		EncryptionAlgorithm *string
	}
	if err := decode(c.body, &req); err != nil {
		return nil, err
	}
	if req.KeyId == nil {
		return nil, missing("KeyId")
	}
	var n uint64
	switch {
	case req.KeySpec != nil:
		var ok bool
		if n, ok = dataKeySpecs[*req.KeySpec]; !ok {
			return nil, invalid("KeySpec", "is AES_128, AES_256 or SM4")
		}
		if req.NumberOfBytes != nil && *req.NumberOfBytes != n {
			return nil, invalid("NumberOfBytes", "disagrees with KeySpec; give one of them")
		}
	case req.NumberOfBytes != nil:
		n = *req.NumberOfBytes
		if n < kms.MinDataKeyBytes || n > kms.MaxDataKeyBytes {
			return nil, invalid("NumberOfBytes", "is 1 to 1024")
		}
	default: // the suite's data key: AES-256 or SM4
		n = 32
		if h.svc.Suite() == kms.SuiteSM {
			n = 16
		}
	}
	encCtx, err := encryptionContext("EncryptionContext", req.EncryptionContext)
	if err != nil {
		return nil, err
	}
	pub, err := recipient(req.EncryptionPublicKey, req.EncryptionAlgorithm)
	if err != nil {
		return nil, err
	}
	if err := c.authorize(ctx, *req.KeyId, encCtx); err != nil {
		return nil, err
	}
	dk, err := h.svc.GenerateDataKey(ctx, kms.GenerateDataKeyInput{Account: c.cred.Account, KeyID: *req.KeyId, Bytes: int(n), Context: encCtx})
	if err != nil {
		return nil, err
	}
	defer dk.Plaintext.Wipe()
	pt, err := plaintextField(pub, dk.Plaintext)
	if err != nil {
		return nil, err
	}
	return &struct {
		KeyId          string
		Plaintext      string
		CiphertextBlob string
		response
	}{KeyId: dk.KeyID, Plaintext: pt, CiphertextBlob: base64.StdEncoding.EncodeToString(dk.Ciphertext)}, nil
}

func (h *Handler) generateRandom(ctx context.Context, c *call) (any, error) {
	var req struct {
		NumberOfBytes *uint64
	}
	if err := decode(c.body, &req); err != nil {
		return nil, err
	}
	if req.NumberOfBytes == nil {
		return nil, missing("NumberOfBytes")
	}
	if *req.NumberOfBytes < 1 || *req.NumberOfBytes > kms.MaxRandomBytes {
		return nil, invalid("NumberOfBytes", "is 1 to 1024")
	}
	if err := c.authorize(ctx, "", nil); err != nil {
		return nil, err
	}
	b, err := h.svc.GenerateRandom(int(*req.NumberOfBytes))
	if err != nil {
		return nil, err
	}
	return &struct {
		Plaintext string
		response
	}{Plaintext: base64.StdEncoding.EncodeToString(b)}, nil
}
