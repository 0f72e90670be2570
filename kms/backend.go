package kms

import (
	"context"
	"crypto"
	"crypto/cipher"
	"time"
)

// Backend creates and opens key material. What it returns from Generate is
// what the Store keeps for a version: sealed material, or a reference to a
// key that never leaves an HSM.
type Backend interface {
	// Generate creates material for one version of a key.
	Generate(ctx context.Context, keyID string, version uint32, spec KeySpec) ([]byte, error)
	// Open makes stored material usable. The result is at least a Material;
	// symmetric material is also a SymmetricMaterial.
	Open(ctx context.Context, keyID string, version uint32, spec KeySpec, stored []byte) (Material, error)
}

// Importer is a Backend that takes symmetric material made elsewhere (bring
// your own key) and returns what the Store keeps, as Generate does.
type Importer interface {
	Import(ctx context.Context, keyID string, version uint32, spec KeySpec, material []byte) ([]byte, error)
}

// KeyDestroyer is a Backend whose material lives outside the store (an HSM):
// scheduled deletion calls DestroyKey for each version so that no copy
// remains. DestroyKey returns nil for material already gone.
type KeyDestroyer interface {
	DestroyKey(ctx context.Context, stored []byte) error
}

// Material is opened key material. Destroy wipes what it holds in memory; it
// is called when the material leaves the cache.
type Material interface {
	Destroy()
}

// SymmetricMaterial is material that encrypts with an AEAD.
type SymmetricMaterial interface {
	Material
	AEAD() cipher.AEAD
}

// PrivateMaterial is the private half of an asymmetric key pair. It is a
// crypto.Signer for signing keys; decryption keys are also crypto.Decrypters
// (RSA-OAEP with *rsa.OAEPOptions, SM2 with gmsm's options). Private keys
// never leave the Backend in any other form.
type PrivateMaterial interface {
	Material
	crypto.Signer
}

// Sealer protects small secrets at rest (access key secrets) under the root
// of trust. The associated data binds a sealed value to its place.
type Sealer interface {
	Seal(plaintext, additionalData []byte) ([]byte, error)
	Open(sealed, additionalData []byte) ([]byte, error)
}

// Clock tells the time; tests move it.
type Clock interface {
	Now() time.Time
}
