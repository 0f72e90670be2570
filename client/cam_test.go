package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/keyhaven/keyhaven/client"
	"github.com/keyhaven/keyhaven/kms"
)

// TestServices checks that each method is sent with its service's version
// and signed for that service.
func TestServices(t *testing.T) {
	var (
		mu             sync.Mutex
		version, scope string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		version = r.Header.Get("X-TC-Version")
		_, scope, _ = strings.Cut(r.Header.Get("Authorization"), "Credential=")
		mu.Unlock()
		io.WriteString(w, `{"Response":{"RequestId":"r-1"}}`)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL)
	ctx := context.Background()
	cases := []struct {
		action           string
		call             func() error
		service, version string
	}{
		{"Encrypt", func() error { _, err := c.Encrypt(ctx, client.EncryptRequest{KeyID: "k"}); return err }, "kms", "2019-01-18"},
		{"GetParametersForImport", func() error {
			_, err := c.GetParametersForImport(ctx, client.GetParametersForImportRequest{KeyID: "k"})
			return err
		}, "kms", "2019-01-18"},
		{"AddUser", func() error { _, err := c.AddUser(ctx, client.AddUserRequest{Name: "u"}); return err }, "cam", "2019-01-16"},
		{"ListAttachedUserPolicies", func() error {
			_, err := c.ListAttachedUserPolicies(ctx, client.ListAttachedUserPoliciesRequest{TargetUin: 1})
			return err
		}, "cam", "2019-01-16"},
		{"LookUpEvents", func() error { _, err := c.LookUpEvents(ctx, client.LookUpEventsRequest{}); return err }, "cloudaudit", "2019-03-19"},
		{"VerifyAuditTrail", func() error { _, err := c.VerifyAuditTrail(ctx); return err }, "cloudaudit", "2019-03-19"},
	}
	for _, tc := range cases {
		if err := tc.call(); err != nil {
			t.Fatalf("%s: %v", tc.action, err)
		}
		mu.Lock()
		if version != tc.version || !strings.Contains(scope, "/"+tc.service+"/tc3_request") {
			t.Errorf("%s sent version %q, credential %q; want version %s, service %s", tc.action, version, scope, tc.version, tc.service)
		}
		mu.Unlock()
	}
}

