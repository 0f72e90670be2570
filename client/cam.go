package client

import "context"

// The identity actions of service cam (version CAMVersion), in Tencent CAM's
// names and shapes: sub-users, their access keys, and the policies that say
// what they may do. Only the account's root user (or a user whose policy
// allows cam:<Action>) may call them; anyone else gets the APIError
// UnauthorizedOperation. A new sub-user may do nothing until a policy is
// attached to it.

// AccessKeyStatus is whether an access key signs requests.
type AccessKeyStatus string

// Access key statuses.
const (
	AccessKeyActive   AccessKeyStatus = "Active"
	AccessKeyInactive AccessKeyStatus = "Inactive"
)

// AddUserRequest is AddUser's input. UseAPI 1 also makes the user an access
// key, returned once in AddUserResponse. Keyhaven has no console login:
// ConsoleLogin 1 is the APIError UnsupportedOperation.
type AddUserRequest struct {
	Name         string
	Remark       string `json:",omitempty"`
	ConsoleLogin uint64 `json:",omitempty"`
	UseAPI       uint64 `json:"UseApi,omitempty"`
	PhoneNum     string `json:",omitempty"`
	CountryCode  string `json:",omitempty"`
	Email        string `json:",omitempty"`
}

// AddUserResponse is AddUser's output. With UseApi 1 it holds the user's
// access key: SecretKey is never shown again, and, being a Secret, does not
// print or marshal; pass string(SecretKey) on to where it is kept.
type AddUserResponse struct {
	Uin       uint64
	Name      string
	UID       uint64 `json:"Uid"`
	SecretID  string `json:"SecretId,omitempty"`
	SecretKey Secret `json:",omitempty"`
	Response
}

// AddUser creates a sub-user of the caller's account. A taken name is an
// APIError. It is not retried after an attempt that may have reached the
// server.
func (c *Client) AddUser(ctx context.Context, req AddUserRequest) (*AddUserResponse, error) {
	var resp AddUserResponse
	return &resp, c.call(ctx, serviceCAM, "AddUser", req, &resp)
}

// SubAccountInfo describes a sub-user; CreateTime is "YYYY-MM-DD hh:mm:ss"
// in UTC, as CAM writes it.
type SubAccountInfo struct {
	Uin        uint64
	Name       string
	UID        uint64 `json:"Uid"`
	Remark     string
	CreateTime string
}

// ListUsersResponse is ListUsers' output.
type ListUsersResponse struct {
	Data []SubAccountInfo
	Response
}

// ListUsers lists the account's sub-users.
func (c *Client) ListUsers(ctx context.Context) (*ListUsersResponse, error) {
	var resp ListUsersResponse
	return &resp, c.call(ctx, serviceCAM, "ListUsers", nil, &resp)
}

// DeleteUserRequest is DeleteUser's input. A user with access keys is
// deleted (with its keys) only with Force 1; without, it is an APIError.
type DeleteUserRequest struct {
	Name  string
	Force uint64 `json:",omitempty"`
}

// DeleteUser deletes a sub-user.
func (c *Client) DeleteUser(ctx context.Context, req DeleteUserRequest) (*Response, error) {
	var resp Response
	return &resp, c.call(ctx, serviceCAM, "DeleteUser", req, &resp)
}

// AccessKey is an access key. SecretAccessKey is set only by
// CreateAccessKey, once; it does not print or marshal.
type AccessKey struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey Secret `json:",omitempty"`
	Status          AccessKeyStatus
	CreateTime      string
}

// CreateAccessKeyRequest is CreateAccessKey's input; TargetUin 0 is the
// caller.
type CreateAccessKeyRequest struct {
	TargetUin   uint64 `json:",omitempty"`
	Description string `json:",omitempty"`
}

// CreateAccessKeyResponse is CreateAccessKey's output.
type CreateAccessKeyResponse struct {
	AccessKey AccessKey
	Response
}

// CreateAccessKey makes a user another access key (a user has at most
// two active ones). It is not retried after an attempt that may have reached the server.
func (c *Client) CreateAccessKey(ctx context.Context, req CreateAccessKeyRequest) (*CreateAccessKeyResponse, error) {
	var resp CreateAccessKeyResponse
	return &resp, c.call(ctx, serviceCAM, "CreateAccessKey", req, &resp)
}

// ListAccessKeysRequest is ListAccessKeys' input; TargetUin 0 is the
// caller.
type ListAccessKeysRequest struct {
	TargetUin uint64 `json:",omitempty"`
}

// ListAccessKeysResponse is ListAccessKeys' output, without secrets.
type ListAccessKeysResponse struct {
	AccessKeys []AccessKey
	Response
}

// ListAccessKeys lists a user's access keys.
func (c *Client) ListAccessKeys(ctx context.Context, req ListAccessKeysRequest) (*ListAccessKeysResponse, error) {
	var resp ListAccessKeysResponse
	return &resp, c.call(ctx, serviceCAM, "ListAccessKeys", req, &resp)
}

// UpdateAccessKeyRequest is UpdateAccessKey's input; TargetUin 0 is the
// caller.
type UpdateAccessKeyRequest struct {
	AccessKeyID string `json:"AccessKeyId"`
	Status      AccessKeyStatus
	TargetUin   uint64 `json:",omitempty"`
}

// UpdateAccessKey makes an access key Active or Inactive (an Inactive key's
// signatures are refused).
func (c *Client) UpdateAccessKey(ctx context.Context, req UpdateAccessKeyRequest) (*Response, error) {
	var resp Response
	return &resp, c.call(ctx, serviceCAM, "UpdateAccessKey", req, &resp)
}

