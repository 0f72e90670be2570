package tencent_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	tkms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms/v20190118"
)

// cam sends a cam action (version 2019-01-16) with the SDK's common client,
// signed by the given access key.
func (e *env) cam(secretID, secretKey, action string, params map[string]any) (map[string]any, error) {
	e.t.Helper()
	return e.callAPI(secretID, secretKey, "cam", "2019-01-16", action, params)
}

// callAPI sends any action of any service with the SDK's common client.
func (e *env) callAPI(secretID, secretKey, service, version, action string, params map[string]any) (map[string]any, error) {
	e.t.Helper()
	p := profile.NewClientProfile()
	p.HttpProfile.Endpoint, p.HttpProfile.Scheme = e.addr, "http"
	c := common.NewCommonClient(common.NewCredential(secretID, secretKey), "local", p)
	req := tchttp.NewCommonRequest(service, version, action)
	if err := req.SetActionParameters(params); err != nil {
		e.t.Fatal(err)
	}
	resp := tchttp.NewCommonResponse()
	if err := c.Send(req, resp); err != nil {
		return nil, err
	}
	var out struct{ Response map[string]any }
	if err := json.Unmarshal(resp.GetBody(), &out); err != nil {
		e.t.Fatal(err)
	}
	return out.Response, nil
}

// subUser is a sub-user made through the cam API, with its SDK client.
type subUser struct {
	uin              uint64
	secretID, secret string
	client           *tkms.Client
}

// addUser creates a sub-user with an access key and attaches a new policy
// holding document to it.
func (e *env) addUser(name, document string) subUser {
	e.t.Helper()
	r, err := e.cam(testSecretID, testSecretKey, "AddUser", map[string]any{"Name": name, "UseApi": 1})
	if err != nil {
		e.t.Fatalf("AddUser: %v", err)
	}
	u := subUser{uin: uint64(r["Uin"].(float64)), secretID: r["SecretId"].(string), secret: r["SecretKey"].(string)}
	u.client = e.newClient(u.secretID, u.secret, "local")
	if document != "" {
		p, err := e.cam(testSecretID, testSecretKey, "CreatePolicy", map[string]any{"PolicyName": "p-" + name, "PolicyDocument": document})
		if err != nil {
			e.t.Fatalf("CreatePolicy(%s): %v", document, err)
		}
		if _, err := e.cam(testSecretID, testSecretKey, "AttachUserPolicy", map[string]any{"PolicyId": p["PolicyId"], "AttachUin": u.uin}); err != nil {
			e.t.Fatalf("AttachUserPolicy: %v", err)
		}
	}
	return u
}

func policy(statements ...string) string {
	return `{"version":"2.0","statement":[` + strings.Join(statements, ",") + `]}`
}

