package tencent

import (
	"context"
)

func (h *Handler) getServiceStatus(ctx context.Context, c *call) (any, error) {
	if err := decode(c.body, &struct{}{}); err != nil {
		return nil, err
	}
	return &struct {
		ServiceEnabled      bool
		InvalidType         int64
		UserLevel           uint64
		ExclusiveVSMEnabled bool
		ExclusiveHSMEnabled bool
		response
	}{ServiceEnabled: true}, nil
}

func (h *Handler) getRegions(ctx context.Context, c *call) (any, error) {
	if err := decode(c.body, &struct{}{}); err != nil {
		return nil, err
	}
	return &struct {
		Regions []string
		response
	}{Regions: []string{h.region}}, nil
}

type algorithm struct {
	KeyUsage  string
	Algorithm string
}

// listAlgorithms lists only what this server can do.
func (h *Handler) listAlgorithms(ctx context.Context, c *call) (any, error) {
	if err := decode(c.body, &struct{}{}); err != nil {
		return nil, err
	}
	return &struct {
		SymmetricAlgorithms            []algorithm
		AsymmetricAlgorithms           []algorithm
		AsymmetricSignVerifyAlgorithms []algorithm
		response
	}{
		SymmetricAlgorithms:            []algorithm{{KeyUsage: "ENCRYPT_DECRYPT", Algorithm: "AES_256"}},
		AsymmetricAlgorithms:           []algorithm{},
		AsymmetricSignVerifyAlgorithms: []algorithm{},
	}, nil
}
