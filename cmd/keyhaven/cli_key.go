package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keyhaven/keyhaven/client"
)

func newKeyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Create, list, describe and manage the lifecycle of CMKs",
		Long: `Create, list, describe and manage the lifecycle of customer master keys.
Every --key-id takes a key id, alias/NAME or a bare alias.`,
		Example: `  keyhaven key create --alias app-data --description "app secrets"
  keyhaven key list --key-state Enabled
  keyhaven key describe --key-id alias/app-data --output json
  keyhaven key create --alias byok --type 2 && keyhaven key import --key-id byok --material fileb://material.bin`,
	}
	cmd.AddCommand(
		keyCreateCmd(g), keyListCmd(g), keyDescribeCmd(g), keyUpdateCmd(g),
		keyIDCmd(g, "key", "enable", "Enable Disabled keys", true, func(ctx context.Context, c *client.Client, ids []string) (any, error) {
			if len(ids) == 1 {
				return c.EnableKey(ctx, ids[0])
			}
			return c.EnableKeys(ctx, ids)
		}),
		keyIDCmd(g, "key", "disable", "Disable keys: they neither encrypt nor decrypt until enabled", true, func(ctx context.Context, c *client.Client, ids []string) (any, error) {
			if len(ids) == 1 {
				return c.DisableKey(ctx, ids[0])
			}
			return c.DisableKeys(ctx, ids)
		}),
		keyIDCmd(g, "key", "rotate", "Make a new key version now (older versions still decrypt)", false, func(ctx context.Context, c *client.Client, ids []string) (any, error) {
			return c.RotateKey(ctx, ids[0])
		}),
		keyIDCmd(g, "key", "archive", "Archive a key: it decrypts but no longer encrypts", false, func(ctx context.Context, c *client.Client, ids []string) (any, error) {
			return c.ArchiveKey(ctx, ids[0])
		}),
		keyIDCmd(g, "key", "cancel-archive", "Make an Archived key Enabled again", false, func(ctx context.Context, c *client.Client, ids []string) (any, error) {
			return c.CancelKeyArchive(ctx, ids[0])
		}),
		keyScheduleDeletionCmd(g),
		keyIDCmd(g, "key", "cancel-deletion", "Cancel a scheduled deletion (the key becomes Disabled)", false, func(ctx context.Context, c *client.Client, ids []string) (any, error) {
			return c.CancelKeyDeletion(ctx, ids[0])
		}),
		keyRotationCmd(g),
	)
	cmd.AddCommand(keyImportCmds(g)...)
	return cmd
}

// keyIDCmd is a command whose only input is --key-id (repeatable if many).
func keyIDCmd(g *globals, parent, use, short string, many bool, f func(context.Context, *client.Client, []string) (any, error)) *cobra.Command {
	var refs []string
	cmd := &cobra.Command{
		Use:     use,
		Short:   short,
		Example: "  keyhaven " + parent + " " + use + " --key-id alias/app-data",
		Args:    cobra.NoArgs,
	}
	cmd.RunE = g.api(func(ctx context.Context, c *client.Client, cmd *cobra.Command) (any, error) {
		ids, err := resolveKeys(ctx, c, refs)
		if err != nil {
			return nil, err
		}
		return f(ctx, c, ids)
	})
	if many {
		cmd.Flags().StringArrayVar(&refs, "key-id", nil, "key id or alias; repeat for several keys")
		cmd.Example += " --key-id 1b2c...-..."
	} else {
		cmd.Flags().StringArrayVar(&refs, "key-id", nil, "key id or alias")
	}
	cmd.MarkFlagRequired("key-id")
	if !many {
		cmd.PreRunE = func(*cobra.Command, []string) error {
			if len(refs) != 1 {
				return fmt.Errorf("give one --key-id")
			}
			return nil
		}
	}
	return cmd
}

