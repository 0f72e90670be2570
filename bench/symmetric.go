package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// prepare creates the keys and requests of the named operations, keyed by
// name. With level protectionHSM the keys are HSM-protected and each
// operation's printed name ends in hsmSuffix.
func prepare(t *target, names []string, level string) (map[string]*operation, error) {
	ops, err := prepareAsymmetric(t, names, level)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if slices.Contains(symmetricOps, name) {
			sym, err := prepareSymmetric(t, level)
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
func prepareSymmetric(t *target, level string) (map[string]*operation, error) {
	keyID, err := createKey(t, map[string]any{"Alias": "bench", "Description": "keyhaven bench"}, level)
	if err != nil {
		return nil, err
	}
	pt := make([]byte, 32)
	rand.Read(pt)
	ptB64 := base64.StdEncoding.EncodeToString(pt)
	encReq := map[string]any{"KeyId": keyID, "Plaintext": ptB64}
	resp, err := t.call("Encrypt", encReq)
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
		ops[name] = &operation{name: name + levelSuffix(level), action: name, body: body, want: []byte(r.want)}
	}
	return ops, nil
}

// createKey sends CreateKey with req, at protection level if it is not
// empty, and returns the new key's id. For a protection level it checks with
// DescribeKey that the server made the key at that level.
func createKey(t *target, req map[string]any, level string) (string, error) {
	if level != "" {
		req["ProtectionLevel"] = level
	}
	resp, err := t.call("CreateKey", req)
	if err != nil {
		return "", err
	}
	id, err := stringField(resp, "KeyId")
	if err != nil {
		return "", fmt.Errorf("CreateKey: %w", err)
	}
	if level == "" {
		return id, nil
	}
	resp, err = t.call("DescribeKey", map[string]any{"KeyId": id})
	if err != nil {
		return "", err
	}
	md, _ := resp["KeyMetadata"].(map[string]any)
	if got, _ := md["ProtectionLevel"].(string); got != level {
		return "", fmt.Errorf("CreateKey with ProtectionLevel %s made a key whose ProtectionLevel is %q", level, got)
	}
	return id, nil
}
