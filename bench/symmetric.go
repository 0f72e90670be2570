package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// prepare creates the keys and requests of the named operations.
func prepare(t *target, names []string) (map[string]*operation, error) {
	ops, err := prepareAsymmetric(t, names)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if slices.Contains(symmetricOps, name) {
			sym, err := prepareSymmetric(t)
			if err != nil {
				return nil, err
			}
			maps.Copy(ops, sym)
			break
		}
	}
	return ops, nil
}

// prepareSymmetric creates a CMK and the requests of each symmetric
// operation: a 32-byte plaintext for Encrypt, a ciphertext of it for Decrypt
// and an AES_256 data key for GenerateDataKey. It checks one of each end to
// end.
func prepareSymmetric(t *target) (map[string]*operation, error) {
	resp, err := t.call("CreateKey", map[string]any{"Alias": "bench", "Description": "keyhaven bench"})
	if err != nil {
		return nil, err
	}
	keyID, err := stringField(resp, "KeyId")
	if err != nil {
		return nil, fmt.Errorf("CreateKey: %w", err)
	}
	pt := make([]byte, 32)
	rand.Read(pt)
	ptB64 := base64.StdEncoding.EncodeToString(pt)
	encReq := map[string]any{"KeyId": keyID, "Plaintext": ptB64}
	resp, err = t.call("Encrypt", encReq)
	if err != nil {
		return nil, err
	}
	ct, err := stringField(resp, "CiphertextBlob")
	if err != nil {
		return nil, fmt.Errorf("Encrypt: %w", err)
	}
	decReq := map[string]any{"CiphertextBlob": ct}
	resp, err = t.call("Decrypt", decReq)
	if err != nil {
		return nil, err
	}
	if got, _ := resp["Plaintext"].(string); got != ptB64 {
		return nil, fmt.Errorf("Decrypt returned Plaintext %q, want %q", got, ptB64)
	}
	gdkReq := map[string]any{"KeyId": keyID, "KeySpec": "AES_256"}
	resp, err = t.call("GenerateDataKey", gdkReq)
	if err != nil {
		return nil, err
	}
	dk, _ := resp["Plaintext"].(string)
	if b, err := base64.StdEncoding.DecodeString(dk); err != nil || len(b) != 32 {
		return nil, fmt.Errorf("GenerateDataKey returned Plaintext %q, want 32 bytes in base64", dk)
	}

	ops := make(map[string]*operation)
	for name, r := range map[string]struct {
		req  any
		want string
	}{
		"Encrypt":         {encReq, `"CiphertextBlob"`},
		"Decrypt":         {decReq, `"Plaintext"`},
		"GenerateDataKey": {gdkReq, `"CiphertextBlob"`},
	} {
		body, err := json.Marshal(r.req)
		if err != nil {
			return nil, err
		}
		ops[name] = &operation{name: name, action: name, body: body, want: []byte(r.want)}
	}
	return ops, nil
}
