package tencent_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/pem"
	"hash"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tkms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms/v20190118"
)

func createAsymmetric(t *testing.T, c *tkms.Client, alias, usage string) string {
	t.Helper()
	req := tkms.NewCreateKeyRequest()
	req.Alias, req.KeyUsage = common.StringPtr(alias), common.StringPtr(usage)
	resp, err := c.CreateKey(req)
	if err != nil {
		t.Fatalf("CreateKey(%s): %v", usage, err)
	}
	if *resp.Response.KeyUsage != usage {
		t.Errorf("CreateKey KeyUsage = %s, want %s", *resp.Response.KeyUsage, usage)
	}
	return *resp.Response.KeyId
}

// publicKey fetches a key's public key and checks that the DER and PEM forms
// agree; it parses it with smx509, which reads SM2, RSA and ECDSA keys.
func publicKey(t *testing.T, c *tkms.Client, keyID string) crypto.PublicKey {
	t.Helper()
	req := tkms.NewGetPublicKeyRequest()
	req.KeyId = common.StringPtr(keyID)
	resp, err := c.GetPublicKey(req)
	if err != nil {
		t.Fatalf("GetPublicKey: %v", err)
	}
	der, err := base64.StdEncoding.DecodeString(*resp.Response.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	block, rest := pem.Decode([]byte(*resp.Response.PublicKeyPem))
	if block == nil || block.Type != "PUBLIC KEY" || !bytes.Equal(block.Bytes, der) || len(bytes.TrimSpace(rest)) != 0 || *resp.Response.KeyId != keyID {
		t.Errorf("GetPublicKey PEM does not hold the DER key: %s", resp.ToJsonString())
	}
	pub, err := smx509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatalf("parse public key: %v", err)
	}
	return pub
}

func sign(c *tkms.Client, keyID, alg, msgType string, msg []byte) ([]byte, error) {
	req := tkms.NewSignByAsymmetricKeyRequest()
	req.KeyId, req.Algorithm = common.StringPtr(keyID), common.StringPtr(alg)
	req.Message = common.StringPtr(base64.StdEncoding.EncodeToString(msg))
	if msgType != "" {
		req.MessageType = common.StringPtr(msgType)
	}
	resp, err := c.SignByAsymmetricKey(req)
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(*resp.Response.Signature)
}

func verify(c *tkms.Client, keyID, alg, msgType string, msg, sig []byte) (bool, error) {
	req := tkms.NewVerifyByAsymmetricKeyRequest()
	req.KeyId, req.Algorithm = common.StringPtr(keyID), common.StringPtr(alg)
	req.Message = common.StringPtr(base64.StdEncoding.EncodeToString(msg))
	req.SignatureValue = common.StringPtr(base64.StdEncoding.EncodeToString(sig))
	if msgType != "" {
		req.MessageType = common.StringPtr(msgType)
	}
	resp, err := c.VerifyByAsymmetricKey(req)
	if err != nil {
		return false, err
	}
	return *resp.Response.SignatureValid, nil
}

func digestOf(h func() hash.Hash, msg []byte) []byte {
	d := h()
	d.Write(msg)
	return d.Sum(nil)
}

