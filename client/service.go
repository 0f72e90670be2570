package client

import "context"

// GetServiceStatusResponse is GetServiceStatus' output.
type GetServiceStatusResponse struct {
	ServiceEnabled      bool
	InvalidType         int64
	UserLevel           uint64
	ExclusiveVSMEnabled bool
	ExclusiveHSMEnabled bool
	Response
}

// GetServiceStatus reports whether the service is enabled (always, on
// Keyhaven).
func (c *Client) GetServiceStatus(ctx context.Context) (*GetServiceStatusResponse, error) {
	var resp GetServiceStatusResponse
	return &resp, c.Call(ctx, "GetServiceStatus", nil, &resp)
}

// GetRegionsResponse is GetRegions' output.
type GetRegionsResponse struct {
	Regions []string
	Response
}

// GetRegions lists the regions the server serves (one).
func (c *Client) GetRegions(ctx context.Context) (*GetRegionsResponse, error) {
	var resp GetRegionsResponse
	return &resp, c.Call(ctx, "GetRegions", nil, &resp)
}

// AlgorithmInfo pairs a key usage with its algorithm.
type AlgorithmInfo struct {
	KeyUsage  KeyUsage
	Algorithm string
}

// ListAlgorithmsResponse is ListAlgorithms' output.
type ListAlgorithmsResponse struct {
	SymmetricAlgorithms            []AlgorithmInfo
	AsymmetricAlgorithms           []AlgorithmInfo
	AsymmetricSignVerifyAlgorithms []AlgorithmInfo
	Response
}

// ListAlgorithms lists what the server can do: its suite's symmetric
// algorithm and every asymmetric key usage.
func (c *Client) ListAlgorithms(ctx context.Context) (*ListAlgorithmsResponse, error) {
	var resp ListAlgorithmsResponse
	return &resp, c.Call(ctx, "ListAlgorithms", nil, &resp)
}