// TestSubUserPermissions signs as sub-users with the official SDK and checks
// what their policies allow and deny.
func TestSubUserPermissions(t *testing.T) {
	e := start(t, "")
	open := createKey(t, e.client, "open")
	closed := createKey(t, e.client, "closed")
	tagged := func() string {
		req := tkms.NewCreateKeyRequest()
		req.Alias = common.StringPtr("tagged")
		req.Tags = []*tkms.Tag{{TagKey: common.StringPtr("env"), TagValue: common.StringPtr("prod")}}
		resp, err := e.client.CreateKey(req)
		if err != nil {
			t.Fatal(err)
		}
		return *resp.Response.KeyId
	}()
	res := func(id string) string { return "qcs::kms:local:uin/" + e.srv.Root.AccountID + ":key/" + id }

	// Encrypt and Decrypt on one key only.
	narrow := e.addUser("narrow", policy(`{"effect":"allow","action":["kms:Encrypt","kms:Decrypt"],"resource":["`+res(open)+`"]}`))
	blob, err := encrypt(t, narrow.client, open, []byte("x"), "")
	if err != nil {
		t.Fatalf("allowed Encrypt: %v", err)
	}
	if _, _, err := decrypt(narrow.client, blob, ""); err != nil {
		t.Errorf("allowed Decrypt: %v", err)
	}
	if _, err := encrypt(t, narrow.client, closed, []byte("x"), ""); code(t, err) != "UnauthorizedOperation" {
		t.Errorf("Encrypt with another key: %v, want UnauthorizedOperation", err)
	}
	dreq := tkms.NewDescribeKeyRequest()
	dreq.KeyId = common.StringPtr(open)
	if _, err := narrow.client.DescribeKey(dreq); code(t, err) != "UnauthorizedOperation" {
		t.Errorf("DescribeKey not in the policy: %v, want UnauthorizedOperation", err)
	}
	if _, err := narrow.client.CreateKey(aliasReq("mine")); code(t, err) != "UnauthorizedOperation" {
		t.Errorf("CreateKey not in the policy: %v, want UnauthorizedOperation", err)
	}
	if _, err := e.cam(narrow.secretID, narrow.secret, "AddUser", map[string]any{"Name": "evil"}); code(t, err) != "UnauthorizedOperation" {
		t.Errorf("AddUser by a sub-user: %v, want UnauthorizedOperation", err)
	}

	// kms:* with a deny on one key: the deny wins.
	wide := e.addUser("wide", policy(`{"effect":"allow","action":"kms:*","resource":"*"}`, `{"effect":"deny","action":"kms:*","resource":"`+res(closed)+`"}`))
	if _, err := encrypt(t, wide.client, open, []byte("x"), ""); err != nil {
		t.Errorf("kms:* Encrypt: %v", err)
	}
	if _, err := encrypt(t, wide.client, closed, []byte("x"), ""); code(t, err) != "UnauthorizedOperation" {
		t.Errorf("Encrypt on the denied key: %v, want UnauthorizedOperation", err)
	}
	list, err := wide.client.ListKeys(tkms.NewListKeysRequest())
	if err != nil || *list.Response.TotalCount != 2 {
		t.Errorf("ListKeys by a user denied one of three keys = %v, %v; want 2", list, err)
	}
	for _, k := range list.Response.Keys {
		if *k.KeyId == closed {
			t.Error("ListKeys shows the denied key")
		}
	}
	dis := tkms.NewDisableKeyRequest()
	dis.KeyId = common.StringPtr(closed)
	if _, err := wide.client.DisableKey(dis); code(t, err) != "UnauthorizedOperation" {
		t.Errorf("DisableKey on the denied key: %v, want UnauthorizedOperation", err)
	}
	if s := *describe(t, e.client, closed).KeyState; s != "Enabled" {
		t.Errorf("a denied DisableKey changed the key to %s", s)
	}

	// IP conditions: loopback allowed, another range not.
	local := e.addUser("local", policy(`{"effect":"allow","action":"kms:Encrypt","resource":"*","condition":{"ip_equal":{"qcs:ip":["127.0.0.0/8"]}}}`))
	if _, err := encrypt(t, local.client, open, []byte("x"), ""); err != nil {
		t.Errorf("Encrypt from an allowed address: %v", err)
	}
	remote := e.addUser("remote", policy(`{"effect":"allow","action":"kms:Encrypt","resource":"*","condition":{"ip_equal":{"qcs:ip":["10.0.0.0/8"]}}}`))
	if _, err := encrypt(t, remote.client, open, []byte("x"), ""); code(t, err) != "UnauthorizedOperation" {
		t.Errorf("Encrypt from an address outside the policy's range: %v, want UnauthorizedOperation", err)
	}

	// Alias and tag conditions.
	byAlias := e.addUser("byalias", policy(`{"effect":"allow","action":"kms:Encrypt","resource":"*","condition":{"string_like":{"kms:alias":["op*"]}}}`))
	if _, err := encrypt(t, byAlias.client, open, []byte("x"), ""); err != nil {
		t.Errorf("Encrypt with an alias the condition allows: %v", err)
	}
	if _, err := encrypt(t, byAlias.client, closed, []byte("x"), ""); code(t, err) != "UnauthorizedOperation" {
		t.Errorf("Encrypt with an alias the condition does not allow: %v, want UnauthorizedOperation", err)
	}
	byTag := e.addUser("bytag", policy(`{"effect":"allow","action":["kms:Encrypt","kms:ListKeyDetail"],"resource":"*","condition":{"string_equal":{"qcs:resource_tag":["env&prod"]}}}`))
	if _, err := encrypt(t, byTag.client, tagged, []byte("x"), ""); err != nil {
		t.Errorf("Encrypt with a tag the condition allows: %v", err)
	}
	if _, err := encrypt(t, byTag.client, open, []byte("x"), ""); code(t, err) != "UnauthorizedOperation" {
		t.Errorf("Encrypt with a key without the tag: %v, want UnauthorizedOperation", err)
	}

	// Encryption context condition.
	byContext := e.addUser("byctx", policy(`{"effect":"allow","action":"kms:Encrypt","resource":"*","condition":{"string_equal":{"kms:encryption_context/app":["billing"]}}}`))
	if _, err := encrypt(t, byContext.client, open, []byte("x"), `{"app":"billing"}`); err != nil {
		t.Errorf("Encrypt with the allowed context: %v", err)
	}
	if _, err := encrypt(t, byContext.client, open, []byte("x"), `{"app":"crm"}`); code(t, err) != "UnauthorizedOperation" {
		t.Errorf("Encrypt with another context: %v, want UnauthorizedOperation", err)
	}

	// A disabled access key is refused; enabled again, it works.
	if _, err := e.cam(testSecretID, testSecretKey, "UpdateAccessKey", map[string]any{"AccessKeyId": wide.secretID, "Status": "Inactive", "TargetUin": wide.uin}); err != nil {
		t.Fatalf("UpdateAccessKey: %v", err)
	}
	if _, err := encrypt(t, wide.client, open, []byte("x"), ""); code(t, err) != "AuthFailure.SecretIdNotFound" {
		t.Errorf("request with a disabled access key: %v, want AuthFailure.SecretIdNotFound", err)
	}
	if _, err := e.cam(testSecretID, testSecretKey, "UpdateAccessKey", map[string]any{"AccessKeyId": wide.secretID, "Status": "Active", "TargetUin": wide.uin}); err != nil {
		t.Fatal(err)
	}
	if _, err := encrypt(t, wide.client, open, []byte("x"), ""); err != nil {
		t.Errorf("request with the re-enabled key: %v", err)
	}
}

