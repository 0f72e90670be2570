package kms

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// WrappingAlgorithm is how imported material is encrypted for transport.
type WrappingAlgorithm string

// Wrapping algorithms, as Tencent names them.
const (
	WrapRSAPKCS1      WrappingAlgorithm = "RSAES_PKCS1_V1_5"
	WrapRSAOAEPSHA1   WrappingAlgorithm = "RSAES_OAEP_SHA_1"
	WrapRSAOAEPSHA256 WrappingAlgorithm = "RSAES_OAEP_SHA_256"
	WrapSM2           WrappingAlgorithm = "SM2PKE"
)

// Wrapping key specs.
const (
	WrappingRSA2048 = "RSA_2048"
	WrappingSM2     = "SM2"
)

// ImportTokenTTL is how long import parameters stay valid.
const ImportTokenTTL = 24 * time.Hour

const (
	importPrefix   = "import/"
	fingerprintKey = "fingerprint-key"
)

// ImportParameters are what a caller needs to wrap material for one import.
type ImportParameters struct {
	KeyID     string
	Token     string
	PublicKey []byte // DER SubjectPublicKeyInfo of the wrapping key
	ValidTo   time.Time
}

// importToken is an import token at rest (a setting, sealed key inside).
type importToken struct {
	Account    string            `json:"account"`
	KeyID      string            `json:"key_id"`
	Algorithm  WrappingAlgorithm `json:"algorithm"`
	SealedPriv []byte            `json:"sealed_private_key"`
	Expires    time.Time         `json:"expires"`
}

// GetParametersForImport makes a fresh wrapping key pair for one import into
// an EXTERNAL key, valid for ImportTokenTTL and usable once. RSA_2048 goes
// with the RSA algorithms; SM2 with SM2PKE, in the SM suite only.
func (s *Service) GetParametersForImport(ctx context.Context, account, id string, alg WrappingAlgorithm, spec string) (ImportParameters, error) {
	if err := validateKeyID(id); err != nil {
		return ImportParameters{}, err
	}
	switch {
	case spec == WrappingRSA2048 && (alg == WrapRSAPKCS1 || alg == WrapRSAOAEPSHA1 || alg == WrapRSAOAEPSHA256):
	case spec == WrappingSM2 && alg == WrapSM2:
		if s.suite != SuiteSM {
			return ImportParameters{}, fmt.Errorf("%w: SM2 wrapping is for servers in the SM suite", ErrUnsupportedAlgorithm)
		}
	default:
		return ImportParameters{}, fmt.Errorf("%w: wrapping algorithm %q with key spec %q", ErrUnsupportedAlgorithm, alg, spec)
	}
	if _, err := s.externalKey(ctx, account, id); err != nil {
		return ImportParameters{}, err
	}
	var (
		priv crypto.Signer
		der  []byte
		err  error
	)
	if spec == WrappingSM2 {
		var k *sm2.PrivateKey
		if k, err = sm2.GenerateKey(s.rand); err == nil {
			priv = k
			der, err = smx509.MarshalPKCS8PrivateKey(k)
		}
	} else {
		var k *rsa.PrivateKey
		if k, err = rsa.GenerateKey(s.rand, 2048); err == nil {
			priv = k
			der, err = x509.MarshalPKCS8PrivateKey(k)
		}
	}
	if err != nil {
		return ImportParameters{}, fmt.Errorf("kms: wrapping key: %w", err)
	}
	defer clear(der)
	pub, err := marshalPublicKey(priv.Public())
	if err != nil {
		return ImportParameters{}, err
	}
	token, err := randomToken(s.rand, "", 40)
	if err != nil {
		return ImportParameters{}, err
	}
	sealed, err := s.sealer.Seal(der, []byte(importPrefix+token))
	if err != nil {
		return ImportParameters{}, fmt.Errorf("kms: seal wrapping key: %w", err)
	}
	t := importToken{Account: account, KeyID: id, Algorithm: alg, SealedPriv: sealed, Expires: s.now().Add(ImportTokenTTL)}
	raw, _ := json.Marshal(t)
	if err := s.store.Update(ctx, func(tx Tx) error { return tx.PutSetting(importPrefix+token, raw) }); err != nil {
		return ImportParameters{}, err
	}
	return ImportParameters{KeyID: id, Token: token, PublicKey: pub, ValidTo: t.Expires}, nil
}

