package tencent_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tkms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms/v20190118"

	"github.com/keyhaven/keyhaven/server"
)

// keyCount lists the root account's keys and returns how many there are.
func keyCount(t *testing.T, e *env) uint64 {
	t.Helper()
	resp, err := e.client.ListKeys(tkms.NewListKeysRequest())
	if err != nil {
		t.Fatalf("ListKeys: %v", err)
	}
	return *resp.Response.TotalCount
}

// TestSignatureRefusals sends badly signed requests; each is refused with its
// code and changes nothing.
func TestSignatureRefusals(t *testing.T) {
	e := start(t, "")
	keyID := createKey(t, e.client, "victim")
	createBody := []byte(`{"Alias":"intruder"}`)

	rec := &recorder{}
	captured := e.newClientWith(testSecretID, testSecretKey, "local", rec)
	req := tkms.NewDisableKeyRequest()
	req.KeyId = common.StringPtr("00000000-0000-4000-8000-000000000000")
	if _, err := captured.DisableKey(req); code(t, err) != "ResourceUnavailable.CmkNotFound" {
		t.Fatalf("DisableKey(unknown key): %v, want ResourceUnavailable.CmkNotFound", err)
	}

	cases := []struct {
		name string
		send func() string
		want string
	}{
		{"wrong SecretKey", func() string {
			_, err := e.newClient(testSecretID, "not-the-secret-key-at-all-000000", "local").CreateKey(aliasReq("intruder"))
			return code(t, err)
		}, "AuthFailure.SignatureFailure"},
		{"unknown SecretId", func() string {
			_, err := e.newClient("AKIDnosuchkey000000000000000000000", testSecretKey, "local").CreateKey(aliasReq("intruder"))
			return code(t, err)
		}, "AuthFailure.SecretIdNotFound"},
		{"timestamp 6 minutes old", func() string {
			c, _ := e.raw("CreateKey", "2019-01-18", createBody, time.Now().Add(-6*time.Minute), testSecretKey)
			return c
		}, "AuthFailure.SignatureExpire"},
		{"timestamp 6 minutes ahead", func() string {
			c, _ := e.raw("CreateKey", "2019-01-18", createBody, time.Now().Add(6*time.Minute), testSecretKey)
			return c
		}, "AuthFailure.SignatureExpire"},
		{"replayed with another body", func() string {
			c, _ := e.replay(rec, []byte(`{"KeyId":"`+keyID+`"}`), nil)
			return c
		}, "AuthFailure.SignatureFailure"},
		{"missing Authorization", func() string {
			c, _ := e.replay(rec, nil, map[string]string{"Authorization": ""})
			return c
		}, "MissingParameter"},
		{"missing X-TC-Timestamp", func() string {
			c, _ := e.replay(rec, nil, map[string]string{"X-TC-Timestamp": ""})
			return c
		}, "MissingParameter"},
		{"missing X-TC-Action", func() string {
			c, _ := e.replay(rec, nil, map[string]string{"X-TC-Action": ""})
			return c
		}, "MissingParameter"},
		{"missing X-TC-Version", func() string {
			c, _ := e.replay(rec, nil, map[string]string{"X-TC-Version": ""})
			return c
		}, "MissingParameter"},
		{"unsigned payload", func() string {
			c, _ := e.replay(rec, []byte(`{"KeyId":"`+keyID+`"}`), map[string]string{"X-TC-Content-SHA256": "UNSIGNED-PAYLOAD"})
			return c
		}, "AuthFailure.SignatureFailure"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.send(); got != tc.want {
				t.Errorf("code = %q, want %q", got, tc.want)
			}
		})
	}
	if n := keyCount(t, e); n != 1 {
		t.Errorf("after refused requests there are %d keys, want 1", n)
	}
	if s := *describe(t, e.client, keyID).KeyState; s != "Enabled" {
		t.Errorf("after refused requests the key is %s, want Enabled", s)
	}
}

func aliasReq(alias string) *tkms.CreateKeyRequest {
	req := tkms.NewCreateKeyRequest()
	req.Alias = common.StringPtr(alias)
	return req
}

