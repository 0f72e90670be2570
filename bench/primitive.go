package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/emmansun/gmsm/sm2"
)

// primitiveBar is DESIGN.md's bar for primitive-bound paths: at least 80%
// of the primitive's rate, i.e. server CPU per request at most
// primitive/0.8.
const primitiveBar = 0.8

// primitive is the in-process cost of the bare cryptographic operation
// behind an asymmetric request, measured in this process on one goroutine:
// the ceiling of that path.
type primitive struct {
	Name       string  `json:"name"`
	Ops        int64   `json:"ops"`
	CPUMicros  float64 `json:"cpu_us_per_op"`  // this process's user+system CPU time per op (GC included)
	WallMicros float64 `json:"wall_us_per_op"` // wall time per op on the one goroutine
}

// primitiveKeys are the local keys the primitives use, made on demand.
type primitiveKeys struct {
	p256 *ecdsa.PrivateKey
	sm2  *sm2.PrivateKey
	rsa  *rsa.PrivateKey
}

func (k *primitiveKeys) ecdsa() (*ecdsa.PrivateKey, error) {
	var err error
	if k.p256 == nil {
		k.p256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	return k.p256, err
}

func (k *primitiveKeys) sm2Key() (*sm2.PrivateKey, error) {
	var err error
	if k.sm2 == nil {
		k.sm2, err = sm2.GenerateKey(rand.Reader)
	}
	return k.sm2, err
}

func (k *primitiveKeys) rsaKey() (*rsa.PrivateKey, error) {
	var err error
	if k.rsa == nil {
		k.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	return k.rsa, err
}

// newPrimitive returns the name and one call of the primitive behind an
// asymmetric operation (asymSpec.primitiveKey), on a 32-byte message and
// local keys of the same kind as the server's. Each call does what the
// server must for a RAW message: hash it (SHA-256, or SM3 of Z‖M) and sign,
// verify or decrypt.
func newPrimitive(key string, keys *primitiveKeys) (string, func() error, error) {
	msg := make([]byte, 32)
	rand.Read(msg)
	var errBad = errors.New("signature does not verify")
	switch key {
	case asymSign + ":" + algP256, asymVerify + ":" + algP256:
		k, err := keys.ecdsa()
		if err != nil {
			return "", nil, err
		}
		if key == asymSign+":"+algP256 {
			return "SHA-256 + ecdsa.SignASN1 P-256", func() error {
				d := sha256.Sum256(msg)
				_, err := ecdsa.SignASN1(rand.Reader, k, d[:])
				return err
			}, nil
		}
		d := sha256.Sum256(msg)
		sig, err := ecdsa.SignASN1(rand.Reader, k, d[:])
		return "SHA-256 + ecdsa.VerifyASN1 P-256", func() error {
			d := sha256.Sum256(msg)
			if !ecdsa.VerifyASN1(&k.PublicKey, d[:], sig) {
				return errBad
			}
			return nil
		}, err
	case asymSign + ":" + algSM2, asymVerify + ":" + algSM2:
		k, err := keys.sm2Key()
		if err != nil {
			return "", nil, err
		}
		if key == asymSign+":"+algSM2 {
			return "SM3(Z‖M) + sm2.SignASN1", func() error {
				d, err := sm2.CalculateSM2Hash(&k.PublicKey, msg, nil)
				if err == nil {
					_, err = sm2.SignASN1(rand.Reader, k, d, nil)
				}
				return err
			}, nil
		}
		sig, err := sm2.SignASN1(rand.Reader, k, msg, sm2.DefaultSM2SignerOpts)
		return "SM3(Z‖M) + sm2.VerifyASN1", func() error {
			d, err := sm2.CalculateSM2Hash(&k.PublicKey, msg, nil)
			if err == nil && !sm2.VerifyASN1(&k.PublicKey, d, sig) {
				err = errBad
			}
			return err
		}, err
	case asymSign + ":" + algPSS256, asymVerify + ":" + algPSS256:
		k, err := keys.rsaKey()
		if err != nil {
			return "", nil, err
		}
		opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}
		if key == asymSign+":"+algPSS256 {
			return "SHA-256 + rsa.SignPSS 2048", func() error {
				d := sha256.Sum256(msg)
				_, err := rsa.SignPSS(rand.Reader, k, crypto.SHA256, d[:], opts)
				return err
			}, nil
		}
		d := sha256.Sum256(msg)
		sig, err := rsa.SignPSS(rand.Reader, k, crypto.SHA256, d[:], opts)
		return "SHA-256 + rsa.VerifyPSS 2048", func() error {
			d := sha256.Sum256(msg)
			return rsa.VerifyPSS(&k.PublicKey, crypto.SHA256, d[:], sig, opts)
		}, err
	case asymDecrypt + ":" + algOAEP:
		k, err := keys.rsaKey()
		if err != nil {
			return "", nil, err
		}
		ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &k.PublicKey, msg, nil)
		return "rsa.DecryptOAEP SHA-256 2048", func() error {
			_, err := rsa.DecryptOAEP(sha256.New(), nil, k, ct, nil)
			return err
		}, err
	}
	return "", nil, fmt.Errorf("no primitive for %s", key)
}

// measurePrimitives times the primitive of every named asymmetric operation
// for d each, in this process while no server runs.
func measurePrimitives(names []string, d time.Duration) (map[string]*primitive, error) {
	out := make(map[string]*primitive)
	keys := &primitiveKeys{}
	for _, name := range names {
		spec, ok := asymSpecByName(name)
		if !ok || out[spec.primitiveKey()] != nil {
			continue
		}
		label, f, err := newPrimitive(spec.primitiveKey(), keys)
		if err != nil {
			return nil, fmt.Errorf("primitive of %s: %w", name, err)
		}
		p, err := timePrimitive(label, f, d)
		if err != nil {
			return nil, fmt.Errorf("primitive of %s: %w", name, err)
		}
		out[spec.primitiveKey()] = p
	}
	return out, nil
}

// timePrimitive calls f back to back on one goroutine for d (after a short
// warm-up) and returns its CPU and wall time per call.
func timePrimitive(name string, f func() error, d time.Duration) (*primitive, error) {
	for t0 := time.Now(); time.Since(t0) < d/10; {
		if err := f(); err != nil {
			return nil, err
		}
	}
	runtime.GC()
	cpu0, t0 := selfCPU(), time.Now()
	var n int64
	for n == 0 || time.Since(t0) < d {
		if err := f(); err != nil {
			return nil, err
		}
		n++
	}
	wall, cpu := time.Since(t0), selfCPU()-cpu0
	return &primitive{
		Name:       name,
		Ops:        n,
		CPUMicros:  micros(cpu) / float64(n),
		WallMicros: micros(wall) / float64(n),
	}, nil
}
