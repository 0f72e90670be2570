package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// Kinds of asymmetric operation.
const (
	asymSign    = "sign"
	asymVerify  = "verify"
	asymDecrypt = "decrypt"
)

// asymSpec is one asymmetric operation the bench can drive: the action, the
// key it needs and the algorithm it names.
type asymSpec struct {
	name   string // the -ops name
	kind   string // asymSign, asymVerify or asymDecrypt
	usage  string // CreateKey's KeyUsage
	alg    string // Algorithm
	action string
	want   string // what every good response holds
}

const (
	usageECC     = "ASYMMETRIC_SIGN_VERIFY_ECC"
	usageRSASign = "ASYMMETRIC_SIGN_VERIFY_RSA_2048"
	usageSM2Sign = "ASYMMETRIC_SIGN_VERIFY_SM2"
	usageRSADec  = "ASYMMETRIC_DECRYPT_RSA_2048"

	algP256   = "ECC_P256_R1"
	algPSS256 = "RSA_PSS_SHA_256"
	algSM2    = "SM2DSA"
	algOAEP   = "RSAES_OAEP_SHA_256"
)

func signSpec(name, usage, alg string) asymSpec {
	return asymSpec{name, asymSign, usage, alg, "SignByAsymmetricKey", `"Signature":"`}
}

func verifySpec(name, usage, alg string) asymSpec {
	return asymSpec{name, asymVerify, usage, alg, "VerifyByAsymmetricKey", `"SignatureValid":true`}
}

// asymSpecs are the asymmetric operations, in their default order.
var asymSpecs = []asymSpec{
	signSpec("Sign-P256", usageECC, algP256),
	verifySpec("Verify-P256", usageECC, algP256),
	signSpec("Sign-SM2", usageSM2Sign, algSM2),
	verifySpec("Verify-SM2", usageSM2Sign, algSM2),
	signSpec("Sign-RSA2048", usageRSASign, algPSS256),
	verifySpec("Verify-RSA2048", usageRSASign, algPSS256),
	{"RsaDecrypt", asymDecrypt, usageRSADec, algOAEP, "AsymmetricRsaDecrypt", `"Plaintext":"`},
}

func asymSpecByName(name string) (asymSpec, bool) {
	for _, s := range asymSpecs {
		if s.name == name {
			return s, true
		}
	}
	return asymSpec{}, false
}

// primitiveKey names the bare primitive behind an asymmetric operation.
func (s asymSpec) primitiveKey() string { return s.kind + ":" + s.alg }

// asymKey is a key created for the bench, with its public key.
type asymKey struct {
	id  string
	pub crypto.PublicKey
}

