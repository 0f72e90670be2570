package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIIdentity walks a sub-user through `keyhaven user`, `access-key`
// and `policy`: made with an access key, it signs requests (here through
// the environment) that are refused until a policy is attached, and again
// once it is detached.
func TestCLIIdentity(t *testing.T) {
	e := startCLI(t, true)
	key := str(e.json("key", "create", "--alias", "app"), "KeyId")

	r := e.run("", "user", "add", "--name", "alice", "--remark", "payments", "--use-api", "1", "--output", "json")
	if r.code != 0 || !strings.Contains(r.stderr, "not shown again") {
		t.Fatalf("user add: exit %d, stderr %q", r.code, r.stderr)
	}
	u := decodeJSON(t, r.stdout)
	uin, aliceID, aliceKey := str(u, "Uin"), str(u, "SecretId"), str(u, "SecretKey")
	if len(uin) < 6 || str(u, "Uid") != uin || aliceID == "" || len(aliceKey) < 16 || str(u, "RequestId") == "" {
		t.Fatalf("user add --output json = %v", u)
	}
	if out := e.ok("", "user", "list"); !strings.Contains(out, "Data:") || !strings.Contains(out, "alice") || !strings.Contains(out, "payments") || !strings.Contains(out, uin) {
		t.Errorf("user list table:\n%s", out)
	}
	e.fails("InvalidParameter.SubUserNameInUse", "user", "add", "--name", "alice")

	// No policy: refused.
	e.as(aliceID, aliceKey)
	e.fails("UnauthorizedOperation", "encrypt", "--key-id", key, "--plaintext", "aGk=")
	e.fails("UnauthorizedOperation", "user", "list")

	// A policy from each kind of input; one is attached.
	e.asRoot()
	dir := t.TempDir()
	doc := `{"version":"2.0","statement":[{"effect":"allow","action":["kms:Encrypt","kms:Decrypt"],"resource":"*"}]}`
	docFile := filepath.Join(dir, "policy.json")
	os.WriteFile(docFile, []byte(doc+"\n"), 0o600)
	p := e.json("policy", "create", "--policy-name", "crypto", "--policy-document", "@"+docFile, "--description", "encrypt and decrypt")
	policyID := str(p, "PolicyId")
	if policyID == "" || policyID == "0" {
		t.Fatalf("policy create = %v", p)
	}
	e.json("policy", "create", "--policy-name", "crypto-fileb", "--policy-document", "fileb://"+docFile)
	e.json("policy", "create", "--policy-name", "inline", "--policy-document", doc)
	e.fails("InvalidParameter.PolicyDocumentError", "policy", "create", "--policy-name", "bad", "--policy-document", `{"version":"2.0"`)
	e.fails("FailedOperation.PolicyNameInUse", "policy", "create", "--policy-name", "inline", "--policy-document", doc)
	if got := str(e.json("policy", "list"), "TotalNum"); got != "3" {
		t.Errorf("policy list: TotalNum %s, want 3", got)
	}
	if out := e.ok("", "policy", "list", "--keyword", "fileb"); !strings.Contains(out, "PolicyName") || !strings.Contains(out, "crypto-fileb") || strings.Contains(out, "inline") {
		t.Errorf("policy list --keyword fileb table:\n%s", out)
	}
	e.json("policy", "attach", "--policy-id", policyID, "--attach-uin", uin)
	if out := e.ok("", "policy", "list-attached", "--target-uin", uin); !strings.Contains(out, "crypto") || !strings.Contains(out, "encrypt and decrypt") {
		t.Errorf("policy list-attached table:\n%s", out)
	}

	// Allowed what the policy says, and nothing else.
	e.as(aliceID, aliceKey)
	blob := str(e.json("encrypt", "--key-id", key, "--plaintext", "aGk="), "CiphertextBlob")
	if got := str(e.json("decrypt", "--ciphertext-blob", blob), "Plaintext"); got != "aGk=" {
		t.Errorf("decrypt by alice = %q", got)
	}
	e.fails("UnauthorizedOperation", "key", "create", "--alias", "mine")
	e.fails("UnauthorizedOperation", "policy", "detach", "--policy-id", policyID, "--detach-uin", uin)

	// A second access key: listed without secrets, disabled, deleted.
	e.asRoot()
	k := e.json("access-key", "create", "--target-uin", uin)
	secondID, secondKey := str(k, "AccessKey", "AccessKeyId"), str(k, "AccessKey", "SecretAccessKey")
	if secondID == "" || secondKey == "" || str(k, "AccessKey", "Status") != "Active" {
		t.Fatalf("access-key create = %v", k)
	}
	list := e.ok("", "access-key", "list", "--target-uin", uin, "--output", "json")
	if strings.Count(list, `"AccessKeyId"`) != 2 || strings.Contains(list, secondKey) || strings.Contains(list, "SecretAccessKey") {
		t.Errorf("access-key list --output json:\n%s", list)
	}
	if out := e.ok("", "access-key", "list"); !strings.Contains(out, cliSecretID) {
		t.Errorf("access-key list without --target-uin does not show the caller's key:\n%s", out)
	}
	e.as(secondID, secondKey)
	e.json("encrypt", "--key-id", key, "--plaintext", "aGk=")
	e.asRoot()
	e.fails("--status is Active or Inactive", "access-key", "update", "--access-key-id", secondID, "--status", "Off", "--target-uin", uin)
	e.json("access-key", "update", "--access-key-id", secondID, "--status", "Inactive", "--target-uin", uin)
	e.as(secondID, secondKey)
	e.fails("AuthFailure.SecretIdNotFound", "encrypt", "--key-id", key, "--plaintext", "aGk=")
	e.asRoot()
	e.json("access-key", "delete", "--access-key-id", secondID, "--target-uin", uin)
	if got := e.ok("", "access-key", "list", "--target-uin", uin, "--output", "json"); strings.Count(got, `"AccessKeyId"`) != 1 {
		t.Errorf("access-key list after delete:\n%s", got)
	}
	e.fails("ResourceNotFound.SecretNotExist", "access-key", "delete", "--access-key-id", secondID, "--target-uin", uin)

	// Detached: refused again.
	e.json("policy", "detach", "--policy-id", policyID, "--detach-uin", uin)
	e.as(aliceID, aliceKey)
	e.fails("UnauthorizedOperation", "encrypt", "--key-id", key, "--plaintext", "aGk=")
	e.asRoot()
	e.json("policy", "delete", "--policy-id", policyID)
	e.fails("ResourceNotFound.PolicyIdNotFound", "policy", "attach", "--policy-id", policyID, "--attach-uin", uin)
	e.fails("OperationDenied.HaveKeys", "user", "delete", "--name", "alice")
	e.json("user", "delete", "--name", "alice", "--force")
	if got := e.json("user", "list"); strings.Contains(str(got, "Data"), "alice") {
		t.Errorf("user list after delete = %v", got)
	}
	e.as(aliceID, aliceKey)
	e.fails("AuthFailure.SecretIdNotFound", "encrypt", "--key-id", key, "--plaintext", "aGk=")

	e.asRoot()
	for _, args := range [][]string{
		{"user", "add"},
		{"policy", "attach", "--policy-id", "1"},
		{"policy", "list-attached"},
		{"access-key", "update", "--access-key-id", "x"},
	} {
		e.fails("not set", args...)
	}
	os.WriteFile(filepath.Join(dir, "empty"), []byte("\n"), 0o600)
	e.fails("--policy-document is empty", "policy", "create", "--policy-name", "x", "--policy-document", "@"+filepath.Join(dir, "empty"))
}
