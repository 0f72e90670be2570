package kms_test

import (
	"context"
	"errors"
	"testing"

	"github.com/keyhaven/keyhaven/auth"
	"github.com/keyhaven/keyhaven/kms"
)

func TestIdentity(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, 0)
	u, key, err := svc.AddUser(ctx, account, "alice", "ops", true)
	if err != nil || key == nil || len(key.SecretKey) != 32 || key.User != u.ID {
		t.Fatalf("AddUser = %+v, %+v, %v", u, key, err)
	}
	for _, tc := range []struct {
		name string
		want error
	}{{"alice", kms.ErrUserExists}, {"", kms.ErrInvalidUserName}, {"bad name!", kms.ErrInvalidUserName}} {
		if _, _, err := svc.AddUser(ctx, account, tc.name, "", false); !errors.Is(err, tc.want) {
			t.Errorf("AddUser(%q) = %v, want %v", tc.name, err, tc.want)
		}
	}
	cred, err := svc.Credential(ctx, key.SecretID)
	if err != nil || cred.User != u.ID || string(cred.Secret) != string(key.SecretKey) {
		t.Fatalf("Credential(alice's key) = %+v, %v", cred, err)
	}

	// At most two active keys; a third is refused, also by re-activation.
	second, err := svc.CreateAccessKey(ctx, account, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateAccessKey(ctx, account, u.ID); !errors.Is(err, kms.ErrAccessKeyLimit) {
		t.Errorf("third access key = %v, want ErrAccessKeyLimit", err)
	}
	if err := svc.UpdateAccessKey(ctx, account, u.ID, second.SecretID, kms.AccessKeyInactive); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Credential(ctx, second.SecretID); !errors.Is(err, kms.ErrAccessKeyInactive) {
		t.Errorf("Credential(inactive key) = %v, want ErrAccessKeyInactive", err)
	}
	third, err := svc.CreateAccessKey(ctx, account, u.ID)
	if err != nil {
		t.Fatalf("access key after deactivating one: %v", err)
	}
	if err := svc.UpdateAccessKey(ctx, account, u.ID, second.SecretID, kms.AccessKeyActive); !errors.Is(err, kms.ErrAccessKeyLimit) {
		t.Errorf("re-activating a third key = %v, want ErrAccessKeyLimit", err)
	}
	if err := svc.DeleteAccessKey(ctx, account, "999", third.SecretID); !errors.Is(err, kms.ErrUserNotFound) {
		t.Errorf("DeleteAccessKey of another user = %v, want ErrUserNotFound", err)
	}
	if err := svc.DeleteAccessKey(ctx, "100000000009", u.ID, third.SecretID); !errors.Is(err, kms.ErrUserNotFound) {
		t.Errorf("DeleteAccessKey from another account = %v, want ErrUserNotFound", err)
	}

	// Policies: invalid documents are refused; attach, evaluate, delete.
	if _, err := svc.CreatePolicy(ctx, account, "bad", `{"version":"2.0"}`, ""); !errors.Is(err, kms.ErrInvalidPolicy) {
		t.Errorf("CreatePolicy(no statement) = %v, want ErrInvalidPolicy", err)
	}
	p, err := svc.CreatePolicy(ctx, account, "enc", `{"version":"2.0","statement":[{"effect":"allow","action":"kms:Encrypt","resource":"*"}]}`, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreatePolicy(ctx, account, "enc", `{"version":"2.0","statement":[{"effect":"allow","action":"kms:Encrypt","resource":"*"}]}`, ""); !errors.Is(err, kms.ErrPolicyExists) {
		t.Errorf("CreatePolicy with a taken name = %v, want ErrPolicyExists", err)
	}
	alice := kms.Credential{Account: account, User: u.ID}
	req := auth.Request{Action: "kms:Encrypt", Resource: kms.KeyResource("local", account, "k")}
	if err := svc.Authorize(ctx, alice, req); !errors.Is(err, kms.ErrUnauthorized) {
		t.Errorf("Authorize before attaching = %v, want ErrUnauthorized", err)
	}
	if err := svc.AttachUserPolicy(ctx, account, p.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.Authorize(ctx, alice, req); err != nil {
		t.Errorf("Authorize after attaching = %v", err)
	}
	if err := svc.AttachUserPolicy(ctx, account, 999, u.ID); !errors.Is(err, kms.ErrPolicyNotFound) {
		t.Errorf("AttachUserPolicy(unknown policy) = %v, want ErrPolicyNotFound", err)
	}
	if err := svc.DeletePolicies(ctx, account, []uint64{p.ID}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Authorize(ctx, alice, req); !errors.Is(err, kms.ErrUnauthorized) {
		t.Errorf("Authorize after deleting the policy = %v, want ErrUnauthorized", err)
	}
	if ps, err := svc.AttachedPolicies(ctx, account, u.ID); err != nil || len(ps) != 0 {
		t.Errorf("AttachedPolicies after delete = %v, %v", ps, err)
	}
	if err := svc.Authorize(ctx, kms.Credential{Account: account, User: account}, req); err != nil {
		t.Errorf("the root user is refused: %v", err)
	}

	// Users with keys are deleted only with force, and their keys go too.
	if err := svc.DeleteUser(ctx, account, "alice", false); !errors.Is(err, kms.ErrUserHasKeys) {
		t.Errorf("DeleteUser without force = %v, want ErrUserHasKeys", err)
	}
	if err := svc.DeleteUser(ctx, account, "alice", true); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Credential(ctx, key.SecretID); !errors.Is(err, kms.ErrAccessKeyNotFound) {
		t.Errorf("Credential of a deleted user's key = %v, want ErrAccessKeyNotFound", err)
	}
}
