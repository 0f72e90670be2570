package kms_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/emmansun/gmsm/smx509"

	"github.com/keyhaven/keyhaven/kms"
)

// TestEvictionDuringUse signs with two keys through a one-entry cache, so
// every request evicts the key another request may be using: none fails.
func TestEvictionDuringUse(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, 1)
	var keys []*kms.Key
	for i := range 2 {
		keys = append(keys, mustCreate(t, svc, kms.CreateKeyInput{Alias: fmt.Sprintf("e%d", i), Usage: kms.UsageSignECC}))
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				k := keys[(w+i)%2]
				in := kms.SignInput{Account: account, KeyID: k.ID, Algorithm: kms.SignECCP256, Type: kms.MessageRaw, Message: []byte("m")}
				sig, err := svc.Sign(ctx, in)
				if err != nil {
					t.Errorf("Sign: %v", err)
					return
				}
				if ok, err := svc.Verify(ctx, in, sig); err != nil || !ok {
					t.Errorf("Verify = %v, %v", ok, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestKeySpecs makes keys of the specs only the generic usages reach and
// uses them; specs the backend lacks are refused and nothing is made.
func TestKeySpecs(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, 0)
	for _, tc := range []struct {
		spec kms.KeySpec
		alg  kms.SignAlgorithm
	}{{kms.SpecRSA3072, kms.SignRSAPSS384}, {kms.SpecRSA4096, kms.SignRSAPKCS1_512}, {kms.SpecECP384, kms.SignECCP384}, {kms.SpecECSM2, kms.SignSM2}} {
		k := mustCreate(t, svc, kms.CreateKeyInput{Alias: "k-" + string(tc.spec), Usage: kms.UsageSignVerify, Spec: tc.spec})
		in := kms.SignInput{Account: account, KeyID: k.ID, Algorithm: tc.alg, Type: kms.MessageRaw, Message: []byte("m")}
		sig, err := svc.Sign(ctx, in)
		if err != nil {
			t.Fatalf("Sign(%s): %v", tc.spec, err)
		}
		if ok, err := svc.Verify(ctx, in, sig); err != nil || !ok {
			t.Errorf("Verify(%s) = %v, %v", tc.spec, ok, err)
		}
		if got := kms.SignAlgorithms(tc.spec); len(got) == 0 {
			t.Errorf("SignAlgorithms(%s) is empty", tc.spec)
		}
	}
	rsa := mustCreate(t, svc, kms.CreateKeyInput{Alias: "rsa-enc", Usage: kms.UsageEncryptDecrypt, Spec: kms.SpecRSA3072})
	if _, err := svc.Encrypt(ctx, kms.EncryptInput{Account: account, KeyID: rsa.ID, Plaintext: []byte("x")}); !errors.Is(err, kms.ErrInvalidKeyUsage) {
		t.Errorf("Encrypt with an RSA decryption key = %v, want ErrInvalidKeyUsage", err)
	}
	for _, tc := range []struct {
		usage kms.KeyUsage
		spec  kms.KeySpec
		want  error
	}{
		{kms.UsageSignVerify, kms.SpecECP256K, kms.ErrUnsupportedKeySpec},
		{kms.UsageSignVerify, kms.SpecSymmetricDefault, kms.ErrInvalidKeyUsage},
		{kms.UsageSignECC, kms.SpecECP384, kms.ErrInvalidKeyUsage},
		{kms.UsageEncryptDecrypt, kms.SpecECP256, kms.ErrInvalidKeyUsage},
	} {
		if _, err := svc.CreateKey(ctx, kms.CreateKeyInput{Account: account, Usage: tc.usage, Spec: tc.spec}); !errors.Is(err, tc.want) {
			t.Errorf("CreateKey(%s, %s) = %v, want %v", tc.usage, tc.spec, err, tc.want)
		}
	}
	if _, total, _ := svc.ListKeys(ctx, kms.ListKeysInput{Account: account, Limit: 100}); total != 5 {
		t.Errorf("%d keys after refusals, want 5", total)
	}
}

// TestSMSuite checks that the SM suite makes SM4 symmetric keys.
func TestSMSuite(t *testing.T) {
	ctx := context.Background()
	svc, _ := newServiceStore(t, func(c *kms.Config) { c.Suite = kms.SuiteSM })
	k := mustCreate(t, svc, kms.CreateKeyInput{Alias: "sm4"})
	if k.Spec != kms.SpecSM4 {
		t.Errorf("ENCRYPT_DECRYPT key in the SM suite has spec %s, want %s", k.Spec, kms.SpecSM4)
	}
	blob, err := svc.Encrypt(ctx, kms.EncryptInput{Account: account, KeyID: k.ID, Plaintext: []byte("sm4 data")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := svc.Decrypt(ctx, kms.DecryptInput{Account: account, Ciphertext: blob})
	if err != nil || string(out.Plaintext) != "sm4 data" {
		t.Errorf("Decrypt = %q, %v", out.Plaintext, err)
	}
	aes := mustCreate(t, svc, kms.CreateKeyInput{Alias: "aes", Spec: kms.SpecSymmetricDefault})
	if aes.Spec != kms.SpecSymmetricDefault {
		t.Errorf("explicit AES key in the SM suite has spec %s", aes.Spec)
	}
	sm2 := mustCreate(t, svc, kms.CreateKeyInput{Alias: "sm2", Usage: kms.UsageDecryptSM2})
	pub, err := svc.GetPublicKey(ctx, account, sm2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if key, err := smx509.ParsePKIXPublicKey(pub.DER); err != nil {
		t.Errorf("SM2 public key does not parse: %v", err)
	} else if _, ok := key.(*ecdsa.PublicKey); !ok {
		t.Errorf("SM2 public key is a %T", key)
	}
}

// FuzzVerify feeds arbitrary signatures and messages to Verify: it answers
// true or false, never an error or a panic, for every key spec.
func FuzzVerify(f *testing.F) {
	ctx := context.Background()
	svc := newService(f, 0)
	type target struct {
		id  string
		alg kms.SignAlgorithm
	}
	var targets []target
	for _, tc := range []struct {
		usage kms.KeyUsage
		alg   kms.SignAlgorithm
	}{{kms.UsageSignECC, kms.SignECCP256}, {kms.UsageSignSM2, kms.SignSM2}, {kms.UsageSignRSA2048, kms.SignRSAPSS256}, {kms.UsageSignRSA2048, kms.SignRSAPKCS1_256}} {
		k := mustCreate(f, svc, kms.CreateKeyInput{Usage: tc.usage})
		targets = append(targets, target{k.ID, tc.alg})
		sig, err := svc.Sign(ctx, kms.SignInput{Account: account, KeyID: k.ID, Algorithm: tc.alg, Type: kms.MessageRaw, Message: []byte("seed")})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(len(targets)-1), []byte("seed"), sig)
	}
	f.Add(uint8(0), []byte("x"), []byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, which uint8, msg, sig []byte) {
		if len(msg) == 0 || len(msg) > kms.MaxPlaintext {
			return
		}
		tg := targets[int(which)%len(targets)]
		_, err := svc.Verify(ctx, kms.SignInput{Account: account, KeyID: tg.id, Algorithm: tg.alg, Type: kms.MessageRaw, Message: msg}, sig)
		if err != nil {
			t.Errorf("Verify(%x) error = %v, want only true or false", sig, err)
		}
	})
}