// TestSignatures signs with every signing usage and algorithm, RAW and
// DIGEST, and verifies each signature both on the server and outside it with
// only the public key from GetPublicKey.
func TestSignatures(t *testing.T) {
	e := start(t, "")
	msg := []byte("pay 100 to alice")
	cases := []struct {
		usage, alg string
		hash       crypto.Hash // 0 for SM2
		newHash    func() hash.Hash
		pss        bool
	}{
		{"ASYMMETRIC_SIGN_VERIFY_SM2", "SM2DSA", 0, nil, false},
		{"ASYMMETRIC_SIGN_VERIFY_ECC", "ECC_P256_R1", crypto.SHA256, sha256.New, false},
		{"ASYMMETRIC_SIGN_VERIFY_ECDSA384", "ECC_P384_R1", crypto.SHA384, sha512.New384, false},
		{"ASYMMETRIC_SIGN_VERIFY_RSA_2048", "RSA_PSS_SHA_256", crypto.SHA256, sha256.New, true},
		{"ASYMMETRIC_SIGN_VERIFY_RSA_2048", "RSA_PKCS1_SHA_256", crypto.SHA256, sha256.New, false},
		{"ASYMMETRIC_SIGN_VERIFY_RSA_2048", "RSA_PSS_SHA_384", crypto.SHA384, sha512.New384, true},
		{"ASYMMETRIC_SIGN_VERIFY_RSA_2048", "RSA_PKCS1_SHA_384", crypto.SHA384, sha512.New384, false},
		{"ASYMMETRIC_SIGN_VERIFY_RSA_2048", "RSA_PSS_SHA_512", crypto.SHA512, sha512.New, true},
		{"ASYMMETRIC_SIGN_VERIFY_RSA_2048", "RSA_PKCS1_SHA_512", crypto.SHA512, sha512.New, false},
	}
	keys := map[string]string{}
	for _, tc := range cases {
		t.Run(tc.alg, func(t *testing.T) {
			keyID, ok := keys[tc.usage]
			if !ok {
				keyID = createAsymmetric(t, e.client, "sign-"+tc.alg, tc.usage)
				keys[tc.usage] = keyID
			}
			pub := publicKey(t, e.client, keyID)
			var digest []byte
			if tc.hash == 0 {
				digest, _ = sm2.CalculateSM2Hash(pub.(*ecdsa.PublicKey), msg, nil)
			} else {
				digest = digestOf(tc.newHash, msg)
			}
			outside := func(sig []byte) bool {
				switch pub := pub.(type) {
				case *rsa.PublicKey:
					if tc.pss {
						return rsa.VerifyPSS(pub, tc.hash, digest, sig, &rsa.PSSOptions{SaltLength: tc.hash.Size()}) == nil
					}
					return rsa.VerifyPKCS1v15(pub, tc.hash, digest, sig) == nil
				case *ecdsa.PublicKey:
					if tc.hash == 0 {
						return sm2.VerifyASN1WithSM2(pub, nil, msg, sig)
					}
					return ecdsa.VerifyASN1(pub, digest, sig)
				}
				t.Fatalf("public key of type %T", pub)
				return false
			}
			for _, mt := range []struct {
				typ string
				msg []byte
			}{{"", msg}, {"RAW", msg}, {"DIGEST", digest}} {
				sig, err := sign(e.client, keyID, tc.alg, mt.typ, mt.msg)
				if err != nil {
					t.Fatalf("Sign(%s): %v", mt.typ, err)
				}
				if !outside(sig) {
					t.Errorf("Sign(%s): the signature does not verify outside the server", mt.typ)
				}
				for _, vt := range []struct {
					typ string
					msg []byte
				}{{"RAW", msg}, {"DIGEST", digest}} {
					if ok, err := verify(e.client, keyID, tc.alg, vt.typ, vt.msg, sig); err != nil || !ok {
						t.Errorf("Verify(%s) of a %s signature = %v, %v; want true", vt.typ, mt.typ, ok, err)
					}
				}
				bad := bytes.Clone(sig)
				bad[len(bad)/2] ^= 1
				if ok, err := verify(e.client, keyID, tc.alg, "RAW", msg, bad); err != nil || ok {
					t.Errorf("Verify(altered signature) = %v, %v; want false", ok, err)
				}
				if ok, err := verify(e.client, keyID, tc.alg, "RAW", []byte("pay 900 to alice"), sig); err != nil || ok {
					t.Errorf("Verify(other message) = %v, %v; want false", ok, err)
				}
			}
			if _, err := sign(e.client, keyID, tc.alg, "DIGEST", digest[1:]); code(t, err) != "InvalidParameterValue" {
				t.Errorf("Sign(short digest): %v, want InvalidParameterValue", err)
			}
		})
	}
}

