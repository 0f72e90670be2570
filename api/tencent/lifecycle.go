package tencent

import (
	"context"

	"github.com/keyhaven/keyhaven/kms"
)

// keyID decodes a request whose only field is KeyId and authorizes the
// call on that key.
func (c *call) keyID(ctx context.Context) (string, error) {
	var req keyIDRequest
	if err := decode(c.body, &req); err != nil {
		return "", err
	}
	id, err := req.keyID()
	if err != nil {
		return "", err
	}
	return id, c.authorize(ctx, id, nil)
}

func (h *Handler) enableKeyRotation(ctx context.Context, c *call) (any, error) {
	var req struct {
		KeyId      *string
		RotateDays *uint64
	}
	if err := decode(c.body, &req); err != nil {
		return nil, err
	}
	if req.KeyId == nil {
		return nil, missing("KeyId")
	}
	if err := c.authorize(ctx, *req.KeyId, nil); err != nil {
		return nil, err
	}
	days := 0
	if req.RotateDays != nil {
		if *req.RotateDays < kms.MinRotateDays || *req.RotateDays > kms.MaxRotateDays {
			return nil, invalid("RotateDays", "is 7 to 365")
		}
		days = int(*req.RotateDays)
	}
	return &response{}, h.svc.EnableKeyRotation(ctx, c.cred.Account, *req.KeyId, days)
}

func (h *Handler) disableKeyRotation(ctx context.Context, c *call) (any, error) {
	id, err := c.keyID(ctx)
	if err != nil {
		return nil, err
	}
	return &response{}, h.svc.DisableKeyRotation(ctx, c.cred.Account, id)
}

func (h *Handler) getKeyRotationStatus(ctx context.Context, c *call) (any, error) {
	id, err := c.keyID(ctx)
	if err != nil {
		return nil, err
	}
	k, err := h.svc.DescribeKey(ctx, c.cred.Account, id)
	if err != nil {
		return nil, err
	}
	return &struct {
		KeyRotationEnabled bool
		// Extensions beyond the SDK's response; the SDK ignores them.
		RotateDays     int64
		NextRotateTime uint64
		LastRotateTime uint64
		KeyVersion     uint32
		response
	}{
		KeyRotationEnabled: k.RotationEnabled, RotateDays: int64(k.RotateDays),
		NextRotateTime: unix(k.NextRotateTime), LastRotateTime: unix(k.LastRotateTime), KeyVersion: k.CurrentVersion,
	}, nil
}

func (h *Handler) rotateKey(ctx context.Context, c *call) (any, error) {
	id, err := c.keyID(ctx)
	if err != nil {
		return nil, err
	}
	v, err := h.svc.RotateKey(ctx, c.cred.Account, id)
	if err != nil {
		return nil, err
	}
	return &struct {
		KeyId      string
		KeyVersion uint32
		response
	}{KeyId: id, KeyVersion: v}, nil
}

func (h *Handler) archiveKey(ctx context.Context, c *call) (any, error) {
	id, err := c.keyID(ctx)
	if err != nil {
		return nil, err
	}
	return &response{}, h.svc.ArchiveKey(ctx, c.cred.Account, id)
}

func (h *Handler) cancelKeyArchive(ctx context.Context, c *call) (any, error) {
	id, err := c.keyID(ctx)
	if err != nil {
		return nil, err
	}
	return &response{}, h.svc.CancelKeyArchive(ctx, c.cred.Account, id)
}

func (h *Handler) scheduleKeyDeletion(ctx context.Context, c *call) (any, error) {
	var req struct {
		KeyId               *string
		PendingWindowInDays *uint64
	}
	if err := decode(c.body, &req); err != nil {
		return nil, err
	}
	if req.KeyId == nil {
		return nil, missing("KeyId")
	}
	if req.PendingWindowInDays == nil {
		return nil, missing("PendingWindowInDays")
	}
	if err := c.authorize(ctx, *req.KeyId, nil); err != nil {
		return nil, err
	}
	days := *req.PendingWindowInDays
	if days > kms.MaxPendingDays {
		days = kms.MaxPendingDays + 1 // still out of range, without overflow
	}
	date, err := h.svc.ScheduleKeyDeletion(ctx, c.cred.Account, *req.KeyId, int(days))
	if err != nil {
		return nil, err
	}
	return &struct {
		DeletionDate uint64
		KeyId        string
		response
	}{DeletionDate: unix(date), KeyId: *req.KeyId}, nil
}

func (h *Handler) cancelKeyDeletion(ctx context.Context, c *call) (any, error) {
	id, err := c.keyID(ctx)
	if err != nil {
		return nil, err
	}
	if err := h.svc.CancelKeyDeletion(ctx, c.cred.Account, id); err != nil {
		return nil, err
	}
	return &struct {
		KeyId string
		response
	}{KeyId: id}, nil
}
