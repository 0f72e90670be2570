package main

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/keyhaven/keyhaven/client"
)

// errSignatureInvalid makes `keyhaven verify` exit 1.
var errSignatureInvalid = errors.New("the signature is not valid")

// signFlags are the flags sign and verify share.
type signFlags struct {
	ref, algorithm, message, messageType string
}

func (s *signFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&s.ref, "key-id", "", "key id or alias of an asymmetric signing key")
	f.StringVar(&s.algorithm, "algorithm", "", "SM2DSA, ECC_P256_R1, ECC_P384_R1, RSA_PSS_SHA_256/384/512 or RSA_PKCS1_SHA_256/384/512")
	f.StringVar(&s.message, "message", "", "the message: "+binaryHelp)
	f.StringVar(&s.messageType, "message-type", "RAW", "RAW (the message, up to 4096 bytes) or DIGEST (its digest)")
	cmd.MarkFlagRequired("key-id")
	cmd.MarkFlagRequired("algorithm")
	cmd.MarkFlagRequired("message")
}

func (s *signFlags) read(ctx context.Context, c *client.Client, cmd *cobra.Command) (id string, msg []byte, err error) {
	if id, err = resolveKey(ctx, c, s.ref); err != nil {
		return "", nil, err
	}
	msg, err = readBinary(cmd, "message", s.message)
	return id, msg, err
}

func newSignCmd(g *globals) *cobra.Command {
	var s signFlags
	cmd := &cobra.Command{
		Use:   "sign",
		Short: "Sign a message or digest with an asymmetric key",
		Example: `  keyhaven sign --key-id alias/signer --algorithm ECC_P256_R1 --message fileb://m
  keyhaven sign --key-id signer --algorithm ECC_P256_R1 --message fileb://m --out m.sig`,
		Args: cobra.NoArgs,
	}
	omit := addOut(cmd, "Signature", "the signature")
	s.add(cmd)
	cmd.RunE = g.api(func(ctx context.Context, c *client.Client, cmd *cobra.Command) (any, error) {
		id, msg, err := s.read(ctx, c, cmd)
		if err != nil {
			return nil, err
		}
		resp, err := c.SignByAsymmetricKey(ctx, client.SignByAsymmetricKeyRequest{KeyID: id, Algorithm: s.algorithm, Message: msg, MessageType: client.MessageType(s.messageType)})
		if err == nil && outSet(cmd) {
			err = writeOut(cmd, resp.Signature)
		}
		return resp, err
	}, omit)
	return cmd
}

func newVerifyCmd(g *globals) *cobra.Command {
	var (
		s   signFlags
		sig string
	)
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify a signature; exit status 1 if it is not valid",
		Example: `  keyhaven verify --key-id alias/signer --algorithm ECC_P256_R1 --message fileb://m --signature-value fileb://m.sig
  keyhaven verify --key-id signer --algorithm ECC_P256_R1 --message fileb://m --signature-value MEUCIQ... && echo valid`,
		Args: cobra.NoArgs,
	}
	s.add(cmd)
	cmd.Flags().StringVar(&sig, "signature-value", "", "the signature: "+binaryHelp)
	cmd.MarkFlagRequired("signature-value")
	cmd.RunE = g.api(func(ctx context.Context, c *client.Client, cmd *cobra.Command) (any, error) {
		id, msg, err := s.read(ctx, c, cmd)
		if err != nil {
			return nil, err
		}
		sv, err := readBinary(cmd, "signature-value", sig)
		if err != nil {
			return nil, err
		}
		resp, err := c.VerifyByAsymmetricKey(ctx, client.VerifyByAsymmetricKeyRequest{
			KeyID: id, Algorithm: s.algorithm, Message: msg, MessageType: client.MessageType(s.messageType), SignatureValue: sv,
		})
		if err == nil && !resp.SignatureValid {
			err = errSignatureInvalid
		}
		return resp, err
	})
	return cmd
}

func newPublicKeyCmd(g *globals) *cobra.Command {
	var ref string
	cmd := &cobra.Command{
		Use:   "public-key",
		Short: "Get an asymmetric key's public key (DER in base64, and PEM)",
		Example: `  keyhaven public-key --key-id alias/signer
  keyhaven public-key --key-id signer --out signer.pem`,
		Args: cobra.NoArgs,
	}
	cmd.Flags().String("out", "", "write the PEM public key to this file instead of printing it; - for standard output")
	cmd.RunE = g.api(func(ctx context.Context, c *client.Client, cmd *cobra.Command) (any, error) {
		id, err := resolveKey(ctx, c, ref)
		if err != nil {
			return nil, err
		}
		resp, err := c.GetPublicKey(ctx, id)
		if err == nil && outSet(cmd) {
			err = writeOut(cmd, []byte(resp.PublicKeyPem))
		}
		return resp, err
	}, func(cmd *cobra.Command) []string {
		switch out, _ := cmd.Flags().GetString("out"); out {
		case "":
			return nil
		case "-":
			return []string{"*"}
		}
		return []string{"PublicKey", "PublicKeyPem"}
	})
	cmd.Flags().StringVar(&ref, "key-id", "", "key id or alias")
	cmd.MarkFlagRequired("key-id")
	return cmd
}

func newAsymmetricDecryptCmd(g *globals) *cobra.Command {
	var ref, algorithm, ciphertext string
	cmd := &cobra.Command{
		Use:   "asymmetric-decrypt",
		Short: "Decrypt with an asymmetric decryption key (RSA OAEP or SM2)",
		Example: `  keyhaven asymmetric-decrypt --key-id alias/rsa --algorithm RSAES_OAEP_SHA_256 --ciphertext fileb://ct.bin
  keyhaven asymmetric-decrypt --key-id alias/sm2 --algorithm SM2 --ciphertext @ct.txt --out pt.bin`,
		Args: cobra.NoArgs,
	}
	omit := addOut(cmd, "Plaintext", "the plaintext")
	cmd.RunE = g.api(func(ctx context.Context, c *client.Client, cmd *cobra.Command) (any, error) {
		id, err := resolveKey(ctx, c, ref)
		if err != nil {
			return nil, err
		}
		ct, err := readBinary(cmd, "ciphertext", ciphertext)
		if err != nil {
			return nil, err
		}
		var resp *client.AsymmetricDecryptResponse
		if algorithm == "SM2" {
			resp, err = c.AsymmetricSm2Decrypt(ctx, client.AsymmetricSm2DecryptRequest{KeyID: id, Ciphertext: ct})
		} else {
			resp, err = c.AsymmetricRsaDecrypt(ctx, client.AsymmetricRsaDecryptRequest{KeyID: id, Ciphertext: ct, Algorithm: algorithm})
		}
		if err == nil && outSet(cmd) {
			err = writeOut(cmd, resp.Plaintext)
		}
		return resp, err
	}, omit)
	f := cmd.Flags()
	f.StringVar(&ref, "key-id", "", "key id or alias")
	f.StringVar(&algorithm, "algorithm", "RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256 (RSA keys) or SM2 (SM2 keys: ASN.1 C1C3C2)")
	f.StringVar(&ciphertext, "ciphertext", "", "the ciphertext: "+binaryHelp)
	cmd.MarkFlagRequired("key-id")
	cmd.MarkFlagRequired("ciphertext")
	return cmd
}
