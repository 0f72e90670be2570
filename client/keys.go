package client

import "context"

// Tag is a key's tag.
type Tag struct {
	Key   string `json:"TagKey"`
	Value string `json:"TagValue"`
}

// TagFilter selects keys having tag Key with one of Values (any value if none).
type TagFilter struct {
	Key    string   `json:"TagKey"`
	Values []string `json:"TagValue,omitempty"`
}

// KeyMetadata describes a CMK. Times are Unix seconds, 0 for none (see
// UnixTime). RotateDays, LastRotateTime, ProtectionLevel and KeySpec are
// Keyhaven's extensions of the API.
type KeyMetadata struct {
	KeyID              string `json:"KeyId"`
	Alias              string
	CreateTime         uint64
	Description        string
	KeyState           KeyState
	KeyUsage           KeyUsage
	Type               int64 // 1: material made by the KMS, 2: imported
	CreatorUin         uint64
	KeyRotationEnabled bool
	Owner              string
	NextRotateTime     uint64
	DeletionDate       uint64
	Origin             string
	ValidTo            uint64
	ResourceID         string `json:"ResourceId"`
	HsmClusterID       string `json:"HsmClusterId"`
	RotateDays         int64
	LastRotateTime     uint64
	ProtectionLevel    ProtectionLevel
	KeySpec            string
}

// CreateKeyRequest is CreateKey's input. Alias is required; KeyUsage
// defaults to ENCRYPT_DECRYPT, Type to 1 (KMS-made material; 2 makes a key
// awaiting imported material), ProtectionLevel to SOFTWARE.
type CreateKeyRequest struct {
	Alias           string
	Description     string          `json:",omitempty"`
	KeyUsage        KeyUsage        `json:",omitempty"`
	Type            uint64          `json:",omitempty"`
	Tags            []Tag           `json:",omitempty"`
	HsmClusterID    string          `json:"HsmClusterId,omitempty"`
	ProtectionLevel ProtectionLevel `json:",omitempty"`
}

// CreateKeyResponse is CreateKey's output.
type CreateKeyResponse struct {
	KeyID        string `json:"KeyId"`
	Alias        string
	CreateTime   uint64
	Description  string
	KeyState     KeyState
	KeyUsage     KeyUsage
	TagCode      uint64
	TagMsg       string
	HsmClusterID string `json:"HsmClusterId"`
	Response
}

// CreateKey creates a CMK. A taken alias is the APIError
// InvalidParameterValue.AliasAlreadyExists. It is not retried after an
// attempt that may have reached the server (it could make two keys).
func (c *Client) CreateKey(ctx context.Context, req CreateKeyRequest) (*CreateKeyResponse, error) {
	var resp CreateKeyResponse
	return &resp, c.Call(ctx, "CreateKey", req, &resp)
}

type keyIDRequest struct {
	KeyID string `json:"KeyId"`
}

type keyIDsRequest struct {
	KeyIDs []string `json:"KeyIds"`
}

// DescribeKeyResponse is DescribeKey's output.
type DescribeKeyResponse struct {
	KeyMetadata KeyMetadata
	Response
}

// DescribeKey describes one CMK; an unknown key is the APIError
// ResourceUnavailable.CmkNotFound.
func (c *Client) DescribeKey(ctx context.Context, keyID string) (*DescribeKeyResponse, error) {
	var resp DescribeKeyResponse
	return &resp, c.Call(ctx, "DescribeKey", keyIDRequest{keyID}, &resp)
}

// DescribeKeysResponse is DescribeKeys' output.
type DescribeKeysResponse struct {
	KeyMetadatas []KeyMetadata
	Response
}

// DescribeKeys describes several CMKs at once.
func (c *Client) DescribeKeys(ctx context.Context, keyIDs []string) (*DescribeKeysResponse, error) {
	var resp DescribeKeysResponse
	return &resp, c.Call(ctx, "DescribeKeys", keyIDsRequest{keyIDs}, &resp)
}

// ListKeysRequest is ListKeys' input: a page (Limit 1-1000, default 10) of
// user keys (Role 0) or service keys (Role 1).
type ListKeysRequest struct {
	Offset       uint64 `json:",omitempty"`
	Limit        uint64 `json:",omitempty"`
	Role         uint64 `json:",omitempty"`
	HsmClusterID string `json:"HsmClusterId,omitempty"`
}

