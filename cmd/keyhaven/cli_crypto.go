package main

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/keyhaven/keyhaven/client"
)

const binaryHelp = "fileb://FILE for its bytes, @FILE for a file of base64, - for standard input, or base64"

func newEncryptCmd(g *globals) *cobra.Command {
	var ref, plaintext string
	cmd := &cobra.Command{
		Use:   "encrypt",
		Short: "Encrypt up to 4096 bytes under a symmetric CMK",
		Long: `Encrypt up to 4096 bytes under a symmetric CMK. For more data, use
` + "`keyhaven envelope encrypt`" + `.`,
		Example: `  keyhaven encrypt --key-id alias/app-data --plaintext fileb://secret.bin --encryption-context '{"app":"x"}'
  echo -n hello | keyhaven encrypt --key-id app-data --plaintext - --out blob.bin`,
		Args: cobra.NoArgs,
	}
	omit := addOut(cmd, "CiphertextBlob", "the ciphertext blob")
	cmd.RunE = g.api(func(ctx context.Context, c *client.Client, cmd *cobra.Command) (any, error) {
		id, err := resolveKey(ctx, c, ref)
		if err != nil {
			return nil, err
		}
		pt, err := readBinary(cmd, "plaintext", plaintext)
		if err != nil {
			return nil, err
		}
		defer clear(pt)
		encCtx, err := readContext(cmd, "encryption-context")
		if err != nil {
			return nil, err
		}
		resp, err := c.Encrypt(ctx, client.EncryptRequest{KeyID: id, Plaintext: pt, EncryptionContext: encCtx})
		if err == nil && outSet(cmd) {
			err = writeOut(cmd, resp.CiphertextBlob)
		}
		return resp, err
	}, omit)
	f := cmd.Flags()
	f.StringVar(&ref, "key-id", "", "key id or alias")
	f.StringVar(&plaintext, "plaintext", "", "the data: "+binaryHelp)
	f.String("encryption-context", "", `JSON object of strings bound to the ciphertext, such as '{"app":"x"}', or @FILE`)
	cmd.MarkFlagRequired("key-id")
	cmd.MarkFlagRequired("plaintext")
	return cmd
}

func newDecryptCmd(g *globals) *cobra.Command {
	var blob, publicKey, algorithm string
	cmd := &cobra.Command{
		Use:   "decrypt",
		Short: "Decrypt a ciphertext blob of encrypt, reencrypt or data-key",
		Example: `  keyhaven decrypt --ciphertext-blob @blob.txt --encryption-context '{"app":"x"}'
  keyhaven decrypt --ciphertext-blob fileb://blob.bin --out secret.bin`,
		Args: cobra.NoArgs,
	}
	omit := addOut(cmd, "Plaintext", "the plaintext")
	cmd.RunE = g.api(func(ctx context.Context, c *client.Client, cmd *cobra.Command) (any, error) {
		ct, err := readBinary(cmd, "ciphertext-blob", blob)
		if err != nil {
			return nil, err
		}
		encCtx, err := readContext(cmd, "encryption-context")
		if err != nil {
			return nil, err
		}
		if publicKey, err = readText(cmd, "encryption-public-key", publicKey); err != nil {
			return nil, err
		}
		resp, err := c.Decrypt(ctx, client.DecryptRequest{CiphertextBlob: ct, EncryptionContext: encCtx, EncryptionPublicKey: publicKey, EncryptionAlgorithm: algorithm})
		if err == nil && outSet(cmd) {
			err = writeOut(cmd, resp.Plaintext)
		}
		return resp, err
	}, omit)
	f := cmd.Flags()
	f.StringVar(&blob, "ciphertext-blob", "", "the blob: "+binaryHelp)
	f.String("encryption-context", "", "the JSON object of strings the blob was made with, or @FILE")
	f.StringVar(&publicKey, "encryption-public-key", "", "return the plaintext encrypted under this PEM public key (RSA-2048 or SM2), or @FILE")
	f.StringVar(&algorithm, "encryption-algorithm", "", "algorithm of --encryption-public-key: SM2, RSAES_OAEP_SHA_256, ...")
	cmd.MarkFlagRequired("ciphertext-blob")
	return cmd
}

func newReEncryptCmd(g *globals) *cobra.Command {
	var blob, dest string
	cmd := &cobra.Command{
		Use:   "reencrypt",
		Short: "Re-encrypt a ciphertext blob under another key or context, inside the server",
		Example: `  keyhaven reencrypt --ciphertext-blob @blob.txt --destination-key-id alias/new-key
  keyhaven reencrypt --ciphertext-blob @blob.txt --source-encryption-context '{"app":"x"}' --destination-encryption-context '{"app":"y"}'`,
		Args: cobra.NoArgs,
	}
	omit := addOut(cmd, "CiphertextBlob", "the new ciphertext blob")
	cmd.RunE = g.api(func(ctx context.Context, c *client.Client, cmd *cobra.Command) (any, error) {
		ct, err := readBinary(cmd, "ciphertext-blob", blob)
		if err != nil {
			return nil, err
		}
		req := client.ReEncryptRequest{CiphertextBlob: ct}
		if dest != "" {
			if req.DestinationKeyID, err = resolveKey(ctx, c, dest); err != nil {
				return nil, err
			}
		}
		if req.SourceEncryptionContext, err = readContext(cmd, "source-encryption-context"); err != nil {
			return nil, err
		}
		if req.DestinationEncryptionContext, err = readContext(cmd, "destination-encryption-context"); err != nil {
			return nil, err
		}
		resp, err := c.ReEncrypt(ctx, req)
		if err == nil && outSet(cmd) {
			err = writeOut(cmd, resp.CiphertextBlob)
		}
		return resp, err
	}, omit)
	f := cmd.Flags()
	f.StringVar(&blob, "ciphertext-blob", "", "the blob: "+binaryHelp)
	f.StringVar(&dest, "destination-key-id", "", "key id or alias to encrypt under (default: the blob's key, newest version)")
	f.String("source-encryption-context", "", "the blob's encryption context (JSON object), or @FILE")
	f.String("destination-encryption-context", "", "the new blob's encryption context (JSON object), or @FILE")
	cmd.MarkFlagRequired("ciphertext-blob")
	return cmd
}

