// Package pkcs11seal is the root key provider backed by a PKCS #11 token
// (DESIGN rule 1, the HSM as root of trust): the root key that
// software-protected material is sealed under is kept in the data dir only
// wrapped, with AES-256-GCM computed in the token under a non-extractable
// AES key labelled WrapKeyLabel, created on first use. Without the token
// (and its PIN) the wrapped file, and so every software key, is useless.
//
// It is a separate package from seal so that seal stays free of cgo. It
// imports backend/pkcs11 and the standard library. Its errors never
// contain key bytes.
package pkcs11seal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/keyhaven/keyhaven/backend/pkcs11"
	"github.com/keyhaven/keyhaven/seal"
)

// WrapKeyLabel is the CKA_LABEL of the token key that wraps the root key.
const WrapKeyLabel = "keyhaven-root-wrap"

// FileName is the name, in the data dir, of the wrapped root key.
const FileName = "root.key.wrapped"

// KeySize is the length of the root key in bytes (AES-256).
const KeySize = 32

// The file is magic ‖ nonce ‖ AES-GCM(wrap key, nonce, root key, ad).
const (
	magic     = "keyhaven-wrapped-root-key/v1\n"
	nonceSize = 12
	fileSize  = len(magic) + nonceSize + KeySize + 16
	adLabel   = "keyhaven/root-key/pkcs11/v1\x00"
)

// LoadOrCreate returns the root key wrapped in the file at path, unwrapping
// it with the token key labelled WrapKeyLabel. If the file does not exist,
// it draws a fresh root key from rand, wraps it under that token key
// (creating the key if the token has none), writes the file with mode
// 0600, syncs it and its directory, and reports created. It returns an
// error if the file is not a regular file, grants group or other access, is
// malformed, or does not unwrap with the token's key (made with another
// token, or altered), or if the token has no wrap key while the file
// exists.
func LoadOrCreate(ctx context.Context, b *pkcs11.Backend, path string, rand io.Reader) (key []byte, created bool, err error) {
	key, err = load(ctx, b, path)
	if err == nil {
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	key, err = create(ctx, b, path, rand)
	if errors.Is(err, fs.ErrExist) { // another process created it meanwhile
		key, err = load(ctx, b, path)
		return key, false, err
	}
	if err != nil {
		return nil, false, err
	}
	return key, true, nil
}

func load(ctx context.Context, b *pkcs11.Backend, path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("pkcs11seal: open wrapped root key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("pkcs11seal: stat wrapped root key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("pkcs11seal: wrapped root key %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("pkcs11seal: wrapped root key %s has mode %04o, which lets group or others access it; want 0600 (chmod 600 %s)", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, int64(fileSize)+1))
	if err != nil {
		return nil, fmt.Errorf("pkcs11seal: read wrapped root key %s: %w", path, err)
	}
	if len(data) != fileSize || !bytes.HasPrefix(data, []byte(magic)) {
		return nil, fmt.Errorf("pkcs11seal: %s is not a wrapped root key of this format (%d bytes)", path, len(data))
	}
	wrap, _, err := b.NamedAESKey(ctx, WrapKeyLabel, false)
	if err != nil {
		return nil, fmt.Errorf("pkcs11seal: %s cannot be unwrapped: token %q has no wrap key (was it made with another token?): %w", path, b.Token(), err)
	}
	nonce := data[len(magic) : len(magic)+nonceSize]
	key, err := wrap.Open(ctx, nonce, data[len(magic)+nonceSize:], wrapAD)
	if err != nil {
		return nil, fmt.Errorf("pkcs11seal: %s does not unwrap with the wrap key of token %q (made with another token, or altered): %w", path, b.Token(), err)
	}
	if len(key) != KeySize {
		clear(key)
		return nil, fmt.Errorf("pkcs11seal: %s unwraps to %d bytes, want %d", path, len(key), KeySize)
	}
	return key, nil
}

func create(ctx context.Context, b *pkcs11.Backend, path string, rand io.Reader) ([]byte, error) {
	wrap, _, err := b.NamedAESKey(ctx, WrapKeyLabel, true)
	if err != nil {
		return nil, fmt.Errorf("pkcs11seal: %w", err)
	}
	key := make([]byte, KeySize)
	nonce := make([]byte, nonceSize)
	if _, err := io.ReadFull(rand, key); err != nil {
		return nil, fmt.Errorf("pkcs11seal: generate root key: %w", err)
	}
	if _, err := io.ReadFull(rand, nonce); err != nil {
		clear(key)
		return nil, fmt.Errorf("pkcs11seal: generate nonce: %w", err)
	}
	ct, err := wrap.Seal(ctx, nonce, key, wrapAD)
	if err != nil {
		clear(key)
		return nil, fmt.Errorf("pkcs11seal: wrap root key: %w", err)
	}
	data := append(append([]byte(magic), nonce...), ct...)

	if err := seal.CreateFile(path, data); err != nil {
		clear(key)
		return nil, fmt.Errorf("pkcs11seal: wrapped root key: %w", err)
	}
	return key, nil
}

// wrapAD binds the wrapped key to its purpose and the wrap key's label.
var wrapAD = []byte(adLabel + WrapKeyLabel)
