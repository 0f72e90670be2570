// Package seal provides the root key that software-protected key material
// is sealed under (DESIGN rule 1): from a file, created with mode 0600 on
// first start (the development default), or from the KEYHAVEN_ROOT_KEY
// environment variable. A PKCS#11 token is the third provider and lives in
// seal/pkcs11seal, which needs cgo.
//
// The package is a leaf: it imports only the standard library. Its errors
// never contain key bytes or the encoded key.
package seal

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// KeySize is the length of a root key in bytes (AES-256).
const KeySize = 32

// EnvVar is the environment variable FromEnv's value comes from.
const EnvVar = "KEYHAVEN_ROOT_KEY"

// LoadOrCreateFile returns the root key stored base64-encoded in the file at
// path. If the file does not exist, it creates it with mode 0600 holding a
// fresh key drawn from rand, syncs the file and its directory, and reports
// created. It refuses a file that is not a regular file, that grants any
// group or other permission, or whose content is not the base64 encoding of
// 32 bytes.
func LoadOrCreateFile(path string, rand io.Reader) (key []byte, created bool, err error) {
	key, err = loadFile(path)
	if err == nil {
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	key, err = createFile(path, rand)
	if errors.Is(err, fs.ErrExist) {
		// Another process created it between our open and our create.
		key, err = loadFile(path)
		return key, false, err
	}
	if err != nil {
		return nil, false, err
	}
	return key, true, nil
}

func loadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("seal: open root key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("seal: stat root key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("seal: root key file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("seal: root key file %s has mode %04o, which lets group or others access it; want 0600 (chmod 600 %s)", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return nil, fmt.Errorf("seal: read root key file %s: %w", path, err)
	}
	defer clear(data)
	key, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("seal: root key file %s: %w", path, err)
	}
	return key, nil
}

func createFile(path string, rand io.Reader) ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := io.ReadFull(rand, key); err != nil {
		return nil, fmt.Errorf("seal: generate root key: %w", err)
	}
	enc := make([]byte, base64.StdEncoding.EncodedLen(KeySize)+1)
	defer clear(enc)
	base64.StdEncoding.Encode(enc, key)
	enc[len(enc)-1] = '\n'

	if err := CreateFile(path, enc); err != nil {
		clear(key)
		return nil, fmt.Errorf("seal: root key: %w", err)
	}
	return key, nil
}

// CreateFile writes data to a new file at path (mode 0600; an existing file
// is an error wrapping fs.ErrExist) and makes it durable: the file and its
// directory are synced. On failure nothing is left at path.
func CreateFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// FromEnv decodes the root key from value, the content of KEYHAVEN_ROOT_KEY:
// standard base64 (padding optional, surrounding whitespace ignored) of 32
// bytes. Its errors never echo value.
func FromEnv(value string) ([]byte, error) {
	key, err := decode([]byte(value))
	if err != nil {
		return nil, fmt.Errorf("seal: %s: %w", EnvVar, err)
	}
	return key, nil
}

// decode returns the 32-byte key base64-encoded in data. Its errors do not
// quote data.
func decode(data []byte) ([]byte, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, errors.New("empty; want the base64 encoding of a 32-byte key")
	}
	enc := base64.StdEncoding
	if data[len(data)-1] != '=' {
		enc = base64.RawStdEncoding
	}
	buf := make([]byte, enc.DecodedLen(len(data)))
	n, err := enc.Decode(buf, data)
	if err != nil {
		clear(buf)
		return nil, errors.New("not valid base64; want the standard base64 encoding of a 32-byte key")
	}
	if n != KeySize {
		clear(buf)
		return nil, fmt.Errorf("decodes to %d bytes; want %d", n, KeySize)
	}
	key := make([]byte, KeySize)
	copy(key, buf)
	clear(buf)
	return key, nil
}