// prepareAsymmetric creates one key per key usage the named asymmetric
// operations need, and their requests: a 32-byte RAW message to sign, a
// signature of it (made by the server, checked here) to verify, and a
// 32-byte plaintext encrypted here with the public key to decrypt. It checks
// each request once end to end. With a protection level (see prepare) the
// keys are made at that level, the operations' names end in its suffix and
// they have no primitive to compare with.
func prepareAsymmetric(t *target, names []string, level string) (map[string]*operation, error) {
	msg := make([]byte, 32)
	rand.Read(msg)
	msgB64 := base64.StdEncoding.EncodeToString(msg)
	keys := make(map[string]*asymKey)
	ops := make(map[string]*operation)
	for _, name := range names {
		spec, ok := asymSpecByName(name)
		if !ok {
			continue
		}
		k := keys[spec.usage]
		if k == nil {
			var err error
			if k, err = createAsymKey(t, spec.usage, len(keys), level); err != nil {
				return nil, err
			}
			keys[spec.usage] = k
		}
		var req map[string]any
		switch spec.kind {
		case asymSign, asymVerify:
			req = map[string]any{"KeyId": k.id, "Algorithm": spec.alg, "Message": msgB64, "MessageType": "RAW"}
			resp, err := t.call("SignByAsymmetricKey", req)
			if err != nil {
				return nil, err
			}
			sigB64, err := stringField(resp, "Signature")
			if err != nil {
				return nil, fmt.Errorf("SignByAsymmetricKey: %w", err)
			}
			sig, err := base64.StdEncoding.DecodeString(sigB64)
			if err != nil || !verifyLocally(spec.alg, k.pub, msg, sig) {
				return nil, fmt.Errorf("SignByAsymmetricKey %s: the signature does not verify with the key's public key", spec.alg)
			}
			if spec.kind == asymVerify {
				req["SignatureValue"] = sigB64
			}
		case asymDecrypt:
			pub, ok := k.pub.(*rsa.PublicKey)
			if !ok {
				return nil, fmt.Errorf("GetPublicKey of a %s key returned a %T", spec.usage, k.pub)
			}
			pt := make([]byte, 32)
			rand.Read(pt)
			ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, pt, nil)
			if err != nil {
				return nil, err
			}
			req = map[string]any{"KeyId": k.id, "Algorithm": spec.alg, "Ciphertext": base64.StdEncoding.EncodeToString(ct)}
			resp, err := t.call(spec.action, req)
			if err != nil {
				return nil, err
			}
			if got, want := resp["Plaintext"], base64.StdEncoding.EncodeToString(pt); got != want {
				return nil, fmt.Errorf("AsymmetricRsaDecrypt returned Plaintext %v, want %q", got, want)
			}
		}
		body, err := json.Marshal(req)
		if err != nil {
			return nil, err
		}
		op := &operation{name: spec.name + levelSuffix(level), action: spec.action, body: body, want: []byte(spec.want)}
		if level == "" {
			// The local primitive is the ceiling of the software path only.
			op.primitive = spec.primitiveKey()
		}
		if err := t.check(op); err != nil {
			return nil, fmt.Errorf("setup of %s: %w", op.name, err)
		}
		ops[spec.name] = op
	}
	return ops, nil
}

// check sends op once and fails unless it succeeds.
func (t *target) check(op *operation) error {
	var buf bytes.Buffer
	return t.send(newSigner(), op, &buf, time.Now())
}

// createAsymKey creates a key of usage (at protection level, if not empty)
// and fetches its public key.
func createAsymKey(t *target, usage string, n int, level string) (*asymKey, error) {
	id, err := createKey(t, map[string]any{
		"Alias": fmt.Sprintf("bench-asym-%d", n), "Description": "keyhaven bench", "KeyUsage": usage,
	}, level)
	if err != nil {
		return nil, fmt.Errorf("%s key: %w", usage, err)
	}
	resp, err := t.call("GetPublicKey", map[string]any{"KeyId": id})
	if err != nil {
		return nil, err
	}
	pubB64, err := stringField(resp, "PublicKey")
	if err != nil {
		return nil, fmt.Errorf("GetPublicKey: %w", err)
	}
	der, err := base64.StdEncoding.DecodeString(pubB64)
	if err != nil {
		return nil, fmt.Errorf("GetPublicKey: PublicKey: %w", err)
	}
	pub, err := smx509.ParsePKIXPublicKey(der) // RSA, ECDSA and SM2
	if err != nil {
		return nil, fmt.Errorf("GetPublicKey: PublicKey: %w", err)
	}
	return &asymKey{id: id, pub: pub}, nil
}

// verifyLocally checks a server's signature of msg (RAW) with alg.
func verifyLocally(alg string, pub crypto.PublicKey, msg, sig []byte) bool {
	digest := sha256.Sum256(msg)
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		return alg == algPSS256 && rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
	case *ecdsa.PublicKey:
		if alg == algSM2 {
			return sm2.IsSM2PublicKey(pub) && sm2.VerifyASN1WithSM2(pub, nil, msg, sig)
		}
		return alg == algP256 && ecdsa.VerifyASN1(pub, digest[:], sig)
	}
	return false
}
