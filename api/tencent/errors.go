package tencent

import (
	"errors"

	"github.com/keyhaven/keyhaven/kms"
)

// Error is a Tencent error code with a message safe to show the client.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Common Tencent Cloud API codes used by the dialect itself.
const (
	codeInternal         = "InternalError"
	codeInvalidAction    = "InvalidAction"
	codeNoSuchVersion    = "NoSuchVersion"
	codeUnsupportedReg   = "UnsupportedRegion"
	codeUnknownParam     = "UnknownParameter"
	codeInvalidParam     = "InvalidParameter"
	codeInvalidValue     = "InvalidParameterValue"
	codeMissingParam     = "MissingParameter"
	codeRequestTooLarge  = "RequestSizeLimitExceeded"
	codeUnsupportedOp    = "UnsupportedOperation"
	codeUnsupportedProto = "UnsupportedProtocol"
)

// errorCodes is the one table from domain errors to Tencent codes; a test
// checks that every kms error is in it.
var errorCodes = []struct {
	err  error
	code string
}{
	{kms.ErrKeyNotFound, "ResourceUnavailable.CmkNotFound"},
	{kms.ErrInvalidKeyID, "InvalidParameterValue.InvalidKeyId"},
	{kms.ErrDuplicatedKeyID, "InvalidParameterValue.DuplicatedKeyId"},
	{kms.ErrAliasExists, "InvalidParameterValue.AliasAlreadyExists"},
	{kms.ErrInvalidAlias, "InvalidParameterValue.InvalidAlias"},
	{kms.ErrInvalidKeyUsage, "InvalidParameterValue.InvalidKeyUsage"},
	{kms.ErrInvalidType, "InvalidParameterValue.InvalidType"},
	{kms.ErrInvalidCiphertext, "InvalidParameterValue.InvalidCiphertext"},
	{kms.ErrInvalidPlaintext, "InvalidParameterValue.InvalidPlaintext"},
	{kms.ErrInvalidParameter, codeInvalidValue},
	{kms.ErrTagKeysDuplicated, "InvalidParameterValue.TagKeysDuplicated"},
	{kms.ErrKeyDisabled, "ResourceUnavailable.CmkDisabled"},
	{kms.ErrKeyArchived, "ResourceUnavailable.CmkArchived"},
	{kms.ErrKeyPendingDelete, "ResourceUnavailable.KeyPendingDelete"},
	{kms.ErrInvalidKeyState, "ResourceUnavailable.CmkStateNotSupport"},
	{kms.ErrKeyDeleted, "ResourceUnavailable.CmkNotFound"},
	{kms.ErrNotPendingDelete, "ResourceUnavailable.CmkNotPendingDelete"},
	{kms.ErrShouldBeDisabled, "ResourceUnavailable.CmkShouldBeDisabled"},
	{kms.ErrExternalCannotRotate, "UnsupportedOperation.ExternalCmkCanNotRotate"},
	{kms.ErrRotationNotSupported, codeUnsupportedOp},
	{kms.ErrUnsupportedAlgorithm, codeUnsupportedOp},
	{kms.ErrUnsupportedKeySpec, codeUnsupportedOp},
	{kms.ErrHSMUnavailable, codeUnsupportedOp},
	{kms.ErrTokenExpired, "ResourceUnavailable.TokenExpired"},
	{kms.ErrDecryptMaterial, "InvalidParameter.DecryptMaterialError"},
	{kms.ErrMaterialNotMatch, "InvalidParameterValue.MaterialNotMatch"},
	{kms.ErrNotExternal, "UnsupportedOperation.NotExternalCmk"},
	{kms.ErrInvalidPendingWindow, "InvalidParameter.InvalidPendingWindowInDays"},
	{kms.ErrNotUserCreated, "UnsupportedOperation.NotUserCreatedCmk"},
	{kms.ErrAccessKeyNotFound, "ResourceNotFound.SecretNotExist"},
	{kms.ErrAccessKeyInactive, "AuthFailure.SecretIdNotFound"},
	{kms.ErrUserNotFound, "ResourceNotFound.UserNotExist"},
	{kms.ErrUserExists, "InvalidParameter.SubUserNameInUse"},
	{kms.ErrInvalidUserName, "InvalidParameter.UserNameIllegal"},
	{kms.ErrPolicyNotFound, "ResourceNotFound.PolicyIdNotFound"},
	{kms.ErrPolicyExists, "FailedOperation.PolicyNameInUse"},
	{kms.ErrInvalidPolicy, "InvalidParameter.PolicyDocumentError"},
	{kms.ErrAccessKeyLimit, "OperationDenied.AccessKeyOverLimit"},
	{kms.ErrUserHasKeys, "OperationDenied.HaveKeys"},
	{kms.ErrUnauthorized, "UnauthorizedOperation"},
}

// toError maps any error to a Tencent error. Domain errors keep their
// message, which never holds secrets; anything unknown becomes InternalError
// and the caller logs the detail.
func toError(err error) (e *Error, internal bool) {
	if errors.As(err, &e) {
		return e, false
	}
	for _, m := range errorCodes {
		if errors.Is(err, m.err) {
			return &Error{Code: m.code, Message: err.Error()}, false
		}
	}
	return &Error{Code: codeInternal, Message: "internal error; the server log has details under this RequestId"}, true
}
