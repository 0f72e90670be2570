package tencent

import (
	"context"
	"encoding/base64"
	"time"

	"github.com/keyhaven/keyhaven/kms"
)

// maxValidTo is the latest material expiry Tencent accepts.
const maxValidTo = 2147443200

func (h *Handler) getParametersForImport(ctx context.Context, c *call) (any, error) {
	var req struct {
		KeyId             *string
		WrappingAlgorithm *string
		WrappingKeySpec   *string
	}
	if err := decode(c.body, &req); err != nil {
		return nil, err
	}
	switch {
	case req.KeyId == nil:
		return nil, missing("KeyId")
	case req.WrappingAlgorithm == nil:
		return nil, missing("WrappingAlgorithm")
	case req.WrappingKeySpec == nil:
		return nil, missing("WrappingKeySpec")
	}
	if err := c.authorize(ctx, *req.KeyId, nil); err != nil {
		return nil, err
	}
	p, err := h.svc.GetParametersForImport(ctx, c.cred.Account, *req.KeyId, kms.WrappingAlgorithm(*req.WrappingAlgorithm), *req.WrappingKeySpec)
	if err != nil {
		return nil, err
	}
	return &struct {
		KeyId             string
		ImportToken       string
		PublicKey         string
		ParametersValidTo uint64
		response
	}{KeyId: p.KeyID, ImportToken: p.Token, PublicKey: base64.StdEncoding.EncodeToString(p.PublicKey), ParametersValidTo: unix(p.ValidTo)}, nil
}

func (h *Handler) importKeyMaterial(ctx context.Context, c *call) (any, error) {
	var req struct {
		EncryptedKeyMaterial *string
		ImportToken          *string
		KeyId                *string
		ValidTo              *uint64
	}
	if err := decode(c.body, &req); err != nil {
		return nil, err
	}
	switch {
	case req.KeyId == nil:
		return nil, missing("KeyId")
	case req.ImportToken == nil:
		return nil, missing("ImportToken")
	}
	material, err := decodeBase64("EncryptedKeyMaterial", req.EncryptedKeyMaterial)
	if err != nil {
		return nil, err
	}
	in := kms.ImportKeyMaterialInput{Account: c.cred.Account, KeyID: *req.KeyId, Token: *req.ImportToken, Material: material}
	if req.ValidTo != nil && *req.ValidTo != 0 {
		if *req.ValidTo > maxValidTo {
			return nil, invalid("ValidTo", "is at most 2147443200")
		}
		in.ValidTo = time.Unix(int64(*req.ValidTo), 0)
	}
	if err := c.authorize(ctx, *req.KeyId, nil); err != nil {
		return nil, err
	}
	return &response{}, h.svc.ImportKeyMaterial(ctx, in)
}

func (h *Handler) deleteImportedKeyMaterial(ctx context.Context, c *call) (any, error) {
	id, err := c.keyID(ctx)
	if err != nil {
		return nil, err
	}
	return &response{}, h.svc.DeleteImportedKeyMaterial(ctx, c.cred.Account, id)
}