// TestAsymmetricDecryption encrypts outside the server with the public key
// and decrypts inside, for RSA (both OAEP hashes) and SM2.
func TestAsymmetricDecryption(t *testing.T) {
	e := start(t, "")
	secret := []byte("the launch code")
	rsaKey := createAsymmetric(t, e.client, "rsa-dec", "ASYMMETRIC_DECRYPT_RSA_2048")
	rsaPub := publicKey(t, e.client, rsaKey).(*rsa.PublicKey)
	if rsaPub.N.BitLen() != 2048 {
		t.Errorf("RSA key of %d bits, want 2048", rsaPub.N.BitLen())
	}
	for _, tc := range []struct {
		alg string
		h   func() hash.Hash
	}{{"RSAES_OAEP_SHA_1", sha1.New}, {"RSAES_OAEP_SHA_256", sha256.New}} {
		ct, err := rsa.EncryptOAEP(tc.h(), rand.Reader, rsaPub, secret, nil)
		if err != nil {
			t.Fatal(err)
		}
		req := tkms.NewAsymmetricRsaDecryptRequest()
		req.KeyId, req.Algorithm = common.StringPtr(rsaKey), common.StringPtr(tc.alg)
		req.Ciphertext = common.StringPtr(base64.StdEncoding.EncodeToString(ct))
		resp, err := e.client.AsymmetricRsaDecrypt(req)
		if err != nil {
			t.Fatalf("AsymmetricRsaDecrypt(%s): %v", tc.alg, err)
		}
		if pt, _ := base64.StdEncoding.DecodeString(*resp.Response.Plaintext); !bytes.Equal(pt, secret) || *resp.Response.KeyId != rsaKey {
			t.Errorf("AsymmetricRsaDecrypt(%s) = %q, want %q", tc.alg, pt, secret)
		}
		other := "RSAES_OAEP_SHA_256"
		if tc.alg == other {
			other = "RSAES_OAEP_SHA_1"
		}
		req.Algorithm = common.StringPtr(other)
		if _, err := e.client.AsymmetricRsaDecrypt(req); code(t, err) != "InvalidParameterValue.InvalidCiphertext" {
			t.Errorf("AsymmetricRsaDecrypt with the other OAEP hash: %v, want InvalidCiphertext", err)
		}
	}
	req := tkms.NewAsymmetricRsaDecryptRequest()
	req.KeyId, req.Algorithm = common.StringPtr(rsaKey), common.StringPtr("RSAES_PKCS1_V1_5")
	req.Ciphertext = common.StringPtr("AAAA")
	if _, err := e.client.AsymmetricRsaDecrypt(req); code(t, err) != "UnsupportedOperation" {
		t.Errorf("AsymmetricRsaDecrypt(RSAES_PKCS1_V1_5): %v, want UnsupportedOperation", err)
	}

	sm2Key := createAsymmetric(t, e.client, "sm2-dec", "ASYMMETRIC_DECRYPT_SM2")
	sm2Pub := publicKey(t, e.client, sm2Key).(*ecdsa.PublicKey)
	ct, err := sm2.EncryptASN1(rand.Reader, sm2Pub, secret)
	if err != nil {
		t.Fatal(err)
	}
	sreq := tkms.NewAsymmetricSm2DecryptRequest()
	sreq.KeyId, sreq.Ciphertext = common.StringPtr(sm2Key), common.StringPtr(base64.StdEncoding.EncodeToString(ct))
	sresp, err := e.client.AsymmetricSm2Decrypt(sreq)
	if err != nil {
		t.Fatalf("AsymmetricSm2Decrypt: %v", err)
	}
	if pt, _ := base64.StdEncoding.DecodeString(*sresp.Response.Plaintext); !bytes.Equal(pt, secret) {
		t.Errorf("AsymmetricSm2Decrypt = %q, want %q", pt, secret)
	}
	plain, _ := sm2.Encrypt(rand.Reader, sm2Pub, secret, sm2.NewPlainEncrypterOpts(sm2.MarshalUncompressed, sm2.C1C3C2))
	sreq.Ciphertext = common.StringPtr(base64.StdEncoding.EncodeToString(plain))
	if _, err := e.client.AsymmetricSm2Decrypt(sreq); code(t, err) != "InvalidParameterValue.InvalidCiphertext" {
		t.Errorf("AsymmetricSm2Decrypt(non-ASN.1 ciphertext): %v, want InvalidCiphertext", err)
	}
}

