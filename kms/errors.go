package kms

import "errors"

// Domain errors. Callers compare them with errors.Is; each wire dialect maps
// every one of them to its own code in a single table.
var (
	// ErrKeyNotFound: no CMK with this KeyId (or alias) in the caller's account.
	ErrKeyNotFound = errors.New("key not found")
	// ErrInvalidKeyID: the KeyId is not a well-formed key id.
	ErrInvalidKeyID = errors.New("invalid key id")
	// ErrDuplicatedKeyID: the same KeyId appears twice in one request.
	ErrDuplicatedKeyID = errors.New("duplicated key id")
	// ErrAliasExists: another CMK of the account already has the alias.
	ErrAliasExists = errors.New("alias already exists")
	// ErrInvalidAlias: the alias breaks the alias rules.
	ErrInvalidAlias = errors.New("invalid alias")
	// ErrInvalidKeyUsage: unknown key usage, or one the key cannot serve.
	ErrInvalidKeyUsage = errors.New("invalid key usage")
	// ErrInvalidType: unknown CMK type (origin).
	ErrInvalidType = errors.New("invalid key type")
	// ErrInvalidCiphertext: the ciphertext blob is malformed, was altered, or
	// its encryption context does not match.
	ErrInvalidCiphertext = errors.New("invalid ciphertext")
	// ErrInvalidPlaintext: the plaintext is empty or longer than MaxPlaintext.
	ErrInvalidPlaintext = errors.New("invalid plaintext")
	// ErrInvalidParameter: a parameter value is out of range or malformed.
	ErrInvalidParameter = errors.New("invalid parameter value")
	// ErrTagKeysDuplicated: two tags share a key.
	ErrTagKeysDuplicated = errors.New("tag keys duplicated")

	// ErrKeyDisabled: the CMK is Disabled.
	ErrKeyDisabled = errors.New("key is disabled")
	// ErrKeyArchived: the CMK is Archived and only decrypts.
	ErrKeyArchived = errors.New("key is archived")
	// ErrKeyPendingDelete: the CMK is scheduled for deletion.
	ErrKeyPendingDelete = errors.New("key is pending deletion")
	// ErrInvalidKeyState: the CMK's state does not allow the operation.
	ErrInvalidKeyState = errors.New("key state does not allow this operation")
	// ErrKeyDeleted: the key's material was destroyed after its scheduled
	// deletion; only a tombstone is left.
	ErrKeyDeleted = errors.New("key was deleted")
	// ErrNotPendingDelete: CancelKeyDeletion on a key not scheduled for deletion.
	ErrNotPendingDelete = errors.New("key is not pending deletion")
	// ErrShouldBeDisabled: the operation needs a Disabled key first.
	ErrShouldBeDisabled = errors.New("key must be disabled first")
	// ErrExternalCannotRotate: keys with imported (EXTERNAL) material cannot rotate.
	ErrExternalCannotRotate = errors.New("keys with imported material cannot be rotated")
	// ErrRotationNotSupported: asymmetric keys cannot rotate.
	ErrRotationNotSupported = errors.New("asymmetric keys cannot be rotated")
	// ErrUnsupportedAlgorithm: the algorithm is unknown or the key's spec does
	// not support it.
	ErrUnsupportedAlgorithm = errors.New("algorithm not supported for this key")
	// ErrUnsupportedKeySpec: the backend cannot make keys of this spec.
	ErrUnsupportedKeySpec = errors.New("key spec not supported by this backend")
	// ErrHSMUnavailable: HSM protection was asked of a server without an HSM.
	ErrHSMUnavailable = errors.New("no HSM is configured on this server")
	// ErrTokenExpired: import parameters expired, were used, or never existed.
	ErrTokenExpired = errors.New("import token expired or used")
	// ErrDecryptMaterial: wrapped material does not unwrap.
	ErrDecryptMaterial = errors.New("wrapped key material does not decrypt")
	// ErrMaterialNotMatch: other material than the key was bound to.
	ErrMaterialNotMatch = errors.New("key material does not match the key's first import")
	// ErrNotExternal: the key does not take imported material.
	ErrNotExternal = errors.New("key is not an EXTERNAL key")
	// ErrInvalidPendingWindow: a deletion window outside 7 to 30 days.
	ErrInvalidPendingWindow = errors.New("pending window must be 7 to 30 days")
	// ErrNotUserCreated: a service key cannot be changed this way.
	ErrNotUserCreated = errors.New("key was created by a service, not a user")

	// ErrUserNotFound: the account has no such sub-user.
	ErrUserNotFound = errors.New("user not found")
	// ErrUserExists: another user of the account has the name.
	ErrUserExists = errors.New("user name already in use")
	// ErrInvalidUserName: a user name breaks the naming rules.
	ErrInvalidUserName = errors.New("invalid user name")
	// ErrPolicyNotFound: the account has no such policy.
	ErrPolicyNotFound = errors.New("policy not found")
	// ErrPolicyExists: another policy of the account has the name.
	ErrPolicyExists = errors.New("policy name already in use")
	// ErrInvalidPolicy: the policy document or name is malformed.
	ErrInvalidPolicy = errors.New("invalid policy")
	// ErrAccessKeyLimit: the principal already has two active access keys.
	ErrAccessKeyLimit = errors.New("at most 2 active access keys per user")
	// ErrUserHasKeys: DeleteUser without Force on a user with access keys.
	ErrUserHasKeys = errors.New("user still has access keys")
	// ErrUnauthorized: the caller's policies do not allow the request.
	ErrUnauthorized = errors.New("not authorized")

	// ErrAccessKeyNotFound: no access key with this SecretId.
	ErrAccessKeyNotFound = errors.New("access key not found")
	// ErrAccessKeyInactive: the access key exists but is disabled.
	ErrAccessKeyInactive = errors.New("access key is inactive")
)

// Errors lists every domain error, for the dialects' completeness tests.
var Errors = []error{
	ErrKeyNotFound, ErrInvalidKeyID, ErrDuplicatedKeyID, ErrAliasExists,
	ErrInvalidAlias, ErrInvalidKeyUsage, ErrInvalidType, ErrInvalidCiphertext,
	ErrInvalidPlaintext, ErrInvalidParameter, ErrTagKeysDuplicated,
	ErrKeyDisabled, ErrKeyArchived, ErrKeyPendingDelete, ErrInvalidKeyState,
	ErrKeyDeleted, ErrNotPendingDelete, ErrShouldBeDisabled, ErrExternalCannotRotate,
	ErrRotationNotSupported, ErrInvalidPendingWindow, ErrUnsupportedAlgorithm, ErrUnsupportedKeySpec,
	ErrHSMUnavailable, ErrTokenExpired, ErrDecryptMaterial, ErrMaterialNotMatch, ErrNotExternal,
	ErrNotUserCreated, ErrAccessKeyNotFound, ErrAccessKeyInactive,
	ErrUserNotFound, ErrUserExists, ErrInvalidUserName, ErrPolicyNotFound, ErrPolicyExists,
	ErrInvalidPolicy, ErrAccessKeyLimit, ErrUserHasKeys, ErrUnauthorized,
}
