package tencent

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/keyhaven/keyhaven/kms"
)

// camActions are the identity actions of service cam (version 2019-01-16),
// in Tencent CAM's names and shapes. Each is authorized as cam:<Action> on
// the account's resource qcs::cam::uin/<account>:*.
func (h *Handler) camActions() map[string]action {
	return map[string]action{
		"AddUser":                  h.addUser,
		"ListUsers":                h.listUsers,
		"DeleteUser":               h.deleteUser,
		"CreateAccessKey":          h.createAccessKey,
		"ListAccessKeys":           h.listAccessKeys,
		"UpdateAccessKey":          h.updateAccessKey,
		"DeleteAccessKey":          h.deleteAccessKey,
		"CreatePolicy":             h.createPolicy,
		"ListPolicies":             h.listPolicies,
		"DeletePolicy":             h.deletePolicy,
		"AttachUserPolicy":         h.attachUserPolicy,
		"DetachUserPolicy":         h.detachUserPolicy,
		"ListAttachedUserPolicies": h.listAttachedUserPolicies,
	}
}

// camTime is CAM's time format.
func camTime(t time.Time) string { return t.UTC().Format(time.DateTime) }

func uinOf(s string) uint64 {
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
}

// decodeCAM decodes a cam request and authorizes it.
func decodeCAM(ctx context.Context, c *call, v any) error {
	if err := decode(c.body, v); err != nil {
		return err
	}
	return c.authorizeAccount(ctx)
}

// target is the user a request names by TargetUin, or the caller.
func (c *call) target(uin *uint64) string {
	if uin == nil {
		return c.cred.User
	}
	return strconv.FormatUint(*uin, 10)
}

func (h *Handler) addUser(ctx context.Context, c *call) (any, error) {
	var req struct {
		Name              *string
		Remark            *string
		ConsoleLogin      *uint64
		UseApi            *uint64
		Password          *string
		NeedResetPassword *uint64
		PhoneNum          *string
		CountryCode       *string
		Email             *string
	}
	if err := decodeCAM(ctx, c, &req); err != nil {
		return nil, err
	}
	if req.Name == nil {
		return nil, missing("Name")
	}
	if req.ConsoleLogin != nil && *req.ConsoleLogin != 0 {
		return nil, &Error{Code: codeUnsupportedOp, Message: "Keyhaven has no console login for sub-users; use API keys (UseApi 1)"}
	}
	u, key, err := h.svc.AddUser(ctx, c.cred.Account, *req.Name, deref(req.Remark), req.UseApi != nil && *req.UseApi == 1)
	if err != nil {
		return nil, err
	}
	out := &struct {
		Uin       uint64
		Name      string
		Uid       uint64
		SecretId  string `json:",omitempty"`
		SecretKey string `json:",omitempty"`
		response
	}{Uin: uinOf(u.ID), Name: u.Name, Uid: uinOf(u.ID)}
	if key != nil {
		out.SecretId, out.SecretKey = key.SecretID, string(key.SecretKey)
	}
	return out, nil
}

type subAccountInfo struct {
	Uin        uint64
	Name       string
	Uid        uint64
	Remark     string
	CreateTime string
}

func (h *Handler) listUsers(ctx context.Context, c *call) (any, error) {
	if err := decodeCAM(ctx, c, &struct{}{}); err != nil {
		return nil, err
	}
	users, err := h.svc.Users(ctx, c.cred.Account)
	if err != nil {
		return nil, err
	}
	out := &struct {
		Data []subAccountInfo
		response
	}{Data: make([]subAccountInfo, len(users))}
	for i, u := range users {
		out.Data[i] = subAccountInfo{Uin: uinOf(u.ID), Name: u.Name, Uid: uinOf(u.ID), Remark: u.Remark, CreateTime: camTime(u.CreateTime)}
	}
	return out, nil
}

func (h *Handler) deleteUser(ctx context.Context, c *call) (any, error) {
	var req struct {
		Name  *string
		Force *uint64
	}
	if err := decodeCAM(ctx, c, &req); err != nil {
		return nil, err
	}
	if req.Name == nil {
		return nil, missing("Name")
	}
	return &response{}, h.svc.DeleteUser(ctx, c.cred.Account, *req.Name, req.Force != nil && *req.Force == 1)
}

