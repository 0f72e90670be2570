package kms_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/keyhaven/keyhaven/backend/software"
	"github.com/keyhaven/keyhaven/kms"
	"github.com/keyhaven/keyhaven/store/bolt"
)

const account = "100000000001"

// newService returns a Service over a real bbolt file and the software backend.
func newService(t testing.TB, cacheSize int) *kms.Service {
	t.Helper()
	svc, _ := newServiceStore(t, func(c *kms.Config) { c.CacheSize = cacheSize })
	return svc
}

// newServiceStore returns a Service and the bbolt store under it.
func newServiceStore(t testing.TB, opts ...func(*kms.Config)) (*kms.Service, kms.Store) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "kms.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return serviceOn(t, st, opts...), st
}

// serviceOn returns another Service over st, as a second server would be.
func serviceOn(t testing.TB, st kms.Store, opts ...func(*kms.Config)) *kms.Service {
	t.Helper()
	b, err := software.New(bytes.Repeat([]byte{7}, 32), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cfg := kms.Config{Store: st, Backend: b, Sealer: b.Sealer()}
	for _, o := range opts {
		o(&cfg)
	}
	svc, err := kms.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	return svc
}

func mustCreate(t testing.TB, svc *kms.Service, in kms.CreateKeyInput) *kms.Key {
	t.Helper()
	if in.Account == "" {
		in.Account = account
	}
	k, err := svc.CreateKey(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateKey(%+v): %v", in, err)
	}
	return k
}

func TestNewRefusesUnknownSuite(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "kms.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b, _ := software.New(bytes.Repeat([]byte{7}, 32), rand.Reader)
	if _, err := kms.New(kms.Config{Store: st, Backend: b, Sealer: b.Sealer(), Suite: "des"}); err == nil {
		t.Error(`New(suite "des") succeeded, want an error`)
	}
}

// TestStateChangeReachesDataPlane checks that the cache never serves a state
// the store no longer has.
func TestStateChangeReachesDataPlane(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, 0)
	k := mustCreate(t, svc, kms.CreateKeyInput{Alias: "a"})
	blob, err := svc.Encrypt(ctx, kms.EncryptInput{Account: account, KeyID: k.ID, Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.DisableKeys(ctx, account, []string{k.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Encrypt(ctx, kms.EncryptInput{Account: account, KeyID: k.ID, Plaintext: []byte("x")}); !errors.Is(err, kms.ErrKeyDisabled) {
		t.Errorf("Encrypt after DisableKeys: %v, want ErrKeyDisabled", err)
	}
	if _, err := svc.Decrypt(ctx, kms.DecryptInput{Account: account, Ciphertext: blob}); !errors.Is(err, kms.ErrKeyDisabled) {
		t.Errorf("Decrypt after DisableKeys: %v, want ErrKeyDisabled", err)
	}
	if err := svc.EnableKeys(ctx, account, []string{k.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Decrypt(ctx, kms.DecryptInput{Account: account, Ciphertext: blob}); err != nil {
		t.Errorf("Decrypt after EnableKeys: %v", err)
	}
}

// TestConcurrentUseAndStateChanges runs the data plane against state changes;
// once DisableKeys returns, no Encrypt may succeed.
func TestConcurrentUseAndStateChanges(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, 2)
	var keys []*kms.Key
	for i := range 4 {
		keys = append(keys, mustCreate(t, svc, kms.CreateKeyInput{Alias: fmt.Sprintf("k%d", i)}))
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				k := keys[(w+i)%len(keys)]
				blob, err := svc.Encrypt(ctx, kms.EncryptInput{Account: account, KeyID: k.ID, Plaintext: []byte("data")})
				if errors.Is(err, kms.ErrKeyDisabled) {
					continue
				}
				if err != nil {
					t.Errorf("Encrypt: %v", err)
					return
				}
				out, err := svc.Decrypt(ctx, kms.DecryptInput{Account: account, Ciphertext: blob})
				if err != nil && !errors.Is(err, kms.ErrKeyDisabled) {
					t.Errorf("Decrypt: %v", err)
					return
				}
				if err == nil && string(out.Plaintext) != "data" {
					t.Errorf("Decrypt = %q", out.Plaintext)
				}
			}
		}()
	}
	for i := range 50 {
		ids := []string{keys[i%len(keys)].ID}
		if err := svc.DisableKeys(ctx, account, ids); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Encrypt(ctx, kms.EncryptInput{Account: account, KeyID: ids[0], Plaintext: []byte("x")}); !errors.Is(err, kms.ErrKeyDisabled) {
			t.Fatalf("Encrypt right after DisableKeys: %v, want ErrKeyDisabled", err)
		}
		if err := svc.EnableKeys(ctx, account, ids); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
}

// TestAccountIsolation checks that one account never sees or uses another's keys.
func TestAccountIsolation(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, 0)
	k := mustCreate(t, svc, kms.CreateKeyInput{Alias: "mine"})
	blob, _ := svc.Encrypt(ctx, kms.EncryptInput{Account: account, KeyID: k.ID, Plaintext: []byte("x")})
	const other = "100000000002"
	if _, err := svc.DescribeKey(ctx, other, k.ID); !errors.Is(err, kms.ErrKeyNotFound) {
		t.Errorf("DescribeKey by another account: %v, want ErrKeyNotFound", err)
	}
	if _, err := svc.Encrypt(ctx, kms.EncryptInput{Account: other, KeyID: k.ID, Plaintext: []byte("x")}); !errors.Is(err, kms.ErrKeyNotFound) {
		t.Errorf("Encrypt by another account: %v, want ErrKeyNotFound", err)
	}
	if _, err := svc.Decrypt(ctx, kms.DecryptInput{Account: other, Ciphertext: blob}); !errors.Is(err, kms.ErrInvalidCiphertext) {
		t.Errorf("Decrypt by another account: %v, want ErrInvalidCiphertext", err)
	}
	if err := svc.DisableKeys(ctx, other, []string{k.ID}); !errors.Is(err, kms.ErrKeyNotFound) {
		t.Errorf("DisableKeys by another account: %v, want ErrKeyNotFound", err)
	}
	if keys, total, err := svc.ListKeys(ctx, kms.ListKeysInput{Account: other, Limit: 10}); err != nil || total != 0 || len(keys) != 0 {
		t.Errorf("ListKeys by another account = %d keys, %v", total, err)
	}
	// The same alias is free in another account.
	mustCreate(t, svc, kms.CreateKeyInput{Account: other, Alias: "mine"})
}

// TestCreateKeyRefusals checks each refusal's error and that nothing is made.
func TestCreateKeyRefusals(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, 0)
	mustCreate(t, svc, kms.CreateKeyInput{Alias: "taken"})
	long := string(bytes.Repeat([]byte("d"), kms.MaxDescription+1))
	cases := []struct {
		name string
		in   kms.CreateKeyInput
		want error
	}{
		{"alias taken", kms.CreateKeyInput{Alias: "taken"}, kms.ErrAliasExists},
		{"alias with a dot", kms.CreateKeyInput{Alias: "a.b"}, kms.ErrInvalidAlias},
		{"alias starting with underscore", kms.CreateKeyInput{Alias: "_a"}, kms.ErrInvalidAlias},
		{"alias of 61 characters", kms.CreateKeyInput{Alias: string(bytes.Repeat([]byte("a"), 61))}, kms.ErrInvalidAlias},
		{"reserved prefix", kms.CreateKeyInput{Alias: "KMS-x"}, kms.ErrInvalidAlias},
		{"description too long", kms.CreateKeyInput{Alias: "x", Description: long}, kms.ErrInvalidParameter},
		{"unknown usage", kms.CreateKeyInput{Alias: "x", Usage: "FOO"}, kms.ErrInvalidKeyUsage},
		{"external asymmetric", kms.CreateKeyInput{Alias: "x", Origin: kms.OriginExternal, Usage: kms.UsageSignECC}, kms.ErrInvalidKeyUsage},
		{"unknown origin", kms.CreateKeyInput{Alias: "x", Origin: "MOON"}, kms.ErrInvalidType},
		{"duplicate tags", kms.CreateKeyInput{Alias: "x", Tags: []kms.Tag{{Key: "a"}, {Key: "a"}}}, kms.ErrTagKeysDuplicated},
		{"empty tag key", kms.CreateKeyInput{Alias: "x", Tags: []kms.Tag{{Key: ""}}}, kms.ErrInvalidParameter},
		{"second service key", kms.CreateKeyInput{Service: "cos"}, kms.ErrAliasExists},
	}
	mustCreate(t, svc, kms.CreateKeyInput{Service: "cos"})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Account = account
			if _, err := svc.CreateKey(ctx, tc.in); !errors.Is(err, tc.want) {
				t.Errorf("CreateKey = %v, want %v", err, tc.want)
			}
		})
	}
	for _, role := range []kms.Role{kms.RoleUser, kms.RoleService} {
		if _, total, _ := svc.ListKeys(ctx, kms.ListKeysInput{Account: account, Role: role, Limit: 100}); total != 1 {
			t.Errorf("keys of role %d after refusals = %d, want 1", role, total)
		}
	}
}

