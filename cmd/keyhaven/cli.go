package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyhaven/keyhaven/client"
)

// Environment variables of the client commands. (The server's flags read
// KEYHAVEN_<FLAG> only in `keyhaven server`; these names are none of them.)
const (
	envEndpoint  = "KEYHAVEN_ENDPOINT"
	envSecretID  = "KEYHAVEN_SECRET_ID"
	envSecretKey = "KEYHAVEN_SECRET_KEY"
	envProfile   = "KEYHAVEN_PROFILE"
	envRegion    = "KEYHAVEN_REGION" // the server's --region, if it was set this way

	defaultEndpoint = "http://127.0.0.1:8400"
)

// globals are the client commands' global flags.
type globals struct {
	endpoint, secretID, secretKey, profile, output string
}

// addClientCommands adds the client commands and their global flags to root.
func addClientCommands(root *cobra.Command) {
	g := &globals{}
	pf := root.PersistentFlags()
	pf.StringVar(&g.endpoint, "endpoint", "", "server URL, http(s)://host:port (env "+envEndpoint+"; default "+defaultEndpoint+")")
	pf.StringVar(&g.secretID, "secret-id", "", "access key SecretId (env "+envSecretID+")")
	pf.StringVar(&g.secretKey, "secret-key", "", "access key SecretKey (env "+envSecretKey+"; prefer the environment or a profile: flags show in ps)")
	pf.StringVar(&g.profile, "profile", "", "profile of ~/.keyhaven/config to use (env "+envProfile+"; default \"default\")")
	pf.StringVarP(&g.output, "output", "o", "", "output format: table or json (default table, or the profile's output)")
	root.Example = `  keyhaven configure
  keyhaven key create --alias app-data --description "app secrets"
  keyhaven encrypt --key-id alias/app-data --plaintext fileb://secret.bin --output json
  keyhaven envelope encrypt --key-id app-data --context app=x < big > big.khv`
	root.AddCommand(
		newConfigureCmd(g), newKeyCmd(g), newEncryptCmd(g), newDecryptCmd(g), newReEncryptCmd(g),
		newDataKeyCmd(g), newRandomCmd(g), newSignCmd(g), newVerifyCmd(g), newPublicKeyCmd(g),
		newAsymmetricDecryptCmd(g), newEnvelopeCmd(g), newServiceCmd(g),
		newUserCmd(g), newAccessKeyCmd(g), newPolicyCmd(g),
	)
}

// flagGlobals reads the global flags as cmd parsed them, for commands made
// outside addClientCommands (`keyhaven audit`, which also works offline).
func flagGlobals(cmd *cobra.Command) *globals {
	get := func(name string) string {
		v, _ := cmd.Flags().GetString(name) // "" if the flag is not there
		return v
	}
	return &globals{endpoint: get("endpoint"), secretID: get("secret-id"), secretKey: get("secret-key"), profile: get("profile"), output: get("output")}
}

// settings are the resolved connection settings: flags, then the
// environment, then the profile, then defaults.
type settings struct {
	endpoint, region, secretID, secretKey, output string
}

func (g *globals) settings() (settings, error) {
	name, explicit := g.profile, g.profile != ""
	if !explicit {
		name, explicit = os.Getenv(envProfile), os.Getenv(envProfile) != ""
	}
	if name == "" {
		name = "default"
	}
	prof, err := loadProfile(name, explicit)
	if err != nil {
		return settings{}, err
	}
	s := settings{
		endpoint:  first(g.endpoint, os.Getenv(envEndpoint), prof["endpoint"], defaultEndpoint),
		region:    first(os.Getenv(envRegion), prof["region"], client.DefaultRegion),
		secretID:  first(g.secretID, os.Getenv(envSecretID), prof["secret_id"]),
		secretKey: first(g.secretKey, os.Getenv(envSecretKey), prof["secret_key"]),
		output:    first(g.output, prof["output"], "table"),
	}
	if s.output != "table" && s.output != "json" {
		return settings{}, fmt.Errorf("--output is table or json, not %q", s.output)
	}
	return s, nil
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// client returns a client from the settings; it fails without credentials.
func (g *globals) client() (*client.Client, settings, error) {
	s, err := g.settings()
	if err != nil {
		return nil, s, err
	}
	if s.secretID == "" || s.secretKey == "" {
		return nil, s, errors.New("no credentials: run `keyhaven configure`, set " + envSecretID + " and " + envSecretKey + ", or pass --secret-id and --secret-key")
	}
	c, err := client.New(client.Config{Endpoint: s.endpoint, Region: s.region, SecretID: s.secretID, SecretKey: client.Secret(s.secretKey)})
	return c, s, err
}

// apiFunc is the body of an API command: it gets a client, resolved settings
// and the command, and returns the response to print (nil for none).
type apiFunc func(ctx context.Context, c *client.Client, cmd *cobra.Command) (any, error)

// api makes a cobra RunE that calls f and prints its response, leaving out
// the fields named in omit(cmd).
func (g *globals) api(f apiFunc, omit ...func(cmd *cobra.Command) []string) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		c, s, err := g.client()
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		resp, err := f(ctx, c, cmd)
		if resp != nil && (err == nil || errors.Is(err, errSignatureInvalid) || errors.Is(err, errTrailBroken)) {
			var skip []string
			for _, o := range omit {
				skip = append(skip, o(cmd)...)
			}
			if perr := printResponse(cmd.OutOrStdout(), s.output, resp, skip...); perr != nil && err == nil {
				err = perr
			}
		}
		return err
	}
}