// replay resends the recorded request, with body and headers replaced where
// given (an empty header value deletes the header).
func (e *env) replay(rec *recorder, body []byte, headers map[string]string) (string, map[string]any) {
	e.t.Helper()
	rec.mu.Lock()
	h, b := rec.header.Clone(), rec.body
	rec.mu.Unlock()
	if body != nil {
		b = body
	}
	req, err := http.NewRequest(http.MethodPost, "http://"+e.addr+"/", bytes.NewReader(b))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header = h
	for name, v := range headers {
		for k := range req.Header { // the SDK sends names like X-TC-Action, not canonical
			if strings.EqualFold(k, name) {
				delete(req.Header, k)
			}
		}
		if v != "" {
			req.Header.Set(name, v)
		}
	}
	return e.do(req)
}

// TestRequestRefusals covers malformed and out-of-contract requests.
func TestRequestRefusals(t *testing.T) {
	e := start(t, "")
	keyID := createKey(t, e.client, "k1")
	now := time.Now()
	big := make([]byte, 70<<10)
	cases := []struct {
		name, action, version, body, want string
	}{
		{"unknown action", "NoSuchAction", "2019-01-18", `{}`, "InvalidAction"},
		{"wrong version", "ListKeys", "2017-03-12", `{}`, "NoSuchVersion"},
		{"malformed JSON", "ListKeys", "2019-01-18", `{"Limit":`, "InvalidParameter"},
		{"wrong type", "ListKeys", "2019-01-18", `{"Limit":"ten"}`, "InvalidParameter"},
		{"unknown parameter", "ListKeys", "2019-01-18", `{"Colour":"red"}`, "UnknownParameter"},
		{"missing parameter", "Encrypt", "2019-01-18", `{"Plaintext":"aGk="}`, "MissingParameter"},
		{"body over 64 KiB", "Encrypt", "2019-01-18", `{"KeyId":"` + keyID + `","Plaintext":"` + base64.StdEncoding.EncodeToString(big) + `"}`, "RequestSizeLimitExceeded"},
		{"plaintext over 4096 bytes", "Encrypt", "2019-01-18", `{"KeyId":"` + keyID + `","Plaintext":"` + base64.StdEncoding.EncodeToString(big[:4097]) + `"}`, "InvalidParameterValue.InvalidPlaintext"},
		{"plaintext not base64", "Encrypt", "2019-01-18", `{"KeyId":"` + keyID + `","Plaintext":"%%%"}`, "InvalidParameterValue"},
		{"context not JSON", "Encrypt", "2019-01-18", `{"KeyId":"` + keyID + `","Plaintext":"aGk=","EncryptionContext":"a=b"}`, "InvalidParameterValue"},
		{"malformed KeyId", "DescribeKey", "2019-01-18", `{"KeyId":"not-a-key"}`, "InvalidParameterValue.InvalidKeyId"},
		{"unknown KeyId", "Encrypt", "2019-01-18", `{"KeyId":"00000000-0000-4000-8000-000000000000","Plaintext":"aGk="}`, "ResourceUnavailable.CmkNotFound"},
		{"invalid alias", "CreateKey", "2019-01-18", `{"Alias":"-starts-with-dash"}`, "InvalidParameterValue.InvalidAlias"},
		{"alias too long", "CreateKey", "2019-01-18", `{"Alias":"` + strings.Repeat("a", 61) + `"}`, "InvalidParameterValue.InvalidAlias"},
		{"reserved alias prefix", "CreateKey", "2019-01-18", `{"Alias":"kms-cos"}`, "InvalidParameterValue.InvalidAlias"},
		{"alias exists", "CreateKey", "2019-01-18", `{"Alias":"k1"}`, "InvalidParameterValue.AliasAlreadyExists"},
		{"description too long", "CreateKey", "2019-01-18", `{"Alias":"k2","Description":"` + strings.Repeat("d", 1025) + `"}`, "InvalidParameterValue"},
		{"unsupported key usage", "CreateKey", "2019-01-18", `{"Alias":"k2","KeyUsage":"SIGN_EVERYTHING"}`, "InvalidParameterValue.InvalidKeyUsage"},
		{"HSM without an HSM", "CreateKey", "2019-01-18", `{"Alias":"k2","ProtectionLevel":"HSM"}`, "UnsupportedOperation"},
		{"unknown protection level", "CreateKey", "2019-01-18", `{"Alias":"k2","ProtectionLevel":"TPM"}`, "InvalidParameterValue"},
		{"bad type", "CreateKey", "2019-01-18", `{"Alias":"k2","Type":7}`, "InvalidParameterValue.InvalidType"},
		{"duplicated tag keys", "CreateKey", "2019-01-18", `{"Alias":"k2","Tags":[{"TagKey":"a","TagValue":"1"},{"TagKey":"a","TagValue":"2"}]}`, "InvalidParameterValue.TagKeysDuplicated"},
		{"duplicated KeyIds", "DisableKeys", "2019-01-18", `{"KeyIds":["` + keyID + `","` + keyID + `"]}`, "InvalidParameterValue.DuplicatedKeyId"},
		{"batch with an unknown key", "DisableKeys", "2019-01-18", `{"KeyIds":["` + keyID + `","00000000-0000-4000-8000-000000000000"]}`, "ResourceUnavailable.CmkNotFound"},
		{"data key of 0 bytes", "GenerateDataKey", "2019-01-18", `{"KeyId":"` + keyID + `","NumberOfBytes":0}`, "InvalidParameterValue"},
		{"data key of 1025 bytes", "GenerateDataKey", "2019-01-18", `{"KeyId":"` + keyID + `","NumberOfBytes":1025}`, "InvalidParameterValue"},
		{"data key spec unknown", "GenerateDataKey", "2019-01-18", `{"KeyId":"` + keyID + `","KeySpec":"AES_512"}`, "InvalidParameterValue"},
		{"random of 1025 bytes", "GenerateRandom", "2019-01-18", `{"NumberOfBytes":1025}`, "InvalidParameterValue"},
		{"ciphertext not base64", "Decrypt", "2019-01-18", `{"CiphertextBlob":"***"}`, "InvalidParameterValue.InvalidCiphertext"},
		{"ciphertext garbage", "Decrypt", "2019-01-18", `{"CiphertextBlob":"aGVsbG8="}`, "InvalidParameterValue.InvalidCiphertext"},
		{"list limit 0", "ListKeys", "2019-01-18", `{"Limit":0}`, "InvalidParameterValue"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, resp := e.raw(tc.action, tc.version, []byte(tc.body), now, testSecretKey)
			if got != tc.want {
				t.Errorf("%s %s = %q (%v), want %q", tc.action, tc.body[:min(len(tc.body), 80)], got, resp["Error"], tc.want)
			}
		})
	}
	if n := keyCount(t, e); n != 1 {
		t.Errorf("after refused requests there are %d keys, want 1", n)
	}
	if s := *describe(t, e.client, keyID).KeyState; s != "Enabled" {
		t.Errorf("after refused batch the key is %s, want Enabled", s)
	}
	if _, err := e.newClient(testSecretID, testSecretKey, "ap-guangzhou").ListKeys(tkms.NewListKeysRequest()); code(t, err) != "UnsupportedRegion" {
		t.Errorf("request for another region: %v, want UnsupportedRegion", err)
	}
}