func TestListKeysFilters(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, 0)
	a := mustCreate(t, svc, kms.CreateKeyInput{Alias: "alpha", Tags: []kms.Tag{{Key: "env", Value: "prod"}}})
	b := mustCreate(t, svc, kms.CreateKeyInput{Alias: "beta", Tags: []kms.Tag{{Key: "env", Value: "dev"}}})
	c := mustCreate(t, svc, kms.CreateKeyInput{Alias: "alphabet"})
	s := mustCreate(t, svc, kms.CreateKeyInput{Service: "cbs"})
	if err := svc.DisableKeys(ctx, account, []string{b.ID}); err != nil {
		t.Fatal(err)
	}
	ids := func(keys []*kms.Key) []string {
		var out []string
		for _, k := range keys {
			out = append(out, k.ID)
		}
		return out
	}
	cases := []struct {
		name  string
		in    kms.ListKeysInput
		want  []string
		total int
	}{
		{"all user keys newest first", kms.ListKeysInput{}, []string{c.ID, b.ID, a.ID}, 3},
		{"oldest first", kms.ListKeysInput{Ascending: true}, []string{a.ID, b.ID, c.ID}, 3},
		{"page", kms.ListKeysInput{Offset: 1, Limit: 1}, []string{b.ID}, 3},
		{"past the end", kms.ListKeysInput{Offset: 5}, nil, 3},
		{"disabled", kms.ListKeysInput{State: kms.StateDisabled}, []string{b.ID}, 1},
		{"search alias", kms.ListKeysInput{Search: "alpha"}, []string{c.ID, a.ID}, 2},
		{"search key id", kms.ListKeysInput{Search: a.ID[:13]}, []string{a.ID}, 1},
		{"tag any value", kms.ListKeysInput{TagFilters: []kms.TagFilter{{Key: "env"}}}, []string{b.ID, a.ID}, 2},
		{"tag value", kms.ListKeysInput{TagFilters: []kms.TagFilter{{Key: "env", Values: []string{"prod"}}}}, []string{a.ID}, 1},
		{"service keys", kms.ListKeysInput{Role: kms.RoleService}, []string{s.ID}, 1},
		{"external origin", kms.ListKeysInput{Origin: kms.OriginExternal}, nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Account = account
			if tc.in.Limit == 0 {
				tc.in.Limit = 10
			}
			keys, total, err := svc.ListKeys(ctx, tc.in)
			if err != nil || total != tc.total || fmt.Sprint(ids(keys)) != fmt.Sprint(tc.want) {
				t.Errorf("ListKeys = %v, %d, %v; want %v, %d", ids(keys), total, err, tc.want, tc.total)
			}
		})
	}
	if _, _, err := svc.ListKeys(ctx, kms.ListKeysInput{Account: account, Limit: 0}); !errors.Is(err, kms.ErrInvalidParameter) {
		t.Errorf("ListKeys(Limit 0) = %v, want ErrInvalidParameter", err)
	}
}

