package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keyhaven/keyhaven/client"
)

// The identity commands: `keyhaven user`, `keyhaven access-key` and
// `keyhaven policy`, over the cam actions.

func newUserCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Add, list and delete sub-users (cam AddUser, ListUsers, DeleteUser)",
		Long: `Add, list and delete the sub-users of the account. A new sub-user may do
nothing until a policy is attached to it (` + "`keyhaven policy attach`" + `).`,
		Example: `  keyhaven user add --name alice --remark "payments app" --use-api 1
  keyhaven user list
  keyhaven user delete --name alice --force`,
	}
	var add client.AddUserRequest
	addCmd := &cobra.Command{
		Use:   "add",
		Short: "Add a sub-user; --use-api 1 also makes its access key, shown once",
		Example: `  keyhaven user add --name alice --use-api 1
  keyhaven user add --name bob --remark "reads the audit trail" --use-api 1 --output json`,
		Args: cobra.NoArgs,
	}
	addCmd.RunE = g.api(func(ctx context.Context, c *client.Client, cmd *cobra.Command) (any, error) {
		resp, err := c.AddUser(ctx, add)
		if err != nil {
			return nil, err
		}
		if resp.SecretKey != "" {
			shownOnce(cmd)
		}

		// The one time the secret is shown: print it, in the API's shape.
		return &struct {
			Uin       uint64
			Name      string
			Uid       uint64
			SecretId  string `json:",omitempty"`
			SecretKey string `json:",omitempty"`
			RequestId string
		}{resp.Uin, resp.Name, resp.UID, resp.SecretID, string(resp.SecretKey), resp.RequestID}, nil
	})
	f := addCmd.Flags()
	f.StringVar(&add.Name, "name", "", "the user's name: 1-64 of letters, digits and +=,.@_-")
	f.StringVar(&add.Remark, "remark", "", "a remark")
	f.Uint64Var(&add.UseAPI, "use-api", 0, "1: make the user an access key (SecretId and SecretKey), shown only now")
	addCmd.MarkFlagRequired("name")

	list := &cobra.Command{
		Use:     "list",
		Short:   "List the sub-users",
		Example: "  keyhaven user list\n  keyhaven user list --output json",
		Args:    cobra.NoArgs,
	}
	list.RunE = g.api(func(ctx context.Context, c *client.Client, _ *cobra.Command) (any, error) {
		return c.ListUsers(ctx)
	})

	var (
		del   client.DeleteUserRequest
		force bool
	)
	delCmd := &cobra.Command{
		Use:     "delete",
		Short:   "Delete a sub-user; with access keys, only with --force (which deletes them too)",
		Example: "  keyhaven user delete --name alice\n  keyhaven user delete --name alice --force",
		Args:    cobra.NoArgs,
	}
	delCmd.RunE = g.api(func(ctx context.Context, c *client.Client, _ *cobra.Command) (any, error) {
		if force {
			del.Force = 1
		}
		return c.DeleteUser(ctx, del)
	})
	delCmd.Flags().StringVar(&del.Name, "name", "", "the user's name")
	delCmd.Flags().BoolVar(&force, "force", false, "delete the user even if it has access keys, and the keys")
	delCmd.MarkFlagRequired("name")

	cmd.AddCommand(addCmd, list, delCmd)
	return cmd
}

// shownOnce warns on standard error that a secret will not be shown again
// (standard output holds only the response).
func shownOnce(cmd *cobra.Command) {
	fmt.Fprintln(cmd.ErrOrStderr(), "Keep the secret key now: it is not shown again.")
}

func newAccessKeyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "access-key",
		Short: "Create, list, enable or disable, and delete access keys (cam)",
		Long: `Create, list, enable or disable, and delete access keys. --target-uin names
the sub-user (its Uin, from ` + "`keyhaven user list`" + `); without it, the caller's
own keys. A user has at most two active keys.`,
		Example: `  keyhaven access-key create --target-uin 100000000001
  keyhaven access-key list --target-uin 100000000001
  keyhaven access-key update --target-uin 100000000001 --access-key-id AKID... --status Inactive
  keyhaven access-key delete --target-uin 100000000001 --access-key-id AKID...`,
	}
	var target uint64
	targetFlag := func(c *cobra.Command) {
		c.Flags().Uint64Var(&target, "target-uin", 0, "the sub-user's Uin (default: the caller)")
	}

	var description string
	create := &cobra.Command{
		Use:     "create",
		Short:   "Make an access key; its SecretAccessKey is shown once",
		Example: "  keyhaven access-key create --target-uin 100000000001 --output json",
		Args:    cobra.NoArgs,
	}
	create.RunE = g.api(func(ctx context.Context, c *client.Client, cmd *cobra.Command) (any, error) {
		resp, err := c.CreateAccessKey(ctx, client.CreateAccessKeyRequest{TargetUin: target, Description: description})
		if err != nil {
			return nil, err
		}
		shownOnce(cmd)
		k := resp.AccessKey
		type accessKey struct {
			AccessKeyId     string
			SecretAccessKey string
			Status          client.AccessKeyStatus
			CreateTime      string
		}
		return &struct {
			AccessKey accessKey
			RequestId string
		}{accessKey{k.AccessKeyID, string(k.SecretAccessKey), k.Status, k.CreateTime}, resp.RequestID}, nil
	})
	targetFlag(create)
	create.Flags().StringVar(&description, "description", "", "a description")

	list := &cobra.Command{
		Use:     "list",
		Short:   "List access keys (without their secrets)",
		Example: "  keyhaven access-key list\n  keyhaven access-key list --target-uin 100000000001",
		Args:    cobra.NoArgs,
	}
	list.RunE = g.api(func(ctx context.Context, c *client.Client, _ *cobra.Command) (any, error) {
		return c.ListAccessKeys(ctx, client.ListAccessKeysRequest{TargetUin: target})
	})
	targetFlag(list)

	var id, status string
	update := &cobra.Command{
		Use:     "update",
		Short:   "Make an access key Active or Inactive",
		Example: "  keyhaven access-key update --access-key-id AKID... --status Inactive --target-uin 100000000001",
		Args:    cobra.NoArgs,
	}
	update.RunE = g.api(func(ctx context.Context, c *client.Client, _ *cobra.Command) (any, error) {
		s := client.AccessKeyStatus(status)
		if s != client.AccessKeyActive && s != client.AccessKeyInactive {
			return nil, fmt.Errorf("--status is Active or Inactive, not %q", status)
		}
		return c.UpdateAccessKey(ctx, client.UpdateAccessKeyRequest{AccessKeyID: id, Status: s, TargetUin: target})
	})
	targetFlag(update)
	update.Flags().StringVar(&id, "access-key-id", "", "the access key's id (its SecretId)")
	update.Flags().StringVar(&status, "status", "", "Active or Inactive")
	update.MarkFlagRequired("access-key-id")
	update.MarkFlagRequired("status")

	del := &cobra.Command{
		Use:     "delete",
		Short:   "Delete an access key",
		Example: "  keyhaven access-key delete --access-key-id AKID... --target-uin 100000000001",
		Args:    cobra.NoArgs,
	}
	del.RunE = g.api(func(ctx context.Context, c *client.Client, _ *cobra.Command) (any, error) {
		return c.DeleteAccessKey(ctx, client.DeleteAccessKeyRequest{AccessKeyID: id, TargetUin: target})
	})
	targetFlag(del)
	del.Flags().StringVar(&id, "access-key-id", "", "the access key's id (its SecretId)")
	del.MarkFlagRequired("access-key-id")

	cmd.AddCommand(create, list, update, del)
	return cmd
}

func newPolicyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Create, list, delete, attach and detach access policies (cam)",
		Long: `Create, list and delete the account's access policies, and attach them to
sub-users. A policy document is CAM policy syntax, for example
{"version":"2.0","statement":[{"effect":"allow","action":["kms:Encrypt","kms:Decrypt"],"resource":"*"}]}
where a resource is "*" or qcs::kms:REGION:uin/ACCOUNT:key/KEYID.`,
		Example: `  keyhaven policy create --policy-name app-crypto --policy-document @policy.json
  keyhaven policy attach --policy-id 1 --attach-uin 100000000001
  keyhaven policy list-attached --target-uin 100000000001`,
	}
	var policyID uint64
	idFlag := func(c *cobra.Command) {
		c.Flags().Uint64Var(&policyID, "policy-id", 0, "the policy's PolicyId")
		c.MarkFlagRequired("policy-id")
	}

	var create client.CreatePolicyRequest
	createCmd := &cobra.Command{
		Use:   "create",
		Short: "Create a policy",
		Example: `  keyhaven policy create --policy-name app-crypto --policy-document fileb://policy.json --description "encrypt and decrypt"
  keyhaven policy create --policy-name random --policy-document '{"version":"2.0","statement":[{"effect":"allow","action":"kms:GenerateRandom","resource":"*"}]}'`,
		Args: cobra.NoArgs,
	}
	createCmd.RunE = g.api(func(ctx context.Context, c *client.Client, cmd *cobra.Command) (any, error) {
		doc, err := readDocument(cmd, "policy-document", create.PolicyDocument)
		if err != nil {
			return nil, err
		}
		req := create
		req.PolicyDocument = doc
		return c.CreatePolicy(ctx, req)
	})
	f := createCmd.Flags()
	f.StringVar(&create.PolicyName, "policy-name", "", "the policy's name: 1-128 of letters, digits and +=,.@_-")
	f.StringVar(&create.PolicyDocument, "policy-document", "", "the policy: inline JSON, @FILE or fileb://FILE")
	f.StringVar(&create.Description, "description", "", "a description")
	createCmd.MarkFlagRequired("policy-name")
	createCmd.MarkFlagRequired("policy-document")

	var list client.ListPoliciesRequest
	listCmd := &cobra.Command{
		Use:     "list",
		Short:   "List the account's policies",
		Example: "  keyhaven policy list\n  keyhaven policy list --keyword app --rp 50 --page 2",
		Args:    cobra.NoArgs,
	}
	listCmd.RunE = g.api(func(ctx context.Context, c *client.Client, _ *cobra.Command) (any, error) {
		return c.ListPolicies(ctx, list)
	})
	listCmd.Flags().StringVar(&list.Keyword, "keyword", "", "only policies whose name contains this")
	listCmd.Flags().Uint64Var(&list.Page, "page", 0, "page, from 1")
	listCmd.Flags().Uint64Var(&list.Rp, "rp", 0, "policies a page, 1-200 (default 20)")
	listCmd.Flags().StringVar(&list.Scope, "scope", "", "All, QCS (preset: none here) or Local (custom)")

	var ids []uint
	delCmd := &cobra.Command{
		Use:     "delete",
		Short:   "Delete policies (they are detached from their users)",
		Example: "  keyhaven policy delete --policy-id 1\n  keyhaven policy delete --policy-id 1 --policy-id 2",
		Args:    cobra.NoArgs,
	}
	delCmd.RunE = g.api(func(ctx context.Context, c *client.Client, _ *cobra.Command) (any, error) {
		pids := make([]uint64, len(ids))
		for i, id := range ids {
			pids[i] = uint64(id)
		}
		return c.DeletePolicy(ctx, pids)
	})
	delCmd.Flags().UintSliceVar(&ids, "policy-id", nil, "the PolicyId; repeat (or separate with commas) for several")
	delCmd.MarkFlagRequired("policy-id")

	var uin uint64
	attach := &cobra.Command{
		Use:     "attach",
		Short:   "Attach a policy to a sub-user",
		Example: "  keyhaven policy attach --policy-id 1 --attach-uin 100000000001",
		Args:    cobra.NoArgs,
	}
	attach.RunE = g.api(func(ctx context.Context, c *client.Client, _ *cobra.Command) (any, error) {
		return c.AttachUserPolicy(ctx, client.AttachUserPolicyRequest{PolicyID: policyID, AttachUin: uin})
	})
	idFlag(attach)
	attach.Flags().Uint64Var(&uin, "attach-uin", 0, "the sub-user's Uin")
	attach.MarkFlagRequired("attach-uin")

	detach := &cobra.Command{
		Use:     "detach",
		Short:   "Detach a policy from a sub-user",
		Example: "  keyhaven policy detach --policy-id 1 --detach-uin 100000000001",
		Args:    cobra.NoArgs,
	}
	detach.RunE = g.api(func(ctx context.Context, c *client.Client, _ *cobra.Command) (any, error) {
		return c.DetachUserPolicy(ctx, client.DetachUserPolicyRequest{PolicyID: policyID, DetachUin: uin})
	})
	idFlag(detach)
	detach.Flags().Uint64Var(&uin, "detach-uin", 0, "the sub-user's Uin")
	detach.MarkFlagRequired("detach-uin")

	var attached client.ListAttachedUserPoliciesRequest
	listAttached := &cobra.Command{
		Use:     "list-attached",
		Short:   "List the policies attached to a sub-user",
		Example: "  keyhaven policy list-attached --target-uin 100000000001",
		Args:    cobra.NoArgs,
	}
	listAttached.RunE = g.api(func(ctx context.Context, c *client.Client, _ *cobra.Command) (any, error) {
		return c.ListAttachedUserPolicies(ctx, attached)
	})
	listAttached.Flags().Uint64Var(&attached.TargetUin, "target-uin", 0, "the sub-user's Uin")
	listAttached.Flags().Uint64Var(&attached.Page, "page", 0, "page, from 1")
	listAttached.Flags().Uint64Var(&attached.Rp, "rp", 0, "policies a page, 1-200 (default 20)")
	listAttached.MarkFlagRequired("target-uin")

	cmd.AddCommand(createCmd, listCmd, delCmd, attach, detach, listAttached)
	return cmd
}

// readDocument reads a text document such as a policy: fileb://F or @F is
// F's contents, - is standard input, anything else is the document itself.
func readDocument(cmd *cobra.Command, flag, v string) (string, error) {
	if name, ok := strings.CutPrefix(v, "fileb://"); ok {
		b, err := os.ReadFile(name)
		if err != nil {
			return "", fmt.Errorf("--%s: %w", flag, err)
		}
		return string(b), nil
	}
	if v == "-" {
		v = "@-"
	}
	doc, err := readText(cmd, flag, v)
	if err == nil && strings.TrimSpace(doc) == "" {
		err = errors.New("--" + flag + " is empty")
	}
	return doc, err
}
