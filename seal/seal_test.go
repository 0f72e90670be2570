package seal

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var testKey = bytes.Repeat([]byte{0x5a}, KeySize)

func TestLoadOrCreateFileCreates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.key")
	key, created, err := LoadOrCreateFile(path, rand.Reader)
	if err != nil || !created || len(key) != KeySize {
		t.Fatalf("LoadOrCreateFile(new) = %d bytes, %v, %v; want 32 bytes, true, nil", len(key), created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("created file mode = %04o, want 0600", perm)
	}
	again, created, err := LoadOrCreateFile(path, rand.Reader)
	if err != nil || created || !bytes.Equal(again, key) {
		t.Errorf("LoadOrCreateFile(existing) = %x, %v, %v; want the created key, false, nil", again, created, err)
	}
	data, _ := os.ReadFile(path)
	if got := strings.TrimSpace(string(data)); got != base64.StdEncoding.EncodeToString(key) {
		t.Errorf("file holds %q, want the base64 of the key", got)
	}
}

func TestLoadOrCreateFileCreateErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		path string
		rand *bytes.Reader
	}{
		{"rand fails", filepath.Join(dir, "a.key"), bytes.NewReader(make([]byte, 10))},
		{"missing directory", filepath.Join(dir, "no", "such", "dir", "a.key"), bytes.NewReader(make([]byte, 32))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if key, _, err := LoadOrCreateFile(tt.path, tt.rand); err == nil {
				t.Errorf("LoadOrCreateFile(%s) = %x, want an error", tt.path, key)
			}
			if _, err := os.Stat(tt.path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("after failure, Stat(%s) err = %v, want not exist", tt.path, err)
			}
		})
	}
}

func TestLoadOrCreateFileExisting(t *testing.T) {
	enc := base64.StdEncoding.EncodeToString(testKey)
	tests := []struct {
		name    string
		content string
		mode    fs.FileMode
		wantErr string // substring; "" means success
	}{
		{"0600", enc, 0o600, ""},
		{"0400", enc, 0o400, ""},
		{"trailing newline", enc + "\n", 0o600, ""},
		{"surrounding space", "  " + enc + "\r\n", 0o600, ""},
		{"unpadded", strings.TrimRight(enc, "="), 0o600, ""},
		{"group readable", enc, 0o640, "mode 0640"},
		{"world readable", enc, 0o604, "mode 0604"},
		{"group writable", enc, 0o620, "mode 0620"},
		{"0644", enc, 0o644, "chmod 600"},
		{"empty", "", 0o600, "empty"},
		{"short key", base64.StdEncoding.EncodeToString(testKey[:16]), 0o600, "decodes to 16 bytes"},
		{"long key", base64.StdEncoding.EncodeToString(append(testKey, 1)), 0o600, "decodes to 33 bytes"},
		{"not base64", "this is not base64 at all!!", 0o600, "not valid base64"},
		{"raw bytes", string(bytes.Repeat([]byte{0xff}, 32)), 0o600, "not valid base64"},
		{"url alphabet", base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)), 0o600, "not valid base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "root.key")
			if err := os.WriteFile(path, []byte(tt.content), tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil { // umask
				t.Fatal(err)
			}
			key, created, err := LoadOrCreateFile(path, rand.Reader)
			if tt.wantErr == "" {
				if err != nil || created || !bytes.Equal(key, testKey) {
					t.Errorf("LoadOrCreateFile() = %x, %v, %v; want the stored key, false, nil", key, created, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("LoadOrCreateFile() err = %v, want one mentioning %q", err, tt.wantErr)
			}
			if key != nil || created {
				t.Errorf("LoadOrCreateFile() = %x, %v with an error; want nil, false", key, created)
			}
			if tt.content != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.content)) {
				t.Errorf("error %q echoes the file content", err)
			}
			// The file is left alone.
			if data, _ := os.ReadFile(path); string(data) != tt.content {
				t.Errorf("file content changed to %q", data)
			}
		})
	}
}

func TestLoadOrCreateFileNotRegular(t *testing.T) {
	dir := t.TempDir()
	if key, _, err := LoadOrCreateFile(dir, rand.Reader); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("LoadOrCreateFile(directory) = %x, %v; want a not-a-regular-file error", key, err)
	}
}

func TestFromEnv(t *testing.T) {
	enc := base64.StdEncoding.EncodeToString(testKey)
	tests := []struct {
		name    string
		value   string
		wantErr string
	}{
		{"padded", enc, ""},
		{"unpadded", strings.TrimRight(enc, "="), ""},
		{"newline", enc + "\n", ""},
		{"empty", "", "empty"},
		{"blank", "   ", "empty"},
		{"short", base64.StdEncoding.EncodeToString(testKey[:31]), "decodes to 31 bytes"},
		{"long", base64.StdEncoding.EncodeToString(make([]byte, 64)), "decodes to 64 bytes"},
		{"hex", strings.Repeat("5a", 32) + "!", "not valid base64"},
		{"bad padding", enc + "==", "not valid base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := FromEnv(tt.value)
			if tt.wantErr == "" {
				if err != nil || !bytes.Equal(key, testKey) {
					t.Errorf("FromEnv(%q) = %x, %v; want %x, nil", tt.value, key, err, testKey)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), EnvVar) {
				t.Fatalf("FromEnv(%q) err = %v, want one naming %s and mentioning %q", tt.value, err, EnvVar, tt.wantErr)
			}
			if v := strings.TrimSpace(tt.value); v != "" && strings.Contains(err.Error(), v) {
				t.Errorf("FromEnv error %q echoes the value", err)
			}
		})
	}
}