func newDataKeyCmd(g *globals) *cobra.Command {
	var (
		ref, publicKey string
		req            client.GenerateDataKeyRequest
	)
	cmd := &cobra.Command{
		Use:   "data-key",
		Short: "Generate a data key: in the clear and encrypted under a CMK",
		Long: `Generate a data key for envelope encryption (GenerateDataKey): Plaintext is
the key, CiphertextBlob the key encrypted under the CMK; keep only the
latter. ` + "`keyhaven envelope`" + ` does all of this for files and streams.`,
		Example: `  keyhaven data-key --key-id alias/app-data --key-spec AES_256
  keyhaven data-key --key-id app-data --number-of-bytes 64 --out key.bin --output json`,
		Args: cobra.NoArgs,
	}
	omit := addOut(cmd, "Plaintext", "the data key")
	cmd.RunE = g.api(func(ctx context.Context, c *client.Client, cmd *cobra.Command) (any, error) {
		var err error
		if req.KeyID, err = resolveKey(ctx, c, ref); err != nil {
			return nil, err
		}
		if req.EncryptionContext, err = readContext(cmd, "encryption-context"); err != nil {
			return nil, err
		}
		if req.EncryptionPublicKey, err = readText(cmd, "encryption-public-key", publicKey); err != nil {
			return nil, err
		}
		resp, err := c.GenerateDataKey(ctx, req)
		if err == nil && outSet(cmd) {
			err = writeOut(cmd, resp.Plaintext)
		}
		return resp, err
	}, omit)
	f := cmd.Flags()
	f.StringVar(&ref, "key-id", "", "key id or alias of the CMK")
	f.StringVar(&req.KeySpec, "key-spec", "", "AES_128, AES_256 or SM4 (default: the server's suite)")
	f.Uint64Var(&req.NumberOfBytes, "number-of-bytes", 0, "key length, 1-1024 (instead of --key-spec)")
	f.String("encryption-context", "", "JSON object of strings bound to the encrypted key, or @FILE")
	f.StringVar(&publicKey, "encryption-public-key", "", "return the plaintext key encrypted under this PEM public key, or @FILE")
	f.StringVar(&req.EncryptionAlgorithm, "encryption-algorithm", "", "algorithm of --encryption-public-key")
	cmd.MarkFlagRequired("key-id")
	return cmd
}

func newRandomCmd(g *globals) *cobra.Command {
	var n uint64
	cmd := &cobra.Command{
		Use:     "random",
		Short:   "Get random bytes from the server",
		Example: "  keyhaven random --number-of-bytes 32\n  keyhaven random --number-of-bytes 32 --out seed.bin",
		Args:    cobra.NoArgs,
	}
	omit := addOut(cmd, "Plaintext", "the random bytes")
	cmd.RunE = g.api(func(ctx context.Context, c *client.Client, cmd *cobra.Command) (any, error) {
		if n == 0 {
			return nil, errors.New("--number-of-bytes is 1 to 1024")
		}
		resp, err := c.GenerateRandom(ctx, n)
		if err == nil && outSet(cmd) {
			err = writeOut(cmd, resp.Plaintext)
		}
		return resp, err
	}, omit)
	cmd.Flags().Uint64Var(&n, "number-of-bytes", 32, "how many bytes, 1-1024")
	return cmd
}

func newServiceCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "service",
		Short:   "Show the service's status, regions and algorithms",
		Example: "  keyhaven service status\n  keyhaven service algorithms --output json",
	}
	for _, s := range []struct {
		use, short string
		f          func(context.Context, *client.Client) (any, error)
	}{
		{"status", "Show whether the service is enabled (GetServiceStatus)", func(ctx context.Context, c *client.Client) (any, error) { return c.GetServiceStatus(ctx) }},
		{"regions", "List the regions served (GetRegions)", func(ctx context.Context, c *client.Client) (any, error) { return c.GetRegions(ctx) }},
		{"algorithms", "List the key usages and algorithms (ListAlgorithms)", func(ctx context.Context, c *client.Client) (any, error) { return c.ListAlgorithms(ctx) }},
	} {
		sub := &cobra.Command{Use: s.use, Short: s.short, Example: "  keyhaven service " + s.use, Args: cobra.NoArgs}
		sub.RunE = g.api(func(ctx context.Context, c *client.Client, _ *cobra.Command) (any, error) { return s.f(ctx, c) })
		cmd.AddCommand(sub)
	}
	return cmd
}