// externalKey reads a key of the account that takes imported material.
func (s *Service) externalKey(ctx context.Context, account, id string) (*Key, error) {
	var k *Key
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		k, err = accountKey(tx, account, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if k.Origin != OriginExternal {
		return nil, fmt.Errorf("kms: key %s: %w", id, ErrNotExternal)
	}
	return k, nil
}

// ImportKeyMaterialInput is wrapped material for an EXTERNAL key.
type ImportKeyMaterialInput struct {
	Account  string
	KeyID    string
	Token    string
	Material []byte    // wrapped with the token's public key and algorithm
	ValidTo  time.Time // zero: never expires
}

// ImportKeyMaterial unwraps material and binds it to an EXTERNAL key, which
// becomes Enabled. The token is used up by any attempt to unwrap with it.
// Errors: ErrTokenExpired (expired, used or unknown token), ErrInvalidParameter
// (token of another key, material of the wrong length, ValidTo in the past),
// ErrDecryptMaterial (it does not unwrap), ErrMaterialNotMatch (not the
// material the key was first bound to), ErrNotExternal.
func (s *Service) ImportKeyMaterial(ctx context.Context, in ImportKeyMaterialInput) error {
	now := s.now()
	if !in.ValidTo.IsZero() && !in.ValidTo.After(now) {
		return fmt.Errorf("%w: ValidTo must be in the future, or 0 for no expiry", ErrInvalidParameter)
	}
	k, err := s.externalKey(ctx, in.Account, in.KeyID)
	if err != nil {
		return err
	}
	var t importToken
	err = s.store.Update(ctx, func(tx Tx) error {
		raw, err := tx.Setting(importPrefix + in.Token)
		if errors.Is(err, ErrSettingNotFound) {
			return fmt.Errorf("kms: %w: unknown or used import token", ErrTokenExpired)
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &t); err != nil {
			return fmt.Errorf("kms: import token: %w", err)
		}
		if t.Account != in.Account || t.KeyID != in.KeyID {
			return fmt.Errorf("%w: the import token is for another key", ErrInvalidParameter)
		}
		return tx.DeleteSetting(importPrefix + in.Token) // used up by this attempt, or expired
	})
	if err != nil {
		return err
	}
	if !now.Before(t.Expires) {
		return fmt.Errorf("kms: %w: import parameters expired at %s", ErrTokenExpired, t.Expires.Format(time.RFC3339))
	}
	material, err := s.unwrap(t, in.Token, in.Material)
	if err != nil {
		return err
	}
	defer clear(material)
	if want := symmetricSize(k.Spec); len(material) != want {
		return fmt.Errorf("%w: the material has %d bytes; this key takes %d", ErrInvalidParameter, len(material), want)
	}
	backend, ok := s.backend.(Importer)
	if !ok || k.ProtectionLevel != ProtectionSoftware {
		return fmt.Errorf("kms: %w: this backend cannot import material", ErrUnsupportedKeySpec)
	}
	sealed, err := backend.Import(ctx, k.ID, 1, k.Spec, material)
	if err != nil {
		return fmt.Errorf("kms: import material: %w", err)
	}
	err = s.store.Update(ctx, func(tx Tx) error {
		fp, err := s.fingerprint(tx, material)
		if err != nil {
			return err
		}
		k, err := accountKey(tx, in.Account, in.KeyID)
		if err != nil {
			return err
		}
		switch k.State {
		case StatePendingImport:
			k.State = StateEnabled
		case StateEnabled, StateDisabled:
		default:
			return usable(k, true)
		}
		if k.Fingerprint != nil && !hmac.Equal(k.Fingerprint, fp) {
			return fmt.Errorf("kms: key %s: %w", k.ID, ErrMaterialNotMatch)
		}
		k.Fingerprint, k.CurrentVersion, k.ValidTo = fp, 1, in.ValidTo
		if err := tx.PutVersion(&KeyVersion{KeyID: k.ID, Version: 1, Material: sealed, CreateTime: now}); err != nil {
			return err
		}
		return tx.PutKey(k)
	})
	if err == nil {
		s.keys.invalidate(in.KeyID)
	}
	return err
}

// unwrap decrypts wrapped material with the token's private key.
func (s *Service) unwrap(t importToken, token string, wrapped []byte) ([]byte, error) {
	der, err := s.sealer.Open(t.SealedPriv, []byte(importPrefix+token))
	if err != nil {
		return nil, fmt.Errorf("kms: unseal wrapping key: %w", err)
	}
	defer clear(der)
	var material []byte
	switch t.Algorithm {
	case WrapSM2:
		var priv any
		if priv, err = smx509.ParsePKCS8PrivateKey(der); err == nil {
			k, ok := priv.(*sm2.PrivateKey)
			if !ok {
				return nil, errors.New("kms: wrapping key is not SM2")
			}
			material, err = sm2.Decrypt(k, wrapped)
		}
	default:
		var priv any
		if priv, err = x509.ParsePKCS8PrivateKey(der); err != nil {
			break
		}
		k, ok := priv.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("kms: wrapping key is not RSA")
		}
		switch t.Algorithm {
		case WrapRSAPKCS1:
			// One attempt per key pair: the token is already used up, so
			// this cannot serve as a padding oracle.
			material, err = rsa.DecryptPKCS1v15(rand.Reader, k, wrapped)
		case WrapRSAOAEPSHA1:
			material, err = rsa.DecryptOAEP(sha1.New(), nil, k, wrapped, nil)
		default:
			material, err = rsa.DecryptOAEP(sha256.New(), nil, k, wrapped, nil)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("kms: %w: the material does not unwrap with these import parameters (%s)", ErrDecryptMaterial, t.Algorithm)
	}
	return material, nil
}

// fingerprint is HMAC-SHA256 of material under the server's fingerprint
// key, itself kept sealed and made on first use.
func (s *Service) fingerprint(tx Tx, material []byte) ([]byte, error) {
	sealed, err := tx.Setting(fingerprintKey)
	var key []byte
	switch {
	case errors.Is(err, ErrSettingNotFound):
		key = make([]byte, 32)
		if _, err := io.ReadFull(s.rand, key); err != nil {
			return nil, err
		}
		if sealed, err = s.sealer.Seal(key, []byte(fingerprintKey)); err != nil {
			return nil, err
		}
		if err := tx.PutSetting(fingerprintKey, sealed); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	default:
		if key, err = s.sealer.Open(sealed, []byte(fingerprintKey)); err != nil {
			return nil, fmt.Errorf("kms: unseal fingerprint key: %w", err)
		}
	}
	defer clear(key)
	m := hmac.New(sha256.New, key)
	m.Write(material)
	return m.Sum(nil), nil
}

func symmetricSize(spec KeySpec) int {
	if spec == SpecSM4 {
		return 16
	}
	return 32
}

// DeleteImportedKeyMaterial destroys an EXTERNAL key's material: the key
// goes to PendingImport and its ciphertexts fail until the same material is
// imported again.
func (s *Service) DeleteImportedKeyMaterial(ctx context.Context, account, id string) error {
	if _, err := s.externalKey(ctx, account, id); err != nil {
		return err
	}
	return s.dropMaterial(ctx, id, func(k *Key) error {
		switch k.State {
		case StateEnabled, StateDisabled, StatePendingImport:
			return nil
		}
		return usable(k, true)
	})
}

// dropMaterial deletes an EXTERNAL key's versions if check allows, leaving
// it PendingImport, in one transaction.
func (s *Service) dropMaterial(ctx context.Context, id string, check func(*Key) error) error {
	err := s.store.Update(ctx, func(tx Tx) error {
		k, err := tx.Key(id)
		if err != nil {
			return err
		}
		if err := check(k); err != nil {
			return err
		}
		if err := tx.DeleteVersions(id); err != nil {
			return err
		}
		k.State, k.CurrentVersion, k.ValidTo = StatePendingImport, 0, time.Time{}
		return tx.PutKey(k)
	})
	if err == nil {
		s.keys.invalidate(id)
	}
	return err
}

// materialExpired reports whether imported material's ValidTo has passed.
func materialExpired(k *Key, now time.Time) bool {
	return k.Origin == OriginExternal && k.CurrentVersion > 0 && !k.ValidTo.IsZero() && !k.ValidTo.After(now) &&
		(k.State == StateEnabled || k.State == StateDisabled)
}