type accessKeyInfo struct {
	AccessKeyId     string
	SecretAccessKey string `json:",omitempty"`
	Status          string
	CreateTime      string
}

func (h *Handler) createAccessKey(ctx context.Context, c *call) (any, error) {
	var req struct {
		TargetUin   *uint64
		Description *string
	}
	if err := decodeCAM(ctx, c, &req); err != nil {
		return nil, err
	}
	key, err := h.svc.CreateAccessKey(ctx, c.cred.Account, c.target(req.TargetUin))
	if err != nil {
		return nil, err
	}
	return &struct {
		AccessKey accessKeyInfo
		response
	}{AccessKey: accessKeyInfo{AccessKeyId: key.SecretID, SecretAccessKey: string(key.SecretKey), Status: string(key.Status), CreateTime: camTime(key.CreateTime)}}, nil
}

func (h *Handler) listAccessKeys(ctx context.Context, c *call) (any, error) {
	var req struct{ TargetUin *uint64 }
	if err := decodeCAM(ctx, c, &req); err != nil {
		return nil, err
	}
	keys, err := h.svc.AccessKeys(ctx, c.cred.Account, c.target(req.TargetUin))
	if err != nil {
		return nil, err
	}
	out := &struct {
		AccessKeys []accessKeyInfo
		response
	}{AccessKeys: make([]accessKeyInfo, len(keys))}
	for i, k := range keys {
		out.AccessKeys[i] = accessKeyInfo{AccessKeyId: k.SecretID, Status: string(k.Status), CreateTime: camTime(k.CreateTime)}
	}
	return out, nil
}

func (h *Handler) updateAccessKey(ctx context.Context, c *call) (any, error) {
	var req struct {
		AccessKeyId *string
		Status      *string
		TargetUin   *uint64
	}
	if err := decodeCAM(ctx, c, &req); err != nil {
		return nil, err
	}
	if req.AccessKeyId == nil || req.Status == nil {
		return nil, missing("AccessKeyId and Status")
	}
	return &response{}, h.svc.UpdateAccessKey(ctx, c.cred.Account, c.target(req.TargetUin), *req.AccessKeyId, kms.AccessKeyStatus(*req.Status))
}

func (h *Handler) deleteAccessKey(ctx context.Context, c *call) (any, error) {
	var req struct {
		AccessKeyId *string
		TargetUin   *uint64
	}
	if err := decodeCAM(ctx, c, &req); err != nil {
		return nil, err
	}
	if req.AccessKeyId == nil {
		return nil, missing("AccessKeyId")
	}
	return &response{}, h.svc.DeleteAccessKey(ctx, c.cred.Account, c.target(req.TargetUin), *req.AccessKeyId)
}

func (h *Handler) createPolicy(ctx context.Context, c *call) (any, error) {
	var req struct {
		PolicyName     *string
		PolicyDocument *string
		Description    *string
		Tags           []tag
	}
	if err := decodeCAM(ctx, c, &req); err != nil {
		return nil, err
	}
	if req.PolicyName == nil || req.PolicyDocument == nil {
		return nil, missing("PolicyName and PolicyDocument")
	}
	p, err := h.svc.CreatePolicy(ctx, c.cred.Account, *req.PolicyName, *req.PolicyDocument, deref(req.Description))
	if err != nil {
		return nil, err
	}
	return &struct {
		PolicyId uint64
		response
	}{PolicyId: p.ID}, nil
}

// camPage turns CAM's Page (from 1) and Rp into offset and size.
func camPage(page, rp *uint64) (int, int, error) {
	p, n := uint64(1), uint64(20)
	if page != nil {
		p = *page
	}
	if rp != nil {
		n = *rp
	}
	if p < 1 || p > 1<<20 || n < 1 || n > 200 {
		return 0, 0, invalid("Page and Rp", "are Page ≥ 1 and Rp 1 to 200")
	}
	return int((p - 1) * n), int(n), nil
}

func pageOf[T any](items []T, offset, size int) []T {
	if offset >= len(items) {
		return []T{}
	}
	return items[offset:min(len(items), offset+size)]
}