// TestTampering flips every bit of a ciphertext blob, truncates it at every
// length, and varies the context: every variant fails cleanly.
func TestTampering(t *testing.T) {
	e := start(t, "")
	keyID := createKey(t, e.client, "tamper")
	encCtx := `{"k":"v"}`
	blobB64, err := encrypt(t, e.client, keyID, []byte("attack at dawn"), encCtx)
	if err != nil {
		t.Fatal(err)
	}
	blob, _ := base64.StdEncoding.DecodeString(blobB64)
	check := func(what string, b []byte, ctx string) {
		_, _, err := decrypt(e.client, base64.StdEncoding.EncodeToString(b), ctx)
		switch c := code(t, err); c {
		case "InvalidParameterValue.InvalidCiphertext":
		default:
			t.Errorf("Decrypt(%s) code = %q, want InvalidParameterValue.InvalidCiphertext", what, c)
		}
	}
	flipped := make([]byte, len(blob))
	for i := range len(blob) * 8 {
		copy(flipped, blob)
		flipped[i/8] ^= 1 << (i % 8)
		check("bit "+itoa(i)+" flipped", flipped, encCtx)
	}
	for n := 1; n < len(blob); n++ {
		check("truncated to "+itoa(n), blob[:n], encCtx)
	}
	check("one byte appended", append(bytes.Clone(blob), 0), encCtx)
	for _, ctx := range []string{"", `{"k":"w"}`, `{"K":"v"}`, `{"k":"v","x":""}`, `{"kv":""}`, `{"k":"v "}`} {
		check("context "+ctx, blob, ctx)
	}
	ctxBytes := []byte(encCtx)
	for i := range len(ctxBytes) * 8 {
		c := bytes.Clone(ctxBytes)
		c[i/8] ^= 1 << (i % 8)
		if !json.Valid(c) {
			continue // not a context at all; refused before decryption
		}
		check("context bit "+itoa(i)+" flipped", blob, string(c))
	}
	if pt, _, err := decrypt(e.client, blobB64, encCtx); err != nil || string(pt) != "attack at dawn" {
		t.Errorf("Decrypt(original) = %q, %v", pt, err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestRestart checks that keys, their states and old ciphertexts survive a
// restart on the same data dir.
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	e := start(t, dir)
	blobs := map[string]string{}
	var ids []string
	for _, alias := range []string{"a", "b", "c"} {
		id := createKey(t, e.client, alias)
		ids = append(ids, id)
		b, err := encrypt(t, e.client, id, []byte("secret of "+alias), "")
		if err != nil {
			t.Fatal(err)
		}
		blobs[alias] = b
	}
	dis := tkms.NewDisableKeyRequest()
	dis.KeyId = common.StringPtr(ids[2])
	if _, err := e.client.DisableKey(dis); err != nil {
		t.Fatal(err)
	}
	root := e.srv.Root.AccountID
	e.stop()

	e2 := start(t, dir)
	if e2.srv.Root.AccountID != root {
		t.Errorf("root account after restart = %s, want %s", e2.srv.Root.AccountID, root)
	}
	if n := keyCount(t, e2); n != 3 {
		t.Errorf("keys after restart = %d, want 3", n)
	}
	for i, alias := range []string{"a", "b"} {
		pt, id, err := decrypt(e2.client, blobs[alias], "")
		if err != nil || string(pt) != "secret of "+alias || id != ids[i] {
			t.Errorf("Decrypt(%s) after restart = %q, %s, %v", alias, pt, id, err)
		}
	}
	if s := *describe(t, e2.client, ids[2]).KeyState; s != "Disabled" {
		t.Errorf("key c after restart is %s, want Disabled", s)
	}
}

// recordingReader passes random bytes through and remembers every read.
type recordingReader struct {
	mu    sync.Mutex
	reads [][]byte
}

func (r *recordingReader) Read(p []byte) (int, error) {
	n, err := rand.Read(p)
	r.mu.Lock()
	r.reads = append(r.reads, bytes.Clone(p[:n]))
	r.mu.Unlock()
	return n, err
}

// TestStoreRevealsNoMaterial greps the bbolt file for every random value of
// 16 bytes or more the server drew (key material among them) and for the
// root secret key: none may appear.
func TestStoreRevealsNoMaterial(t *testing.T) {
	rr := &recordingReader{}
	dir := t.TempDir()
	e := start(t, dir, func(c *server.Config) { c.Rand = rr; c.RootSecretID, c.RootSecretKey = "", "" })
	creds, err := os.ReadFile(filepath.Join(dir, server.CredentialsFile))
	if err != nil {
		t.Fatalf("root credentials file: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, server.CredentialsFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("root credentials file mode = %v, want 0600", fi.Mode().Perm())
	}
	var rc struct{ AccountId, SecretId, SecretKey string }
	if err := json.Unmarshal(creds, &rc); err != nil || rc.SecretKey == "" || rc.AccountId != e.srv.Root.AccountID {
		t.Fatalf("root credentials file = %s, %v", creds, err)
	}
	c := e.newClient(rc.SecretId, rc.SecretKey, "local")
	for i := range 5 {
		createKey(t, c, "k"+itoa(i))
	}
	e.stop()
	db, err := os.ReadFile(filepath.Join(dir, "keyhaven.db"))
	if err != nil {
		t.Fatal(err)
	}
	rr.mu.Lock()
	defer rr.mu.Unlock()
	checked := 0
	for _, r := range rr.reads {
		if len(r) >= 16 {
			checked++
			if bytes.Contains(db, r) {
				t.Errorf("the store file holds a %d-byte random value in the clear", len(r))
			}
		}
	}
	if checked < 5 {
		t.Errorf("only %d random values of 16+ bytes were drawn; the test saw no key material", checked)
	}
	if bytes.Contains(db, []byte(rc.SecretKey)) {
		t.Error("the store file holds the root SecretKey in the clear")
	}
}