func TestBootstrap(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, 0)
	boom := errors.New("cannot write the credentials file")
	if _, _, err := svc.Bootstrap(ctx, "", nil, func(kms.RootCredentials) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("Bootstrap with failing deliver = %v, want %v", err, boom)
	}
	var delivered kms.RootCredentials
	root, created, err := svc.Bootstrap(ctx, "", nil, func(c kms.RootCredentials) error { delivered = c; return nil })
	if err != nil || !created || len(root.AccountID) != 12 || len(root.SecretID) != 36 || len(root.SecretKey) != 32 || delivered.SecretID != root.SecretID {
		t.Fatalf("Bootstrap = %+v, %v, %v", root, created, err)
	}
	again, created, err := svc.Bootstrap(ctx, "", nil, nil)
	if err != nil || created || again.AccountID != root.AccountID || again.SecretKey != nil {
		t.Errorf("second Bootstrap = %+v, %v, %v; want the same account, not created, no secret", again, created, err)
	}
	cred, err := svc.Credential(ctx, root.SecretID)
	if err != nil || cred.Account != root.AccountID || !bytes.Equal(cred.Secret, root.SecretKey) {
		t.Errorf("Credential(root) = %+v, %v", cred, err)
	}
	if _, err := svc.Credential(ctx, "AKIDnope"); !errors.Is(err, kms.ErrAccessKeyNotFound) {
		t.Errorf("Credential(unknown) = %v, want ErrAccessKeyNotFound", err)
	}
	if _, _, err := svc.Bootstrap(ctx, "AKIDonlyid", nil, nil); !errors.Is(err, kms.ErrInvalidParameter) {
		t.Errorf("Bootstrap with an id but no key = %v, want ErrInvalidParameter", err)
	}
}

// TestSecretBytesRedacts checks that secrets never print.
func TestSecretBytesRedacts(t *testing.T) {
	s := kms.SecretBytes("hunter2")
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %s %#v", s, s, s), fmt.Sprintf("%+v", struct{ S kms.SecretBytes }{s})} {
		if bytes.Contains([]byte(out), []byte("hunter2")) {
			t.Errorf("formatted secret = %q", out)
		}
	}
}

func BenchmarkEncrypt(b *testing.B) {
	ctx := context.Background()
	svc := newService(b, 0)
	k := mustCreate(b, svc, kms.CreateKeyInput{Alias: "bench"})
	in := kms.EncryptInput{Account: account, KeyID: k.ID, Plaintext: make([]byte, 32)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.Encrypt(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecrypt(b *testing.B) {
	ctx := context.Background()
	svc := newService(b, 0)
	k := mustCreate(b, svc, kms.CreateKeyInput{Alias: "bench"})
	blob, _ := svc.Encrypt(ctx, kms.EncryptInput{Account: account, KeyID: k.ID, Plaintext: make([]byte, 32)})
	in := kms.DecryptInput{Account: account, Ciphertext: blob}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.Decrypt(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