type strategyInfo struct {
	PolicyId    uint64
	PolicyName  string
	AddTime     string
	Type        uint64 // 1: custom
	Description string
	CreateMode  uint64 // 2: policy syntax
	Attachments uint64
}

func (h *Handler) listPolicies(ctx context.Context, c *call) (any, error) {
	var req struct {
		Rp      *uint64
		Page    *uint64
		Scope   *string
		Keyword *string
	}
	if err := decodeCAM(ctx, c, &req); err != nil {
		return nil, err
	}
	offset, size, err := camPage(req.Page, req.Rp)
	if err != nil {
		return nil, err
	}
	policies, err := h.svc.Policies(ctx, c.cred.Account)
	if err != nil {
		return nil, err
	}
	list := []strategyInfo{}
	if scope := deref(req.Scope); scope != "QCS" { // no preset policies here
		for _, p := range policies {
			if kw := deref(req.Keyword); kw == "" || containsFold(p.Name, kw) {
				list = append(list, strategyInfo{PolicyId: p.ID, PolicyName: p.Name, AddTime: camTime(p.CreateTime), Type: 1, Description: p.Description, CreateMode: 2})
			}
		}
	}
	return &struct {
		TotalNum uint64
		List     []strategyInfo
		response
	}{TotalNum: uint64(len(list)), List: pageOf(list, offset, size)}, nil
}

func (h *Handler) deletePolicy(ctx context.Context, c *call) (any, error) {
	var req struct{ PolicyId []uint64 }
	if err := decodeCAM(ctx, c, &req); err != nil {
		return nil, err
	}
	if len(req.PolicyId) == 0 {
		return nil, missing("PolicyId")
	}
	return &response{}, h.svc.DeletePolicies(ctx, c.cred.Account, req.PolicyId)
}

func (h *Handler) attachUserPolicy(ctx context.Context, c *call) (any, error) {
	var req struct{ PolicyId, AttachUin *uint64 }
	if err := decodeCAM(ctx, c, &req); err != nil {
		return nil, err
	}
	if req.PolicyId == nil || req.AttachUin == nil {
		return nil, missing("PolicyId and AttachUin")
	}
	return &response{}, h.svc.AttachUserPolicy(ctx, c.cred.Account, *req.PolicyId, strconv.FormatUint(*req.AttachUin, 10))
}

func (h *Handler) detachUserPolicy(ctx context.Context, c *call) (any, error) {
	var req struct{ PolicyId, DetachUin *uint64 }
	if err := decodeCAM(ctx, c, &req); err != nil {
		return nil, err
	}
	if req.PolicyId == nil || req.DetachUin == nil {
		return nil, missing("PolicyId and DetachUin")
	}
	return &response{}, h.svc.DetachUserPolicy(ctx, c.cred.Account, *req.PolicyId, strconv.FormatUint(*req.DetachUin, 10))
}

type attachPolicyInfo struct {
	PolicyId   uint64
	PolicyName string
	AddTime    string
	CreateMode uint64
	PolicyType string
	Remark     string
}

func (h *Handler) listAttachedUserPolicies(ctx context.Context, c *call) (any, error) {
	var req struct{ TargetUin, Page, Rp *uint64 }
	if err := decodeCAM(ctx, c, &req); err != nil {
		return nil, err
	}
	if req.TargetUin == nil {
		return nil, missing("TargetUin")
	}
	offset, size, err := camPage(req.Page, req.Rp)
	if err != nil {
		return nil, err
	}
	policies, err := h.svc.AttachedPolicies(ctx, c.cred.Account, strconv.FormatUint(*req.TargetUin, 10))
	if err != nil {
		return nil, err
	}
	list := make([]attachPolicyInfo, len(policies))
	for i, p := range policies {
		list[i] = attachPolicyInfo{PolicyId: p.ID, PolicyName: p.Name, AddTime: camTime(p.CreateTime), CreateMode: 2, PolicyType: "User", Remark: p.Description}
	}
	return &struct {
		TotalNum uint64
		List     []attachPolicyInfo
		response
	}{TotalNum: uint64(len(list)), List: pageOf(list, offset, size)}, nil
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