// DeleteAccessKeyRequest is DeleteAccessKey's input; TargetUin 0 is the
// caller.
type DeleteAccessKeyRequest struct {
	AccessKeyID string `json:"AccessKeyId"`
	TargetUin   uint64 `json:",omitempty"`
}

// DeleteAccessKey deletes an access key.
func (c *Client) DeleteAccessKey(ctx context.Context, req DeleteAccessKeyRequest) (*Response, error) {
	var resp Response
	return &resp, c.call(ctx, serviceCAM, "DeleteAccessKey", req, &resp)
}

// CreatePolicyRequest is CreatePolicy's input. PolicyDocument is CAM policy
// syntax, a JSON object such as
// {"version":"2.0","statement":[{"effect":"allow","action":["kms:Encrypt"],"resource":"*"}]};
// a document that does not parse is an APIError.
type CreatePolicyRequest struct {
	PolicyName     string
	PolicyDocument string
	Description    string `json:",omitempty"`
}

// CreatePolicyResponse is CreatePolicy's output.
type CreatePolicyResponse struct {
	PolicyID uint64 `json:"PolicyId"`
	Response
}

// CreatePolicy creates a custom policy. It is not retried after an attempt
// that may have reached the server.
func (c *Client) CreatePolicy(ctx context.Context, req CreatePolicyRequest) (*CreatePolicyResponse, error) {
	var resp CreatePolicyResponse
	return &resp, c.call(ctx, serviceCAM, "CreatePolicy", req, &resp)
}

// ListPoliciesRequest is ListPolicies' input: page Page (from 1) of Rp
// (1-200, default 20) policies, those whose name contains Keyword. Scope
// QCS (preset policies) lists none: Keyhaven has only custom ones.
type ListPoliciesRequest struct {
	Rp      uint64 `json:",omitempty"`
	Page    uint64 `json:",omitempty"`
	Scope   string `json:",omitempty"`
	Keyword string `json:",omitempty"`
}

// StrategyInfo describes a policy in ListPolicies' output. Type is 1
// (custom), CreateMode 2 (policy syntax); AddTime is as in SubAccountInfo.
type StrategyInfo struct {
	PolicyID    uint64 `json:"PolicyId"`
	PolicyName  string
	AddTime     string
	Type        uint64
	Description string
	CreateMode  uint64
	Attachments uint64
}

// ListPoliciesResponse is ListPolicies' output; TotalNum counts every
// match, List holds the page.
type ListPoliciesResponse struct {
	TotalNum uint64
	List     []StrategyInfo
	Response
}

// ListPolicies lists the account's policies.
func (c *Client) ListPolicies(ctx context.Context, req ListPoliciesRequest) (*ListPoliciesResponse, error) {
	var resp ListPoliciesResponse
	return &resp, c.call(ctx, serviceCAM, "ListPolicies", req, &resp)
}

// DeletePolicy deletes policies (detaching them from their users).
func (c *Client) DeletePolicy(ctx context.Context, policyIDs []uint64) (*Response, error) {
	var resp Response
	req := struct {
		PolicyID []uint64 `json:"PolicyId"`
	}{policyIDs}
	return &resp, c.call(ctx, serviceCAM, "DeletePolicy", req, &resp)
}

// AttachUserPolicyRequest is AttachUserPolicy's input.
type AttachUserPolicyRequest struct {
	PolicyID  uint64 `json:"PolicyId"`
	AttachUin uint64
}

// AttachUserPolicy attaches a policy to a sub-user: its statements apply to
// the user's next request.
func (c *Client) AttachUserPolicy(ctx context.Context, req AttachUserPolicyRequest) (*Response, error) {
	var resp Response
	return &resp, c.call(ctx, serviceCAM, "AttachUserPolicy", req, &resp)
}

// DetachUserPolicyRequest is DetachUserPolicy's input.
type DetachUserPolicyRequest struct {
	PolicyID  uint64 `json:"PolicyId"`
	DetachUin uint64
}

// DetachUserPolicy detaches a policy from a sub-user.
func (c *Client) DetachUserPolicy(ctx context.Context, req DetachUserPolicyRequest) (*Response, error) {
	var resp Response
	return &resp, c.call(ctx, serviceCAM, "DetachUserPolicy", req, &resp)
}

// ListAttachedUserPoliciesRequest is ListAttachedUserPolicies' input;
// TargetUin is required, Page and Rp as in ListPoliciesRequest.
type ListAttachedUserPoliciesRequest struct {
	TargetUin uint64
	Page      uint64 `json:",omitempty"`
	Rp        uint64 `json:",omitempty"`
}

// AttachPolicyInfo describes a policy attached to a user. Remark is the
// policy's description.
type AttachPolicyInfo struct {
	PolicyID   uint64 `json:"PolicyId"`
	PolicyName string
	AddTime    string
	CreateMode uint64
	PolicyType string
	Remark     string
}

// ListAttachedUserPoliciesResponse is ListAttachedUserPolicies' output.
type ListAttachedUserPoliciesResponse struct {
	TotalNum uint64
	List     []AttachPolicyInfo
	Response
}

// ListAttachedUserPolicies lists the policies attached to a sub-user.
func (c *Client) ListAttachedUserPolicies(ctx context.Context, req ListAttachedUserPoliciesRequest) (*ListAttachedUserPoliciesResponse, error) {
	var resp ListAttachedUserPoliciesResponse
	return &resp, c.call(ctx, serviceCAM, "ListAttachedUserPolicies", req, &resp)
}