// TestCAM walks a sub-user through its life with the cam methods: it can do
// nothing until a policy is attached, its access keys can be listed,
// disabled and deleted, and it is deleted with its keys only by force.
func TestCAM(t *testing.T) {
	addr := startServer(t, kms.SuiteFIPS)
	c := newClient(t, addr)
	ctx := context.Background()
	as := func(id string, key client.Secret) *client.Client {
		return newClient(t, addr, func(cfg *client.Config) { cfg.SecretID, cfg.SecretKey, cfg.MaxRetries = id, key, -1 })
	}

	u := must[*client.AddUserResponse](t, "AddUser")(c.AddUser(ctx, client.AddUserRequest{Name: "alice", Remark: "ops", UseAPI: 1}))
	if u.Uin == 0 || u.UID != u.Uin || u.Name != "alice" || u.SecretID == "" || len(u.SecretKey) < 16 {
		t.Fatalf("AddUser = %+v", u)
	}
	b, _ := json.Marshal(u)
	if s := fmt.Sprintf("%v %+v %#v %s", u, u, u, b); strings.Contains(s, string(u.SecretKey)) {
		t.Errorf("AddUserResponse printed or marshalled its SecretKey: %s", s)
	}
	alice := as(u.SecretID, u.SecretKey)
	if _, err := alice.GenerateRandom(ctx, 8); !client.IsCode(err, "UnauthorizedOperation") {
		t.Errorf("GenerateRandom by a user without policies: %v, want UnauthorizedOperation", err)
	}
	if _, err := c.AddUser(ctx, client.AddUserRequest{Name: "alice"}); !client.IsCode(err, "InvalidParameter.SubUserNameInUse") {
		t.Errorf("AddUser of a taken name: %v, want InvalidParameter.SubUserNameInUse", err)
	}
	users := must[*client.ListUsersResponse](t, "ListUsers")(c.ListUsers(ctx))
	if len(users.Data) != 1 || users.Data[0].Uin != u.Uin || users.Data[0].Remark != "ops" || users.Data[0].CreateTime == "" {
		t.Errorf("ListUsers = %+v", users)
	}

	doc := `{"version":"2.0","statement":[{"effect":"allow","action":["kms:GenerateRandom"],"resource":"*"}]}`
	p := must[*client.CreatePolicyResponse](t, "CreatePolicy")(c.CreatePolicy(ctx, client.CreatePolicyRequest{PolicyName: "random-only", PolicyDocument: doc, Description: "d"}))
	if _, err := c.CreatePolicy(ctx, client.CreatePolicyRequest{PolicyName: "bad", PolicyDocument: "{"}); !client.IsCode(err, "InvalidParameter.PolicyDocumentError") {
		t.Errorf("CreatePolicy of a bad document: %v, want InvalidParameter.PolicyDocumentError", err)
	}
	list := must[*client.ListPoliciesResponse](t, "ListPolicies")(c.ListPolicies(ctx, client.ListPoliciesRequest{Keyword: "random"}))
	if list.TotalNum != 1 || list.List[0].PolicyID != p.PolicyID || list.List[0].Description != "d" {
		t.Errorf("ListPolicies = %+v", list)
	}
	must[*client.Response](t, "AttachUserPolicy")(c.AttachUserPolicy(ctx, client.AttachUserPolicyRequest{PolicyID: p.PolicyID, AttachUin: u.Uin}))
	attached := must[*client.ListAttachedUserPoliciesResponse](t, "ListAttachedUserPolicies")(c.ListAttachedUserPolicies(ctx, client.ListAttachedUserPoliciesRequest{TargetUin: u.Uin}))
	if attached.TotalNum != 1 || attached.List[0].PolicyName != "random-only" {
		t.Errorf("ListAttachedUserPolicies = %+v", attached)
	}
	if _, err := alice.GenerateRandom(ctx, 8); err != nil {
		t.Errorf("GenerateRandom allowed by the policy: %v", err)
	}
	if _, err := alice.ListUsers(ctx); !client.IsCode(err, "UnauthorizedOperation") {
		t.Errorf("ListUsers by a user allowed only GenerateRandom: %v, want UnauthorizedOperation", err)
	}

	// A second access key, listed without secrets, disabled, deleted.
	k2 := must[*client.CreateAccessKeyResponse](t, "CreateAccessKey")(c.CreateAccessKey(ctx, client.CreateAccessKeyRequest{TargetUin: u.Uin}))
	if k2.AccessKey.AccessKeyID == "" || k2.AccessKey.SecretAccessKey == "" || k2.AccessKey.Status != client.AccessKeyActive {
		t.Fatalf("CreateAccessKey = %+v", k2)
	}
	second := as(k2.AccessKey.AccessKeyID, k2.AccessKey.SecretAccessKey)
	must[*client.GenerateRandomResponse](t, "GenerateRandom with the second key")(second.GenerateRandom(ctx, 8))
	keys := must[*client.ListAccessKeysResponse](t, "ListAccessKeys")(c.ListAccessKeys(ctx, client.ListAccessKeysRequest{TargetUin: u.Uin}))
	if len(keys.AccessKeys) != 2 {
		t.Errorf("ListAccessKeys = %+v, want 2 keys", keys)
	}
	for _, k := range keys.AccessKeys {
		if k.SecretAccessKey != "" {
			t.Errorf("ListAccessKeys returned a secret for %s", k.AccessKeyID)
		}
	}
	must[*client.Response](t, "UpdateAccessKey")(c.UpdateAccessKey(ctx, client.UpdateAccessKeyRequest{AccessKeyID: k2.AccessKey.AccessKeyID, Status: client.AccessKeyInactive, TargetUin: u.Uin}))
	if _, err := second.GenerateRandom(ctx, 8); !client.IsCode(err, "AuthFailure.SecretIdNotFound") {
		t.Errorf("GenerateRandom with an Inactive key: %v, want AuthFailure.SecretIdNotFound", err)
	}
	must[*client.Response](t, "DeleteAccessKey")(c.DeleteAccessKey(ctx, client.DeleteAccessKeyRequest{AccessKeyID: k2.AccessKey.AccessKeyID, TargetUin: u.Uin}))
	if keys := must[*client.ListAccessKeysResponse](t, "ListAccessKeys")(c.ListAccessKeys(ctx, client.ListAccessKeysRequest{TargetUin: u.Uin})); len(keys.AccessKeys) != 1 {
		t.Errorf("ListAccessKeys after DeleteAccessKey = %+v", keys)
	}
	if own := must[*client.ListAccessKeysResponse](t, "ListAccessKeys (own)")(c.ListAccessKeys(ctx, client.ListAccessKeysRequest{})); len(own.AccessKeys) != 1 || own.AccessKeys[0].AccessKeyID != testSecretID {
		t.Errorf("ListAccessKeys without TargetUin = %+v, want the caller's key", own)
	}

	must[*client.Response](t, "DetachUserPolicy")(c.DetachUserPolicy(ctx, client.DetachUserPolicyRequest{PolicyID: p.PolicyID, DetachUin: u.Uin}))
	if _, err := alice.GenerateRandom(ctx, 8); !client.IsCode(err, "UnauthorizedOperation") {
		t.Errorf("GenerateRandom after DetachUserPolicy: %v, want UnauthorizedOperation", err)
	}
	must[*client.Response](t, "DeletePolicy")(c.DeletePolicy(ctx, []uint64{p.PolicyID}))
	if _, err := c.DeletePolicy(ctx, []uint64{p.PolicyID}); !client.IsCode(err, "ResourceNotFound.PolicyIdNotFound") {
		t.Errorf("DeletePolicy twice: %v, want ResourceNotFound.PolicyIdNotFound", err)
	}
	if _, err := c.DeleteUser(ctx, client.DeleteUserRequest{Name: "alice"}); !client.IsCode(err, "OperationDenied.HaveKeys") {
		t.Errorf("DeleteUser of a user with a key: %v, want OperationDenied.HaveKeys", err)
	}
	must[*client.Response](t, "DeleteUser")(c.DeleteUser(ctx, client.DeleteUserRequest{Name: "alice", Force: 1}))
	if users := must[*client.ListUsersResponse](t, "ListUsers")(c.ListUsers(ctx)); len(users.Data) != 0 {
		t.Errorf("ListUsers after DeleteUser = %+v", users)
	}
	if _, err := alice.GenerateRandom(ctx, 8); !client.IsCode(err, "AuthFailure.SecretIdNotFound") {
		t.Errorf("GenerateRandom by a deleted user: %v, want AuthFailure.SecretIdNotFound", err)
	}
}