// KeyRef names a key in ListKeys' output.
type KeyRef struct {
	KeyID string `json:"KeyId"`
}

// ListKeysResponse is ListKeys' output.
type ListKeysResponse struct {
	Keys       []KeyRef
	TotalCount uint64
	Response
}

// ListKeys lists key ids.
func (c *Client) ListKeys(ctx context.Context, req ListKeysRequest) (*ListKeysResponse, error) {
	var resp ListKeysResponse
	return &resp, c.Call(ctx, "ListKeys", req, &resp)
}

// ListKeyDetailRequest is ListKeyDetail's input. Limit is 1-200 (default
// 10); OrderType 0 is newest first, 1 oldest first; KeyState 0 is any, then
// 1 Enabled, 2 Disabled, 3 PendingDelete, 4 PendingImport, 5 Archived;
// SearchKeyAlias matches part of an alias or key id; Origin is TENCENT_KMS,
// EXTERNAL or ALL. KeyUsage "" means ENCRYPT_DECRYPT only, as in the API:
// pass UsageAll for every key.
type ListKeyDetailRequest struct {
	Offset          uint64          `json:",omitempty"`
	Limit           uint64          `json:",omitempty"`
	Role            uint64          `json:",omitempty"`
	OrderType       uint64          `json:",omitempty"`
	KeyState        uint64          `json:",omitempty"`
	SearchKeyAlias  string          `json:",omitempty"`
	Origin          string          `json:",omitempty"`
	KeyUsage        KeyUsage        `json:",omitempty"`
	TagFilters      []TagFilter     `json:",omitempty"`
	HsmClusterID    string          `json:"HsmClusterId,omitempty"`
	ProtectionLevel ProtectionLevel `json:",omitempty"`
}

// ListKeyDetailResponse is ListKeyDetail's output.
type ListKeyDetailResponse struct {
	TotalCount   uint64
	KeyMetadatas []KeyMetadata
	Response
}

// ListKeyDetail lists keys with their metadata.
func (c *Client) ListKeyDetail(ctx context.Context, req ListKeyDetailRequest) (*ListKeyDetailResponse, error) {
	var resp ListKeyDetailResponse
	return &resp, c.Call(ctx, "ListKeyDetail", req, &resp)
}

// UpdateAliasRequest is UpdateAlias' input.
type UpdateAliasRequest struct {
	KeyID string `json:"KeyId"`
	Alias string
}

// UpdateAlias renames a key.
func (c *Client) UpdateAlias(ctx context.Context, req UpdateAliasRequest) (*Response, error) {
	var resp Response
	return &resp, c.Call(ctx, "UpdateAlias", req, &resp)
}

// UpdateKeyDescriptionRequest is UpdateKeyDescription's input.
type UpdateKeyDescriptionRequest struct {
	KeyID       string `json:"KeyId"`
	Description string
}

// UpdateKeyDescription changes a key's description.
func (c *Client) UpdateKeyDescription(ctx context.Context, req UpdateKeyDescriptionRequest) (*Response, error) {
	var resp Response
	return &resp, c.Call(ctx, "UpdateKeyDescription", req, &resp)
}

// EnableKey enables a Disabled key.
func (c *Client) EnableKey(ctx context.Context, keyID string) (*Response, error) {
	var resp Response
	return &resp, c.Call(ctx, "EnableKey", keyIDRequest{keyID}, &resp)
}

// DisableKey disables a key; service keys refuse with
// UnsupportedOperation.NotUserCreatedCmk.
func (c *Client) DisableKey(ctx context.Context, keyID string) (*Response, error) {
	var resp Response
	return &resp, c.Call(ctx, "DisableKey", keyIDRequest{keyID}, &resp)
}

// EnableKeys enables several keys at once.
func (c *Client) EnableKeys(ctx context.Context, keyIDs []string) (*Response, error) {
	var resp Response
	return &resp, c.Call(ctx, "EnableKeys", keyIDsRequest{keyIDs}, &resp)
}

// DisableKeys disables several keys at once.
func (c *Client) DisableKeys(ctx context.Context, keyIDs []string) (*Response, error) {
	var resp Response
	return &resp, c.Call(ctx, "DisableKeys", keyIDsRequest{keyIDs}, &resp)
}
