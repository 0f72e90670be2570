package tencent

import (
	"context"

	"github.com/keyhaven/keyhaven/kms"
)

func (h *Handler) getServiceStatus(ctx context.Context, c *call) (any, error) {
	if err := decode(c.body, &struct{}{}); err != nil {
		return nil, err
	}
	if err := c.authorize(ctx, "", nil); err != nil {
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
	if err := c.authorize(ctx, "", nil); err != nil {
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

// Tencent's names for what each asymmetric key usage does.
var (
	asymmetricAlgorithms = []algorithm{
		{string(kms.UsageDecryptRSA2048), "RSA_2048"},
		{string(kms.UsageDecryptSM2), "SM2"},
	}
	signAlgorithms = []algorithm{
		{string(kms.UsageSignSM2), "SM2"},
		{string(kms.UsageSignECC), "ECC"},
		{string(kms.UsageSignECDSA384), "ECC_P384"},
		{string(kms.UsageSignRSA2048), "RSA_2048"},
	}
)

// listAlgorithms lists only what this server can do: the symmetric
// algorithm of its suite and every asymmetric usage.
func (h *Handler) listAlgorithms(ctx context.Context, c *call) (any, error) {
	if err := decode(c.body, &struct{}{}); err != nil {
		return nil, err
	}
	if err := c.authorize(ctx, "", nil); err != nil {
		return nil, err
	}
	symmetric := "AES_256"
	if h.svc.Suite() == kms.SuiteSM {
		symmetric = "SM4"
	}
	return &struct {
		SymmetricAlgorithms            []algorithm
		AsymmetricAlgorithms           []algorithm
		AsymmetricSignVerifyAlgorithms []algorithm
		response
	}{
		SymmetricAlgorithms:            []algorithm{{KeyUsage: string(kms.UsageEncryptDecrypt), Algorithm: symmetric}},
		AsymmetricAlgorithms:           asymmetricAlgorithms,
		AsymmetricSignVerifyAlgorithms: signAlgorithms,
	}, nil
}
