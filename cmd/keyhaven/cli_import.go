package main

import (
	"context"
	"crypto/rand"
	"errors"

	"github.com/spf13/cobra"

	"github.com/keyhaven/keyhaven/client"
)

// The commands of bringing your own key material: `keyhaven key import`,
// `key get-parameters-for-import` and `key delete-imported-material`.

func keyImportCmds(g *globals) []*cobra.Command {
	return []*cobra.Command{
		keyImportCmd(g), keyGetParametersCmd(g),
		keyIDCmd(g, "key", "delete-imported-material", "Destroy an EXTERNAL key's material: it is PendingImport until the same material is imported again", false, func(ctx context.Context, c *client.Client, ids []string) (any, error) {
			return c.DeleteImportedKeyMaterial(ctx, ids[0])
		}),
	}
}

const wrappingHelp = "RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1, RSAES_PKCS1_V1_5, or SM2PKE (SM servers)"

func keyImportCmd(g *globals) *cobra.Command {
	var ref, material, wrapped, token, alg, validTo string
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Import key material into an EXTERNAL key (key create --type 2)",
		Long: `Import key material into an EXTERNAL key, made with ` + "`keyhaven key create --type 2`" + `:
32 bytes (16 on an SM server). With --material, this gets one-time import
parameters (GetParametersForImport), wraps the material here with their
public key and --wrapping-algorithm, and imports it (ImportKeyMaterial); the
material never leaves this machine unwrapped. With --encrypted-key-material
and --import-token, it imports material you wrapped yourself (see
` + "`keyhaven key get-parameters-for-import`" + `). Keep a backup of the material: after
` + "`keyhaven key delete-imported-material`" + ` only the same material brings the key back.`,
		Example: `  keyhaven key create --alias byok --type 2
  head -c 32 /dev/urandom > material.bin
  keyhaven key import --key-id alias/byok --material fileb://material.bin
  keyhaven key import --key-id byok --material fileb://material.bin --wrapping-algorithm RSAES_OAEP_SHA_1 --valid-to 1893456000
  keyhaven key import --key-id byok --encrypted-key-material fileb://wrapped.bin --import-token TOKEN`,
		Args: cobra.NoArgs,
	}
	cmd.RunE = g.api(func(ctx context.Context, c *client.Client, cmd *cobra.Command) (any, error) {
		if (material == "") == (wrapped == "") {
			return nil, errors.New("give --material (wrapped here) or --encrypted-key-material with --import-token (wrapped already)")
		}
		if (wrapped != "") != (token != "") {
			return nil, errors.New("--encrypted-key-material and --import-token go together")
		}
		a, err := client.ParseWrappingAlgorithm(alg)
		if err != nil {
			return nil, err
		}
		vt, err := parseTime("valid-to", validTo)
		if err != nil {
			return nil, err
		}
		id, err := resolveKey(ctx, c, ref)
		if err != nil {
			return nil, err
		}
		req := client.ImportKeyMaterialRequest{KeyID: id, ImportToken: token, ValidTo: vt}
		if wrapped != "" {
			if req.EncryptedKeyMaterial, err = readBinary(cmd, "encrypted-key-material", wrapped); err != nil {
				return nil, err
			}
		} else {
			m, err := readBinary(cmd, "material", material)
			if err != nil {
				return nil, err
			}
			defer clear(m)
			p, err := c.GetParametersForImport(ctx, client.GetParametersForImportRequest{KeyID: id, WrappingAlgorithm: a, WrappingKeySpec: a.KeySpec()})
			if err != nil {
				return nil, err
			}
			if req.EncryptedKeyMaterial, err = client.WrapKeyMaterial(rand.Reader, a, p.PublicKey, m); err != nil {
				return nil, err
			}
			req.ImportToken = p.ImportToken
		}
		resp, err := c.ImportKeyMaterial(ctx, req)
		if err != nil {
			return nil, err
		}
		return &struct {
			KeyId     string
			RequestId string
		}{id, resp.RequestID}, nil
	})
	f := cmd.Flags()
	f.StringVar(&ref, "key-id", "", "key id or alias of the EXTERNAL key")
	f.StringVar(&material, "material", "", "the key material, to wrap here: "+binaryHelp)
	f.StringVar(&alg, "wrapping-algorithm", string(client.WrapRSAOAEPSHA256), "how --material is wrapped: "+wrappingHelp)
	f.StringVar(&wrapped, "encrypted-key-material", "", "material wrapped already with get-parameters-for-import's public key: "+binaryHelp)
	f.StringVar(&token, "import-token", "", "the ImportToken of get-parameters-for-import (with --encrypted-key-material)")
	f.StringVar(&validTo, "valid-to", "", "when the material expires: Unix seconds or RFC 3339 (default: never)")
	cmd.MarkFlagRequired("key-id")
	return cmd
}

func keyGetParametersCmd(g *globals) *cobra.Command {
	var ref, alg, spec string
	cmd := &cobra.Command{
		Use:   "get-parameters-for-import",
		Short: "Get a one-time wrapping public key and import token, to wrap material yourself",
		Long: `Get one-time import parameters for an EXTERNAL key: a wrapping public key
(DER SubjectPublicKeyInfo; --out writes it raw) and the ImportToken to give
` + "`keyhaven key import --encrypted-key-material`" + `, both valid for 24 hours and for one
import. ` + "`keyhaven key import --material`" + ` does all of this itself.`,
		Example: `  keyhaven key get-parameters-for-import --key-id alias/byok --out wrapping.der --output json > params.json
  openssl pkeyutl -encrypt -pubin -keyform DER -inkey wrapping.der -in material.bin -out wrapped.bin \
      -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
  keyhaven key import --key-id alias/byok --encrypted-key-material fileb://wrapped.bin --import-token "$(jq -r .ImportToken params.json)"`,
		Args: cobra.NoArgs,
	}
	omit := addOut(cmd, "PublicKey", "the wrapping public key (DER)")
	cmd.RunE = g.api(func(ctx context.Context, c *client.Client, cmd *cobra.Command) (any, error) {
		a, err := client.ParseWrappingAlgorithm(alg)
		if err != nil {
			return nil, err
		}
		if spec == "" {
			spec = a.KeySpec()
		}
		id, err := resolveKey(ctx, c, ref)
		if err != nil {
			return nil, err
		}
		resp, err := c.GetParametersForImport(ctx, client.GetParametersForImportRequest{KeyID: id, WrappingAlgorithm: a, WrappingKeySpec: spec})
		if err == nil && outSet(cmd) {
			err = writeOut(cmd, resp.PublicKey)
		}
		return resp, err
	}, omit)
	f := cmd.Flags()
	f.StringVar(&ref, "key-id", "", "key id or alias of the EXTERNAL key")
	f.StringVar(&alg, "wrapping-algorithm", string(client.WrapRSAOAEPSHA256), "the algorithm you will wrap with: "+wrappingHelp)
	f.StringVar(&spec, "wrapping-key-spec", "", "RSA_2048 or SM2 (default: the one of --wrapping-algorithm)")
	cmd.MarkFlagRequired("key-id")
	return cmd
}
