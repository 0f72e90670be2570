package tencent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/keyhaven/keyhaven/kms"
)

// TestErrorTableComplete checks that every kms error has a Tencent code, that
// wrapped errors keep it, and that unknown errors become InternalError.
func TestErrorTableComplete(t *testing.T) {
	for _, err := range kms.Errors {
		e, internal := toError(fmt.Errorf("context: %w", err))
		if internal || e.Code == codeInternal {
			t.Errorf("toError(%v) = %s, want a mapped code", err, e.Code)
		}
	}
	if e, internal := toError(errors.New("disk on fire")); !internal || e.Code != codeInternal {
		t.Errorf("toError(unknown) = %s, %v; want InternalError", e.Code, internal)
	}
}

// TestErrorCodesExist checks every code the dialect sends against the SDK's
// errors.go and Tencent Cloud API's common codes.
func TestErrorCodesExist(t *testing.T) {
	sdk := sdkErrorCodes(t)
	common := map[string]bool{
		"AuthFailure.SignatureFailure": true, "AuthFailure.SignatureExpire": true, "AuthFailure.SecretIdNotFound": true,
		codeInvalidAction: true, codeNoSuchVersion: true, codeUnsupportedReg: true, codeUnknownParam: true,
		codeInvalidParam: true, codeMissingParam: true, codeRequestTooLarge: true, codeUnsupportedOp: true,
		codeUnsupportedProto: true, codeInternal: true, codeInvalidValue: true,
		// Tencent CAM's codes (cam/v20190116/errors.go), for the cam service.
		"ResourceNotFound.SecretNotExist": true, "ResourceNotFound.UserNotExist": true,
		"InvalidParameter.SubUserNameInUse": true, "InvalidParameter.UserNameIllegal": true,
		"ResourceNotFound.PolicyIdNotFound": true, "FailedOperation.PolicyNameInUse": true,
		"InvalidParameter.PolicyDocumentError": true, "OperationDenied.AccessKeyOverLimit": true,
		"OperationDenied.HaveKeys": true,
	}
	for _, m := range errorCodes {
		if !sdk[m.code] && !common[m.code] {
			t.Errorf("code %s (for %v) is neither in the SDK's errors.go nor a common code", m.code, m.err)
		}
	}
}

// sdkErrorCodes reads the codes of the SDK's kms/v20190118/errors.go from the
// module cache.
func sdkErrorCodes(t *testing.T) map[string]bool {
	t.Helper()
	gopath := os.Getenv("GOMODCACHE")
	if gopath == "" {
		home, _ := os.UserHomeDir()
		gopath = filepath.Join(home, "go", "pkg", "mod")
	}
	src, err := os.ReadFile(filepath.Join(gopath, "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms@v1.0.563/v20190118/errors.go"))
	if err != nil {
		t.Skipf("the SDK's errors.go is not in the module cache: %v", err)
	}
	codes := map[string]bool{}
	for _, m := range regexp.MustCompile(`= "([A-Za-z.]+)"`).FindAllSubmatch(src, -1) {
		codes[string(m[1])] = true
	}
	if len(codes) < 40 {
		t.Fatalf("read only %d codes from the SDK's errors.go", len(codes))
	}
	return codes
}