// TestAsymmetricRefusals checks wrong uses and disabled keys.
func TestAsymmetricRefusals(t *testing.T) {
	e := start(t, "")
	c := e.client
	signKey := createAsymmetric(t, c, "s", "ASYMMETRIC_SIGN_VERIFY_ECC")
	decKey := createAsymmetric(t, c, "d", "ASYMMETRIC_DECRYPT_RSA_2048")
	symKey := createKey(t, c, "sym")
	msg := []byte("m")
	sig, err := sign(c, signKey, "ECC_P256_R1", "", msg)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		err  error
		want string
	}{
		{"Encrypt with a sign key", func() error { _, err := encrypt(t, c, signKey, msg, ""); return err }(), "InvalidParameterValue.InvalidKeyUsage"},
		{"Encrypt with a decrypt key", func() error { _, err := encrypt(t, c, decKey, msg, ""); return err }(), "InvalidParameterValue.InvalidKeyUsage"},
		{"Sign with a decrypt key", func() error { _, err := sign(c, decKey, "RSA_PSS_SHA_256", "", msg); return err }(), "InvalidParameterValue.InvalidKeyUsage"},
		{"Sign with a symmetric key", func() error { _, err := sign(c, symKey, "ECC_P256_R1", "", msg); return err }(), "InvalidParameterValue.InvalidKeyUsage"},
		{"Sign with another curve's algorithm", func() error { _, err := sign(c, signKey, "ECC_P384_R1", "", msg); return err }(), "UnsupportedOperation"},
		{"Sign with an RSA algorithm", func() error { _, err := sign(c, signKey, "RSA_PSS_SHA_256", "", msg); return err }(), "UnsupportedOperation"},
		{"Sign with an unknown algorithm", func() error { _, err := sign(c, signKey, "ED25519", "", msg); return err }(), "UnsupportedOperation"},
		{"Sign a wrong-length digest", func() error { _, err := sign(c, signKey, "ECC_P256_R1", "DIGEST", make([]byte, 48)); return err }(), "InvalidParameterValue"},
		{"Sign a message over 4096 bytes", func() error { _, err := sign(c, signKey, "ECC_P256_R1", "RAW", make([]byte, 4097)); return err }(), "InvalidParameterValue"},
		{"Sign with a bad message type", func() error { _, err := sign(c, signKey, "ECC_P256_R1", "HASHED", msg); return err }(), "InvalidParameterValue"},
		{"GetPublicKey of a symmetric key", func() error {
			req := tkms.NewGetPublicKeyRequest()
			req.KeyId = common.StringPtr(symKey)
			_, err := c.GetPublicKey(req)
			return err
		}(), "InvalidParameterValue.InvalidKeyUsage"},
		{"GenerateDataKey with a sign key", func() error {
			req := tkms.NewGenerateDataKeyRequest()
			req.KeyId, req.KeySpec = common.StringPtr(signKey), common.StringPtr("AES_256")
			_, err := c.GenerateDataKey(req)
			return err
		}(), "InvalidParameterValue.InvalidKeyUsage"},
		{"RotateKey of an asymmetric key", func() error { _, err := e.common("RotateKey", map[string]any{"KeyId": signKey}); return err }(), "UnsupportedOperation"},
	}
	for _, ch := range checks {
		if got := code(t, ch.err); got != ch.want {
			t.Errorf("%s: %v, want %s", ch.name, ch.err, ch.want)
		}
	}

	// Disabled keys refuse to sign, verify and decrypt.
	dis := tkms.NewDisableKeysRequest()
	dis.KeyIds = common.StringPtrs([]string{signKey, decKey})
	if _, err := c.DisableKeys(dis); err != nil {
		t.Fatal(err)
	}
	if _, err := sign(c, signKey, "ECC_P256_R1", "", msg); code(t, err) != "ResourceUnavailable.CmkDisabled" {
		t.Errorf("Sign with a disabled key: %v, want CmkDisabled", err)
	}
	if _, err := verify(c, signKey, "ECC_P256_R1", "", msg, sig); code(t, err) != "ResourceUnavailable.CmkDisabled" {
		t.Errorf("Verify with a disabled key: %v, want CmkDisabled", err)
	}
	req := tkms.NewAsymmetricRsaDecryptRequest()
	req.KeyId, req.Algorithm, req.Ciphertext = common.StringPtr(decKey), common.StringPtr("RSAES_OAEP_SHA_256"), common.StringPtr("AAAA")
	if _, err := c.AsymmetricRsaDecrypt(req); code(t, err) != "ResourceUnavailable.CmkDisabled" {
		t.Errorf("AsymmetricRsaDecrypt with a disabled key: %v, want CmkDisabled", err)
	}
}