// resolveKey turns a --key-id value (key id, alias/NAME or a bare alias)
// into a key id.
func resolveKey(ctx context.Context, c *client.Client, ref string) (string, error) {
	if ref == "" {
		return "", errors.New("--key-id is required")
	}
	return c.ResolveKeyID(ctx, ref)
}

// readBinary reads the value of a base64 API field: fileb://F is F's bytes,
// @F is F's text (base64), - is standard input's bytes, anything else is
// base64.
func readBinary(cmd *cobra.Command, flag, v string) ([]byte, error) {
	switch {
	case strings.HasPrefix(v, "fileb://"):
		b, err := os.ReadFile(strings.TrimPrefix(v, "fileb://"))
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", flag, err)
		}
		return b, nil
	case v == "-":
		b, err := io.ReadAll(cmd.InOrStdin())
		if err != nil {
			return nil, fmt.Errorf("--%s: standard input: %w", flag, err)
		}
		return b, nil
	case strings.HasPrefix(v, "@"):
		text, err := readText(cmd, flag, v)
		if err != nil {
			return nil, err
		}
		v = text
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil {
		return nil, fmt.Errorf("--%s is not base64 (give fileb://FILE for raw bytes, @FILE for a file of base64)", flag)
	}
	return b, nil
}

// readText reads a text value: @F is F's text without its final newline,
// anything else is the value itself.
func readText(cmd *cobra.Command, flag, v string) (string, error) {
	name, ok := strings.CutPrefix(v, "@")
	if !ok {
		return v, nil
	}
	var b []byte
	var err error
	if name == "-" {
		b, err = io.ReadAll(cmd.InOrStdin())
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return "", fmt.Errorf("--%s: %w", flag, err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// parseTime reads a time flag: Unix seconds or RFC 3339; "" is 0.
func parseTime(flag, v string) (uint64, error) {
	if v == "" {
		return 0, nil
	}
	if n, err := strconv.ParseUint(v, 10, 64); err == nil {
		return n, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil || t.Unix() < 0 {
		return 0, fmt.Errorf("--%s is Unix seconds or an RFC 3339 time such as 2026-01-02T15:04:05Z, not %q", flag, v)
	}
	return uint64(t.Unix()), nil
}

// readContext reads an --encryption-context: a JSON object of strings,
// inline or @FILE; "" is none.
func readContext(cmd *cobra.Command, flag string) (client.EncryptionContext, error) {
	v, _ := cmd.Flags().GetString(flag)
	if v == "" {
		return nil, nil
	}
	text, err := readText(cmd, flag, v)
	if err != nil {
		return nil, err
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		return nil, fmt.Errorf(`--%s is a JSON object of strings, such as '{"app":"x"}'`, flag)
	}
	return m, nil
}

// writeOut writes a binary result to --out: a file (mode 0600) or - for
// standard output.
func writeOut(cmd *cobra.Command, b []byte) error {
	path, _ := cmd.Flags().GetString("out")
	if path == "-" {
		_, err := cmd.OutOrStdout().Write(b)
		return err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}

// addOut adds --out for the binary field field and returns the omit
// function that keeps the field (or, with --out -, everything) off stdout.
func addOut(cmd *cobra.Command, field, what string) func(*cobra.Command) []string {
	cmd.Flags().String("out", "", "write "+what+" (raw bytes) to this file instead of printing "+field+" in base64; - for standard output")
	return func(cmd *cobra.Command) []string {
		switch out, _ := cmd.Flags().GetString("out"); out {
		case "":
			return nil
		case "-":
			return []string{"*"}
		}
		return []string{field}
	}
}

func outSet(cmd *cobra.Command) bool {
	out, _ := cmd.Flags().GetString("out")
	return out != ""
}