func resolveKeys(ctx context.Context, c *client.Client, refs []string) ([]string, error) {
	ids := make([]string, len(refs))
	for i, r := range refs {
		var err error
		if ids[i], err = resolveKey(ctx, c, r); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

func keyCreateCmd(g *globals) *cobra.Command {
	var (
		req  client.CreateKeyRequest
		tags []string
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a CMK",
		Long: `Create a customer master key. --key-usage is ENCRYPT_DECRYPT (the default),
ASYMMETRIC_DECRYPT_RSA_2048, ASYMMETRIC_DECRYPT_SM2, ASYMMETRIC_SIGN_VERIFY_SM2,
ASYMMETRIC_SIGN_VERIFY_ECC, ASYMMETRIC_SIGN_VERIFY_ECDSA384 or
ASYMMETRIC_SIGN_VERIFY_RSA_2048. --type 2 makes a key awaiting imported
material (EXTERNAL origin).`,
		Example: `  keyhaven key create --alias app-data --description "app secrets" --key-usage ENCRYPT_DECRYPT
  keyhaven key create --alias signer --key-usage ASYMMETRIC_SIGN_VERIFY_ECC --tag team=payments`,
		Args: cobra.NoArgs,
	}
	cmd.RunE = g.api(func(ctx context.Context, c *client.Client, cmd *cobra.Command) (any, error) {
		for _, t := range tags {
			k, v, _ := strings.Cut(t, "=")
			req.Tags = append(req.Tags, client.Tag{Key: k, Value: v})
		}
		return c.CreateKey(ctx, req)
	})
	f := cmd.Flags()
	f.StringVar(&req.Alias, "alias", "", "the key's alias: 1-60 of A-Z a-z 0-9 _ -, starting with a letter or digit")
	f.StringVar(&req.Description, "description", "", "description, up to 1024 bytes")
	f.StringVar((*string)(&req.KeyUsage), "key-usage", "", "what the key does (default ENCRYPT_DECRYPT)")
	f.Uint64Var(&req.Type, "type", 0, "1: material made by the KMS (default), 2: material to import")
	f.StringVar((*string)(&req.ProtectionLevel), "protection-level", "", "SOFTWARE (default) or HSM")
	f.StringArrayVar(&tags, "tag", nil, "a tag KEY=VALUE; repeat for several")
	cmd.MarkFlagRequired("alias")
	return cmd
}

// keyStates are --key-state's names, in ListKeyDetail's numbering.
var keyStates = []string{"All", "Enabled", "Disabled", "PendingDelete", "PendingImport", "Archived"}

func keyListCmd(g *globals) *cobra.Command {
	var (
		req        client.ListKeyDetailRequest
		state      string
		tagFilters []string
		service    bool
		oldest     bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List keys with their details (ListKeyDetail)",
		Long: `List keys with their details. Unlike the API's default, every key usage is
listed unless --key-usage narrows it.`,
		Example: `  keyhaven key list
  keyhaven key list --key-state Enabled --search-key-alias app --limit 50
  keyhaven key list --key-usage ASYMMETRIC_SIGN_VERIFY_ECC --output json`,
		Args: cobra.NoArgs,
	}
	cmd.RunE = g.api(func(ctx context.Context, c *client.Client, cmd *cobra.Command) (any, error) {
		if state != "" {
			n, err := strconv.ParseUint(state, 10, 64)
			if err != nil {
				n = uint64(len(keyStates))
				for i, s := range keyStates {
					if strings.EqualFold(s, state) {
						n = uint64(i)
					}
				}
			}
			if n >= uint64(len(keyStates)) {
				return nil, fmt.Errorf("--key-state is one of %s", strings.Join(keyStates, ", "))
			}
			req.KeyState = n
		}
		for _, t := range tagFilters {
			k, v, ok := strings.Cut(t, "=")
			tf := client.TagFilter{Key: k}
			if ok {
				tf.Values = []string{v}
			}
			req.TagFilters = append(req.TagFilters, tf)
		}
		if service {
			req.Role = 1
		}
		if oldest {
			req.OrderType = 1
		}
		return c.ListKeyDetail(ctx, req)
	})
	f := cmd.Flags()
	f.Uint64Var(&req.Offset, "offset", 0, "keys to skip")
	f.Uint64Var(&req.Limit, "limit", 100, "keys to list, 1-200")
	f.StringVar(&state, "key-state", "", "only keys in this state: "+strings.Join(keyStates[1:], ", "))
	f.StringVar(&req.SearchKeyAlias, "search-key-alias", "", "only keys whose alias or id contains this")
	f.StringVar(&req.Origin, "origin", "", "TENCENT_KMS, EXTERNAL or ALL")
	f.StringVar((*string)(&req.KeyUsage), "key-usage", string(client.UsageAll), "only keys of this usage")
	f.StringVar((*string)(&req.ProtectionLevel), "protection-level", "", "only SOFTWARE or HSM keys")
	f.StringArrayVar(&tagFilters, "tag-filter", nil, "only keys with tag KEY or KEY=VALUE; repeat for several")
	f.BoolVar(&service, "service-keys", false, "list the keys services created for the account instead")
	f.BoolVar(&oldest, "oldest-first", false, "oldest keys first")
	return cmd
}

func keyDescribeCmd(g *globals) *cobra.Command {
	var refs []string
	cmd := &cobra.Command{
		Use:   "describe",
		Short: "Describe keys",
		Example: `  keyhaven key describe --key-id alias/app-data
  keyhaven key describe --key-id app-data --key-id signer --output json`,
		Args: cobra.NoArgs,
	}
	cmd.RunE = g.api(func(ctx context.Context, c *client.Client, cmd *cobra.Command) (any, error) {
		ids, err := resolveKeys(ctx, c, refs)
		if err != nil {
			return nil, err
		}
		if len(ids) == 1 {
			return c.DescribeKey(ctx, ids[0])
		}
		return c.DescribeKeys(ctx, ids)
	})
	cmd.Flags().StringArrayVar(&refs, "key-id", nil, "key id or alias; repeat for several (DescribeKeys)")
	cmd.MarkFlagRequired("key-id")
	return cmd
}

func keyUpdateCmd(g *globals) *cobra.Command {
	var ref, alias, description string
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Change a key's alias or description, then describe it",
		Example: `  keyhaven key update --key-id alias/app-data --alias app-data-v2
  keyhaven key update --key-id app-data-v2 --description "rotated yearly"`,
		Args: cobra.NoArgs,
	}
	cmd.RunE = g.api(func(ctx context.Context, c *client.Client, cmd *cobra.Command) (any, error) {
		descSet := cmd.Flags().Changed("description")
		if alias == "" && !descSet {
			return nil, fmt.Errorf("give --alias, --description or both")
		}
		id, err := resolveKey(ctx, c, ref)
		if err != nil {
			return nil, err
		}
		if alias != "" {
			if _, err := c.UpdateAlias(ctx, client.UpdateAliasRequest{KeyID: id, Alias: alias}); err != nil {
				return nil, err
			}
		}
		if descSet {
			if _, err := c.UpdateKeyDescription(ctx, client.UpdateKeyDescriptionRequest{KeyID: id, Description: description}); err != nil {
				return nil, err
			}
		}
		return c.DescribeKey(ctx, id)
	})
	f := cmd.Flags()
	f.StringVar(&ref, "key-id", "", "key id or alias")
	f.StringVar(&alias, "alias", "", "new alias (UpdateAlias)")
	f.StringVar(&description, "description", "", "new description (UpdateKeyDescription)")
	cmd.MarkFlagRequired("key-id")
	return cmd
}

func keyScheduleDeletionCmd(g *globals) *cobra.Command {
	var (
		ref  string
		days uint64
	)
	cmd := &cobra.Command{
		Use:     "schedule-deletion",
		Short:   "Schedule a Disabled key's deletion after 7-30 days",
		Example: "  keyhaven key schedule-deletion --key-id alias/old-key --pending-window-in-days 7",
		Args:    cobra.NoArgs,
	}
	cmd.RunE = g.api(func(ctx context.Context, c *client.Client, cmd *cobra.Command) (any, error) {
		id, err := resolveKey(ctx, c, ref)
		if err != nil {
			return nil, err
		}
		return c.ScheduleKeyDeletion(ctx, client.ScheduleKeyDeletionRequest{KeyID: id, PendingWindowInDays: days})
	})
	cmd.Flags().StringVar(&ref, "key-id", "", "key id or alias")
	cmd.Flags().Uint64Var(&days, "pending-window-in-days", 0, "days until the deletion, 7-30")
	cmd.MarkFlagRequired("key-id")
	cmd.MarkFlagRequired("pending-window-in-days")
	return cmd
}

func keyRotationCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "rotation",
		Short:   "Turn automatic rotation on or off, or show it",
		Example: "  keyhaven key rotation enable --key-id alias/app-data --rotate-days 90\n  keyhaven key rotation status --key-id alias/app-data",
	}
	var (
		ref  string
		days uint64
	)
	enable := &cobra.Command{
		Use:     "enable",
		Short:   "Rotate the key automatically every --rotate-days days (7-365, default 365)",
		Example: "  keyhaven key rotation enable --key-id alias/app-data --rotate-days 90",
		Args:    cobra.NoArgs,
	}
	enable.RunE = g.api(func(ctx context.Context, c *client.Client, cmd *cobra.Command) (any, error) {
		id, err := resolveKey(ctx, c, ref)
		if err != nil {
			return nil, err
		}
		return c.EnableKeyRotation(ctx, client.EnableKeyRotationRequest{KeyID: id, RotateDays: days})
	})
	enable.Flags().StringVar(&ref, "key-id", "", "key id or alias")
	enable.Flags().Uint64Var(&days, "rotate-days", 0, "days between rotations, 7-365 (default 365)")
	enable.MarkFlagRequired("key-id")
	cmd.AddCommand(enable,
		keyIDCmd(g, "key rotation", "disable", "Stop rotating the key automatically", false, func(ctx context.Context, c *client.Client, ids []string) (any, error) {
			return c.DisableKeyRotation(ctx, ids[0])
		}),
		keyIDCmd(g, "key rotation", "status", "Show the key's rotation settings and current version", false, func(ctx context.Context, c *client.Client, ids []string) (any, error) {
			return c.GetKeyRotationStatus(ctx, ids[0])
		}),
	)
	return cmd
}