// TestListedAlgorithmsWork creates a key for every usage ListAlgorithms names
// and uses it: the list says only what works.
func TestListedAlgorithmsWork(t *testing.T) {
	e := start(t, "")
	resp, err := e.client.ListAlgorithms(tkms.NewListAlgorithmsRequest())
	if err != nil {
		t.Fatal(err)
	}
	r := resp.Response
	for _, a := range r.AsymmetricAlgorithms {
		keyID := createAsymmetric(t, e.client, "list-"+*a.Algorithm, *a.KeyUsage)
		pub := publicKey(t, e.client, keyID)
		var ct []byte
		switch pub := pub.(type) {
		case *rsa.PublicKey:
			ct, _ = rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, []byte("x"), nil)
			req := tkms.NewAsymmetricRsaDecryptRequest()
			req.KeyId, req.Algorithm, req.Ciphertext = common.StringPtr(keyID), common.StringPtr("RSAES_OAEP_SHA_256"), common.StringPtr(base64.StdEncoding.EncodeToString(ct))
			_, err = e.client.AsymmetricRsaDecrypt(req)
		case *ecdsa.PublicKey:
			ct, _ = sm2.EncryptASN1(rand.Reader, pub, []byte("x"))
			req := tkms.NewAsymmetricSm2DecryptRequest()
			req.KeyId, req.Ciphertext = common.StringPtr(keyID), common.StringPtr(base64.StdEncoding.EncodeToString(ct))
			_, err = e.client.AsymmetricSm2Decrypt(req)
		}
		if err != nil {
			t.Errorf("listed %s/%s does not decrypt: %v", *a.KeyUsage, *a.Algorithm, err)
		}
	}
	algFor := map[string]string{"SM2": "SM2DSA", "ECC": "ECC_P256_R1", "ECC_P384": "ECC_P384_R1", "RSA_2048": "RSA_PSS_SHA_256"}
	for _, a := range r.AsymmetricSignVerifyAlgorithms {
		keyID := createAsymmetric(t, e.client, "list-sign-"+*a.Algorithm, *a.KeyUsage)
		if _, err := sign(e.client, keyID, algFor[*a.Algorithm], "", []byte("x")); err != nil {
			t.Errorf("listed %s/%s does not sign: %v", *a.KeyUsage, *a.Algorithm, err)
		}
	}
}
