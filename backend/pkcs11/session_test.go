//go:build cgo

package pkcs11

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	p11 "github.com/miekg/pkcs11"

	"github.com/keyhaven/keyhaven/kms"
)

// useAll runs one AES-GCM round trip, one ECDSA signature and one RSA
// decryption with the materials, checking the results.
func useAll(aead kms.SymmetricMaterial, ec kms.PrivateMaterial, rsaM crypto.Decrypter) error {
	nonce := make([]byte, 12)
	rand.Read(nonce)
	pt := []byte("concurrent plaintext")
	ct := aead.AEAD().Seal(nil, nonce, pt, nil)
	if got, err := aead.AEAD().Open(nil, nonce, ct, nil); err != nil || string(got) != string(pt) {
		return errors.Join(errors.New("AES-GCM round trip failed"), err)
	}
	digest := sha256.Sum256(pt)
	sig, err := ec.Sign(nil, digest[:], crypto.SHA256)
	if err != nil || !ecdsa.VerifyASN1(ec.Public().(*ecdsa.PublicKey), digest[:], sig) {
		return errors.Join(errors.New("ECDSA signature failed"), err)
	}
	rct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, rsaM.Public().(*rsa.PublicKey), pt, nil)
	if err != nil {
		return err
	}
	if got, err := rsaM.Decrypt(nil, rct, &rsa.OAEPOptions{Hash: crypto.SHA256}); err != nil || string(got) != string(pt) {
		return errors.Join(errors.New("RSA-OAEP decryption failed"), err)
	}
	return nil
}

func openThree(t *testing.T, b *Backend) (kms.SymmetricMaterial, kms.PrivateMaterial, crypto.Decrypter) {
	return openSpec(t, b, kms.SpecSymmetricDefault).(kms.SymmetricMaterial),
		openSpec(t, b, kms.SpecECP256).(kms.PrivateMaterial),
		openSpec(t, b, kms.SpecRSA2048).(crypto.Decrypter)
}

// TestConcurrentPool has 32 goroutines share one Backend with a pool of 4
// sessions (run it with -race).
func TestConcurrentPool(t *testing.T) {
	b := open(t, "concurrent", 4)
	aead, ec, rsaM := openThree(t, b)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range 10 {
				if err := useAll(aead, ec, rsaM); err != nil {
					t.Error(err)
					return
				}
			}
			if _, err := b.Generate(context.Background(), testKeyID, 9, kms.SpecSymmetricDefault); err != nil {
				t.Errorf("concurrent Generate err = %v", err)
			}
		})
	}
	wg.Wait()
	if n := len(b.pool.free); n != 4 {
		t.Errorf("after the run the pool holds %d sessions, want 4", n)
	}
}

// TestPoolDoesNotSerialize holds sessions out of the pool: operations run
// while any session is free, and wait (until their context ends) when none
// is.
func TestPoolDoesNotSerialize(t *testing.T) {
	b := open(t, "pool", 4)
	aead, ec, rsaM := openThree(t, b)
	var held []p11.SessionHandle
	for range 3 {
		held = append(held, <-b.pool.free)
	}
	if err := useAll(aead, ec, rsaM); err != nil {
		t.Errorf("with 3 of 4 sessions busy: %v", err)
	}
	held = append(held, <-b.pool.free)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := b.Generate(ctx, testKeyID, 1, kms.SpecSymmetricDefault); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Generate with every session busy err = %v, want context.DeadlineExceeded", err)
	}
	for _, sh := range held {
		b.pool.free <- sh
	}
	if err := useAll(aead, ec, rsaM); err != nil {
		t.Errorf("after the sessions came back: %v", err)
	}
}

// TestSessionLoss closes sessions under the pool: one session, then every
// session of the token (which also logs the token out). Operations go on,
// on new sessions, logged in again.
func TestSessionLoss(t *testing.T) {
	b := open(t, "session-loss", 4)
	aead, ec, rsaM := openThree(t, b)

	// Close one pooled session behind the pool's back. Every operation
	// takes the sessions in turn, so the closed one is used and replaced.
	sh := <-b.pool.free
	if err := b.ctx().CloseSession(sh); err != nil {
		t.Fatal(err)
	}
	b.pool.free <- sh
	for range 8 {
		if err := useAll(aead, ec, rsaM); err != nil {
			t.Fatalf("after one session was closed: %v", err)
		}
	}

	// Close every session of the token: the login goes too.
	if err := b.ctx().CloseAllSessions(b.pool.slot); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := useAll(aead, ec, rsaM); err != nil {
				t.Errorf("after every session was closed: %v", err)
			}
		})
	}
	wg.Wait()
	if _, err := b.Generate(context.Background(), testKeyID, 2, kms.SpecECP384); err != nil {
		t.Errorf("Generate after every session was closed err = %v", err)
	}
	if n := len(b.pool.free); n != 4 {
		t.Errorf("the pool holds %d sessions, want 4", n)
	}
}

func TestClosedBackend(t *testing.T) {
	b := open(t, "closed", 1)
	aead := openSpec(t, b, kms.SpecSymmetricDefault).(kms.SymmetricMaterial).AEAD()
	b.Close()
	b.Close()
	if _, err := b.Generate(context.Background(), testKeyID, 1, kms.SpecSymmetricDefault); !errors.Is(err, errClosed) {
		t.Errorf("Generate after Close err = %v, want errClosed", err)
	}
	if pt, err := aead.Open(nil, make([]byte, 12), make([]byte, 32), nil); err == nil {
		t.Errorf("AEAD Open after Close = %x, want an error", pt)
	}
}
