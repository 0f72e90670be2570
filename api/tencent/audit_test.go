package tencent_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	sdkerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tkms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms/v20190118"

	"github.com/keyhaven/keyhaven/audit"
	"github.com/keyhaven/keyhaven/server"
)

func trail(t *testing.T, e *env) []audit.Event {
	t.Helper()
	var events []audit.Event
	if err := audit.Read(filepath.Join(e.dir, "audit"), func(ev audit.Event) error {
		events = append(events, ev)
		return nil
	}); err != nil {
		t.Fatalf("audit.Read: %v", err)
	}
	return events
}

func requestID(t *testing.T, err error) string {
	var sdkErr *sdkerrors.TencentCloudSDKError
	if !errors.As(err, &sdkErr) {
		t.Fatalf("%v is not an SDK error", err)
	}
	return sdkErr.GetRequestId()
}

// TestAuditTrail makes requests as the root and a sub-user and checks that
// the trail holds one event per request (two for state changes), in order,
// with the caller, address, action, keys and result, and nothing secret.
func TestAuditTrail(t *testing.T) {
	e := start(t, "")
	before := len(trail(t, e)) // none: bootstrap is not a request
	keyResp, err := e.client.CreateKey(aliasReq("audited"))
	if err != nil {
		t.Fatal(err)
	}
	keyID := *keyResp.Response.KeyId
	secret := []byte("top secret plaintext")
	blob, err := encrypt(t, e.client, keyID, secret, "")
	if err != nil {
		t.Fatal(err)
	}
	user := e.addUser("reader", policy(`{"effect":"allow","action":"kms:Decrypt","resource":"*"}`))
	_, _, decErr := decrypt(user.client, blob, "")
	_, encErr := encrypt(t, user.client, keyID, secret, "")
	if code(t, encErr) != "UnauthorizedOperation" || decErr != nil {
		t.Fatalf("sub-user calls: decrypt %v, encrypt %v", decErr, encErr)
	}
	events := trail(t, e)[before:]

	type want struct {
		action, phase, result, user string
		keys                        bool
	}
	root := e.srv.Root.AccountID
	wants := []want{
		{"CreateKey", "request", "", root, false},
		{"CreateKey", "outcome", "Success", root, true},
		{"Encrypt", "", "Success", root, true},
		// addUser: AddUser, CreatePolicy, AttachUserPolicy, each request+outcome
		{"AddUser", "request", "", root, false}, {"AddUser", "outcome", "Success", root, false},
		{"CreatePolicy", "request", "", root, false}, {"CreatePolicy", "outcome", "Success", root, false},
		{"AttachUserPolicy", "request", "", root, false}, {"AttachUserPolicy", "outcome", "Success", root, false},
		{"Decrypt", "", "Success", fmtUin(user.uin), true},
		{"Encrypt", "", "UnauthorizedOperation", fmtUin(user.uin), true},
	}
	if len(events) != len(wants) {
		for _, ev := range events {
			t.Logf("event %d %s %s %s", ev.Seq, ev.Action, ev.Phase, ev.Result)
		}
		t.Fatalf("%d audit events, want %d", len(events), len(wants))
	}
	for i, w := range wants {
		ev := events[i]
		if ev.Action != w.action || string(ev.Phase) != w.phase || ev.Result != w.result || ev.User != w.user {
			t.Errorf("event %d = %s/%s/%s by %s, want %s/%s/%s by %s", i, ev.Action, ev.Phase, ev.Result, ev.User, w.action, w.phase, w.result, w.user)
		}
		if ev.SourceIP != "127.0.0.1" || ev.RequestID == "" || ev.Account != root || ev.SecretID == "" || ev.UserAgent == "" || ev.Time.IsZero() {
			t.Errorf("event %d lacks caller fields: %+v", i, ev)
		}
		if w.keys && (len(ev.KeyIDs) != 1 || ev.KeyIDs[0] != keyID) {
			t.Errorf("event %d KeyIDs = %v, want [%s]", i, ev.KeyIDs, keyID)
		}
		if i > 0 && ev.Seq != events[i-1].Seq+1 {
			t.Errorf("event %d has seq %d after %d", i, ev.Seq, events[i-1].Seq)
		}
	}
	if events[len(events)-1].RequestID != requestID(t, encErr) {
		t.Errorf("the refused Encrypt's event has RequestId %s, the response %s", events[len(events)-1].RequestID, requestID(t, encErr))
	}
	// Nothing secret: no plaintext, ciphertext, or secret key in the files.
	files, _ := filepath.Glob(filepath.Join(e.dir, "audit", "*.jsonl"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, s := range [][]byte{secret, []byte(blob), []byte(user.secret), []byte(testSecretKey)} {
			if bytes.Contains(b, s) {
				t.Errorf("%s holds a secret value", f)
			}
		}
	}
	if _, err := audit.Verify(filepath.Join(e.dir, "audit")); err != nil {
		t.Errorf("Verify of an untouched trail: %v", err)
	}

	// LookUpEvents finds the events by key and by action.
	r, err := e.callAPI(testSecretID, testSecretKey, "cloudaudit", "2019-03-19", "LookUpEvents", map[string]any{
		"StartTime": time.Now().Add(-time.Hour).Unix(), "EndTime": time.Now().Add(time.Hour).Unix(),
		"LookupAttributes": []map[string]string{{"AttributeKey": "ResourceName", "AttributeValue": keyID}},
	})
	if err != nil {
		t.Fatalf("LookUpEvents: %v", err)
	}
	if n := r["TotalCount"].(float64); n != 4 { // CreateKey's outcome (its request event has no key yet), Encrypt, Decrypt, the refused Encrypt
		t.Errorf("LookUpEvents by key found %v events, want 4: %v", n, r)
	}
	if _, err := e.callAPI(user.secretID, user.secret, "cloudaudit", "2019-03-19", "LookUpEvents", map[string]any{"StartTime": 0, "EndTime": 1}); code(t, err) != "UnauthorizedOperation" {
		t.Errorf("LookUpEvents by a sub-user without permission: %v, want UnauthorizedOperation", err)
	}
}

func fmtUin(u uint64) string { return strconv.FormatUint(u, 10) }

// TestAuditTamperingIsDetected edits, deletes and reorders lines of a real
// trail; each is found with its file and line.
func TestAuditTamperingIsDetected(t *testing.T) {
	e := start(t, "")
	keyID := createKey(t, e.client, "t")
	for range 5 {
		if _, err := encrypt(t, e.client, keyID, []byte("x"), ""); err != nil {
			t.Fatal(err)
		}
	}
	e.stop()
	dir := filepath.Join(e.dir, "audit")
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if len(files) != 1 {
		t.Fatalf("%d segment files, want 1", len(files))
	}
	orig, _ := os.ReadFile(files[0])
	lines := bytes.SplitAfter(orig, []byte("\n"))
	cases := []struct {
		name   string
		edit   func() []byte
		wantAt int // line number reported
	}{
		{"one byte changed", func() []byte {
			b := bytes.Clone(orig)
			i := bytes.Index(b, []byte(`"Encrypt"`)) + 2
			b[i] ^= 0x20
			return b
		}, 3},
		{"one line deleted", func() []byte { return bytes.Join(append(slicesClone(lines[:2]), lines[3:]...), nil) }, 3},
		{"two lines swapped", func() []byte {
			l := slicesClone(lines)
			l[3], l[4] = l[4], l[3]
			return bytes.Join(l, nil)
		}, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(files[0], tc.edit(), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := audit.Verify(dir)
			var ve *audit.VerifyError
			if !errors.As(err, &ve) || ve.Line != tc.wantAt || ve.File != files[0] {
				t.Errorf("Verify = %v, want a VerifyError at %s:%d", err, files[0], tc.wantAt)
			}
		})
	}
	os.WriteFile(files[0], orig, 0o600)
	if _, err := audit.Verify(dir); err != nil {
		t.Errorf("Verify of the restored trail: %v", err)
	}
}

func slicesClone(l [][]byte) [][]byte { return append([][]byte(nil), l...) }

// failingFile fails writes while broken is set, as a full disk would.
type failingFile struct {
	audit.File
	broken *atomic.Bool
}

func (f failingFile) Write(p []byte) (int, error) {
	if f.broken.Load() {
		return 0, errors.New("no space left on device")
	}
	return f.File.Write(p)
}

// TestAuditFailsClosed breaks the audit file: requests fail with
// InternalError and change nothing; repaired, they succeed again.
func TestAuditFailsClosed(t *testing.T) {
	var broken atomic.Bool
	e := start(t, "", func(c *server.Config) {
		c.Audit.OpenFile = func(name string, flag int, perm fs.FileMode) (audit.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			if err != nil {
				return nil, err
			}
			return failingFile{File: f, broken: &broken}, nil
		}
	})
	keyID := createKey(t, e.client, "k")
	blob, _ := encrypt(t, e.client, keyID, []byte("x"), "")
	broken.Store(true)
	if _, err := e.client.CreateKey(aliasReq("during-outage")); code(t, err) != "InternalError" {
		t.Errorf("CreateKey with a broken audit trail: %v, want InternalError", err)
	}
	if _, _, err := decrypt(e.client, blob, ""); code(t, err) != "InternalError" {
		t.Errorf("Decrypt with a broken audit trail: %v, want InternalError", err)
	}
	dis := tkms.NewDisableKeyRequest()
	dis.KeyId = &keyID
	if _, err := e.client.DisableKey(dis); code(t, err) != "InternalError" {
		t.Errorf("DisableKey with a broken audit trail: %v, want InternalError", err)
	}
	broken.Store(false)
	if n := keyCount(t, e); n != 1 {
		t.Errorf("%d keys after the outage, want 1: CreateKey changed state without its event", n)
	}
	if s := *describe(t, e.client, keyID).KeyState; s != "Enabled" {
		t.Errorf("key is %s after a refused DisableKey, want Enabled", s)
	}
	if pt, _, err := decrypt(e.client, blob, ""); err != nil || string(pt) != "x" {
		t.Errorf("Decrypt after the repair = %q, %v", pt, err)
	}
	if _, err := audit.Verify(filepath.Join(e.dir, "audit")); err != nil {
		t.Errorf("Verify after the outage: %v", err)
	}
}