// TestEveryActionIsAuthorized sends every KMS action, well formed, as a
// sub-user without policies: each must be refused with UnauthorizedOperation.
func TestEveryActionIsAuthorized(t *testing.T) {
	e := start(t, "")
	keyID := createKey(t, e.client, "k")
	signKey := createAsymmetric(t, e.client, "s", "ASYMMETRIC_SIGN_VERIFY_ECC")
	blob, _ := encrypt(t, e.client, keyID, []byte("x"), "")
	nobody := e.addUser("nobody", "")
	b64 := base64.StdEncoding.EncodeToString([]byte("m"))
	bodies := map[string]string{
		"CreateKey": `{"Alias":"x"}`, "DescribeKey": `{"KeyId":"KEY"}`, "DescribeKeys": `{"KeyIds":["KEY"]}`,
		"ListKeys": `{}`, "ListKeyDetail": `{}`, "UpdateAlias": `{"KeyId":"KEY","Alias":"y"}`,
		"UpdateKeyDescription": `{"KeyId":"KEY","Description":"d"}`, "EnableKey": `{"KeyId":"KEY"}`,
		"DisableKey": `{"KeyId":"KEY"}`, "EnableKeys": `{"KeyIds":["KEY"]}`, "DisableKeys": `{"KeyIds":["KEY"]}`,
		"Encrypt": `{"KeyId":"KEY","Plaintext":"` + b64 + `"}`, "Decrypt": `{"CiphertextBlob":"BLOB"}`,
		"ReEncrypt": `{"CiphertextBlob":"BLOB"}`, "GenerateDataKey": `{"KeyId":"KEY","KeySpec":"AES_256"}`,
		"GenerateRandom": `{"NumberOfBytes":8}`, "GetServiceStatus": `{}`, "GetRegions": `{}`, "ListAlgorithms": `{}`,
		"EnableKeyRotation": `{"KeyId":"KEY"}`, "DisableKeyRotation": `{"KeyId":"KEY"}`,
		"GetKeyRotationStatus": `{"KeyId":"KEY"}`, "RotateKey": `{"KeyId":"KEY"}`, "ArchiveKey": `{"KeyId":"KEY"}`,
		"CancelKeyArchive": `{"KeyId":"KEY"}`, "ScheduleKeyDeletion": `{"KeyId":"KEY","PendingWindowInDays":7}`,
		"CancelKeyDeletion": `{"KeyId":"KEY"}`, "GetPublicKey": `{"KeyId":"SIGNKEY"}`,
		"AsymmetricRsaDecrypt":      `{"KeyId":"SIGNKEY","Ciphertext":"` + b64 + `","Algorithm":"RSAES_OAEP_SHA_256"}`,
		"AsymmetricSm2Decrypt":      `{"KeyId":"SIGNKEY","Ciphertext":"` + b64 + `"}`,
		"SignByAsymmetricKey":       `{"KeyId":"SIGNKEY","Algorithm":"ECC_P256_R1","Message":"` + b64 + `"}`,
		"VerifyByAsymmetricKey":     `{"KeyId":"SIGNKEY","Algorithm":"ECC_P256_R1","Message":"` + b64 + `","SignatureValue":"` + b64 + `"}`,
		"GetParametersForImport":    `{"KeyId":"KEY","WrappingAlgorithm":"RSAES_OAEP_SHA_256","WrappingKeySpec":"RSA_2048"}`,
		"ImportKeyMaterial":         `{"KeyId":"KEY","ImportToken":"t","EncryptedKeyMaterial":"` + b64 + `"}`,
		"DeleteImportedKeyMaterial": `{"KeyId":"KEY"}`,
	}
	for action, body := range bodies {
		body = strings.NewReplacer("SIGNKEY", signKey, "KEY", keyID, "BLOB", blob).Replace(body)
		if got, resp := sendAs(t, e.addr, nobody.secretID, nobody.secret, action, "2019-01-18", []byte(body), time.Now()); got != "UnauthorizedOperation" {
			t.Errorf("%s by a user without policies = %q (%v), want UnauthorizedOperation", action, got, resp["Error"])
		}
	}
	for _, action := range []string{"AddUser", "ListUsers", "CreatePolicy", "ListPolicies", "CreateAccessKey", "ListAccessKeys"} {
		if _, err := e.cam(nobody.secretID, nobody.secret, action, map[string]any{}); code(t, err) != "UnauthorizedOperation" && code(t, err) != "MissingParameter" {
			t.Errorf("cam %s by a user without policies: %v, want UnauthorizedOperation", action, err)
		}
	}
	if n := keyCount(t, e); n != 2 {
		t.Errorf("%d keys after refused requests, want 2", n)
	}
}
