package client

import "context"

// EnableKeyRotationRequest is EnableKeyRotation's input; RotateDays is 7-365
// (0: the server's default, 365).
type EnableKeyRotationRequest struct {
	KeyID      string `json:"KeyId"`
	RotateDays uint64 `json:",omitempty"`
}

// EnableKeyRotation turns on automatic rotation.
func (c *Client) EnableKeyRotation(ctx context.Context, req EnableKeyRotationRequest) (*Response, error) {
	var resp Response
	return &resp, c.Call(ctx, "EnableKeyRotation", req, &resp)
}

// DisableKeyRotation turns off automatic rotation.
func (c *Client) DisableKeyRotation(ctx context.Context, keyID string) (*Response, error) {
	var resp Response
	return &resp, c.Call(ctx, "DisableKeyRotation", keyIDRequest{keyID}, &resp)
}

// GetKeyRotationStatusResponse is GetKeyRotationStatus' output. All but
// KeyRotationEnabled are Keyhaven's extensions; times are Unix seconds.
type GetKeyRotationStatusResponse struct {
	KeyRotationEnabled bool
	RotateDays         int64
	NextRotateTime     uint64
	LastRotateTime     uint64
	KeyVersion         uint32
	Response
}

// GetKeyRotationStatus reports a key's rotation settings and its current
// version.
func (c *Client) GetKeyRotationStatus(ctx context.Context, keyID string) (*GetKeyRotationStatusResponse, error) {
	var resp GetKeyRotationStatusResponse
	return &resp, c.Call(ctx, "GetKeyRotationStatus", keyIDRequest{keyID}, &resp)
}

// RotateKeyResponse is RotateKey's output: the new current version.
type RotateKeyResponse struct {
	KeyID      string `json:"KeyId"`
	KeyVersion uint32
	Response
}

// RotateKey makes a new key version now; older versions still decrypt. It
// is not retried after an attempt that may have reached the server.
func (c *Client) RotateKey(ctx context.Context, keyID string) (*RotateKeyResponse, error) {
	var resp RotateKeyResponse
	return &resp, c.Call(ctx, "RotateKey", keyIDRequest{keyID}, &resp)
}

// ArchiveKey archives a key: it then decrypts but no longer encrypts.
func (c *Client) ArchiveKey(ctx context.Context, keyID string) (*Response, error) {
	var resp Response
	return &resp, c.Call(ctx, "ArchiveKey", keyIDRequest{keyID}, &resp)
}

// CancelKeyArchive makes an Archived key Enabled again.
func (c *Client) CancelKeyArchive(ctx context.Context, keyID string) (*Response, error) {
	var resp Response
	return &resp, c.Call(ctx, "CancelKeyArchive", keyIDRequest{keyID}, &resp)
}

// ScheduleKeyDeletionRequest is ScheduleKeyDeletion's input; the window is
// 7-30 days.
type ScheduleKeyDeletionRequest struct {
	KeyID               string `json:"KeyId"`
	PendingWindowInDays uint64
}

// ScheduleKeyDeletionResponse is ScheduleKeyDeletion's output.
type ScheduleKeyDeletionResponse struct {
	DeletionDate uint64
	KeyID        string `json:"KeyId"`
	Response
}

// ScheduleKeyDeletion schedules a Disabled key's deletion; an Enabled key is
// the APIError ResourceUnavailable.CmkShouldBeDisabled.
func (c *Client) ScheduleKeyDeletion(ctx context.Context, req ScheduleKeyDeletionRequest) (*ScheduleKeyDeletionResponse, error) {
	var resp ScheduleKeyDeletionResponse
	return &resp, c.Call(ctx, "ScheduleKeyDeletion", req, &resp)
}

// CancelKeyDeletionResponse is CancelKeyDeletion's output.
type CancelKeyDeletionResponse struct {
	KeyID string `json:"KeyId"`
	Response
}

// CancelKeyDeletion cancels a scheduled deletion; the key becomes Disabled.
func (c *Client) CancelKeyDeletion(ctx context.Context, keyID string) (*CancelKeyDeletionResponse, error) {
	var resp CancelKeyDeletionResponse
	return &resp, c.Call(ctx, "CancelKeyDeletion", keyIDRequest{keyID}, &resp)
}
