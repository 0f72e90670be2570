package tencent

import (
	"context"
	"errors"

	"github.com/keyhaven/keyhaven/auth"
	"github.com/keyhaven/keyhaven/internal/blob"
	"github.com/keyhaven/keyhaven/kms"
)

// root reports whether the caller is the account's root user, who may do
// everything without policies.
func (c *call) root() bool { return c.cred.User == c.cred.Account }

// authorize checks the caller's policies for this action on a key (or on
// every key of the account when keyID is ""), before anything else happens.
// The key's alias and tags, the source IP and the encryption context are the
// conditions policies can test.
func (c *call) authorize(ctx context.Context, keyID string, encCtx map[string]string) error {
	if keyID != "" {
		c.keys = append(c.keys, keyID)
	}
	if c.root() {
		return nil
	}
	req := c.request(keyID)
	if keyID != "" {
		conds, err := c.h.svc.KeyConditions(ctx, c.cred.Account, keyID)
		switch {
		case err == nil:
			for k, v := range conds {
				req.Context[k] = v
			}
		case !errors.Is(err, kms.ErrKeyNotFound) && !errors.Is(err, kms.ErrKeyDeleted) && !errors.Is(err, kms.ErrInvalidKeyID):
			return err
		}
	}
	for k, v := range encCtx {
		req.Context["kms:encryption_context/"+k] = []string{v}
	}
	return c.h.svc.Authorize(ctx, c.credential(), req)
}

// request is the policy request of this call on a key ("" for all keys).
func (c *call) request(keyID string) auth.Request {
	res := "*"
	if keyID != "" {
		res = keyID
	}
	return auth.Request{
		Action:   c.service + ":" + c.action,
		Resource: kms.KeyResource(c.h.region, c.cred.Account, res),
		Context:  map[string][]string{"qcs:ip": {c.ip}},
	}
}

// visible returns a filter that keeps the keys the caller may see with this
// action (nil for the root user: everything).
func (c *call) visible(ctx context.Context) func(*kms.Key) bool {
	if c.root() {
		return nil
	}
	return func(k *kms.Key) bool {
		req := c.request(k.ID)
		for name, v := range k.Conditions() {
			req.Context[name] = v
		}
		return c.h.svc.Authorize(ctx, c.credential(), req) == nil
	}
}

// authorizeBlob authorizes an action on the key a ciphertext blob names; an
// unparsable blob is checked against every key of the account and then fails
// in the domain as invalid.
func (c *call) authorizeBlob(ctx context.Context, ciphertext []byte, encCtx map[string]string) error {
	h, err := blob.Parse(ciphertext)
	if err != nil {
		return c.authorize(ctx, "", encCtx)
	}
	return c.authorize(ctx, h.KeyID, encCtx)
}

// authorizeAccount checks an action of a service without keys (cam,
// cloudaudit) against the account's resource qcs::<service>::uin/<account>:*.
func (c *call) authorizeAccount(ctx context.Context) error {
	if c.root() {
		return nil
	}
	return c.h.svc.Authorize(ctx, c.credential(), auth.Request{
		Action:   c.service + ":" + c.action,
		Resource: "qcs::" + c.service + "::uin/" + c.cred.Account + ":*",
		Context:  map[string][]string{"qcs:ip": {c.ip}},
	})
}

func (c *call) credential() kms.Credential {
	return kms.Credential{SecretID: c.cred.SecretID, Account: c.cred.Account, User: c.cred.User}
}
