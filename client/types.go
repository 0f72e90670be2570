package client

import (
	"encoding/json"
	"time"
)

// Response is what every response has: the server's RequestId, which its
// log and audit trail are keyed by.
type Response struct {
	RequestID string `json:"RequestId"`
}

// EncryptionContext is a set of string pairs bound to a ciphertext as
// associated data: decryption needs the same set. On the wire it is a string
// holding a JSON object; the client marshals it with sorted keys.
type EncryptionContext map[string]string

// MarshalJSON encodes the context as the API's JSON string of a JSON object.
func (c EncryptionContext) MarshalJSON() ([]byte, error) {
	if len(c) == 0 {
		return []byte(`""`), nil
	}
	obj, err := json.Marshal(map[string]string(c))
	if err != nil {
		return nil, err
	}
	return json.Marshal(string(obj))
}

// UnmarshalJSON decodes the API's JSON string of a JSON object.
func (c *EncryptionContext) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == "" {
		*c = nil
		return nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return err
	}
	*c = m
	return nil
}

// KeyUsage is what a CMK does, in Tencent's names.
type KeyUsage string

// Key usages. ListKeyDetail also takes UsageAll.
const (
	UsageEncryptDecrypt KeyUsage = "ENCRYPT_DECRYPT"
	UsageDecryptRSA2048 KeyUsage = "ASYMMETRIC_DECRYPT_RSA_2048"
	UsageDecryptSM2     KeyUsage = "ASYMMETRIC_DECRYPT_SM2"
	UsageSignSM2        KeyUsage = "ASYMMETRIC_SIGN_VERIFY_SM2"
	UsageSignECC        KeyUsage = "ASYMMETRIC_SIGN_VERIFY_ECC"
	UsageSignECDSA384   KeyUsage = "ASYMMETRIC_SIGN_VERIFY_ECDSA384"
	UsageSignRSA2048    KeyUsage = "ASYMMETRIC_SIGN_VERIFY_RSA_2048"
	UsageAll            KeyUsage = "ALL"
)

// ProtectionLevel is where a key's material lives: SOFTWARE (sealed under
// the server's root key) or HSM. It is Keyhaven's extension of the API.
type ProtectionLevel string

// Protection levels.
const (
	ProtectionSoftware ProtectionLevel = "SOFTWARE"
	ProtectionHSM      ProtectionLevel = "HSM"
)

// MessageType says whether a message to sign is the message (RAW) or its
// digest (DIGEST).
type MessageType string

// Message types.
const (
	MessageRaw    MessageType = "RAW"
	MessageDigest MessageType = "DIGEST"
)

// KeyState is a CMK's state.
type KeyState string

// Key states.
const (
	StateEnabled       KeyState = "Enabled"
	StateDisabled      KeyState = "Disabled"
	StatePendingDelete KeyState = "PendingDelete"
	StatePendingImport KeyState = "PendingImport"
	StateArchived      KeyState = "Archived"
)

// UnixTime converts the API's times (Unix seconds, 0 for never) to a
// time.Time, the zero Time for 0.
func UnixTime(sec uint64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(int64(sec), 0)
}
