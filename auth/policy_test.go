package auth_test

import (
	"errors"
	"testing"

	"github.com/keyhaven/keyhaven/auth"
)

const keyRes = "qcs::kms:local:uin/100000000001:key/11111111-1111-4111-8111-111111111111"

func mustParse(t *testing.T, doc string) *auth.Policy {
	t.Helper()
	p, err := auth.ParsePolicy([]byte(doc))
	if err != nil {
		t.Fatalf("ParsePolicy(%s): %v", doc, err)
	}
	return p
}

func TestEvaluate(t *testing.T) {
	allowAll := `{"version":"2.0","statement":[{"effect":"allow","action":"kms:*","resource":"*"}]}`
	denyKey := `{"version":"2.0","statement":[{"effect":"deny","action":["kms:Encrypt"],"resource":["` + keyRes + `"]}]}`
	ctx := func(kv ...string) map[string][]string {
		m := map[string][]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = append(m[kv[i]], kv[i+1])
		}
		return m
	}
	cases := []struct {
		name     string
		policies []string
		req      auth.Request
		want     auth.Decision
	}{
		{"no policy", nil, auth.Request{Action: "kms:Encrypt", Resource: keyRes}, auth.ImplicitDeny},
		{"allow all", []string{allowAll}, auth.Request{Action: "kms:Encrypt", Resource: keyRes}, auth.Allow},
		{"allow all is kms only", []string{allowAll}, auth.Request{Action: "cam:AddUser", Resource: "qcs::cam::uin/1:*"}, auth.ImplicitDeny},
		{"action case does not matter", []string{allowAll}, auth.Request{Action: "KMS:encrypt", Resource: keyRes}, auth.Allow},
		{"deny beats allow", []string{allowAll, denyKey}, auth.Request{Action: "kms:Encrypt", Resource: keyRes}, auth.ExplicitDeny},
		{"deny beats allow in one policy", []string{`{"version":"2.0","statement":[{"effect":"allow","action":"kms:*","resource":"*"},{"effect":"deny","action":"kms:Decrypt","resource":"*"}]}`},
			auth.Request{Action: "kms:Decrypt", Resource: keyRes}, auth.ExplicitDeny},
		{"deny of another key does not apply", []string{allowAll, denyKey}, auth.Request{Action: "kms:Encrypt", Resource: "qcs::kms:local:uin/100000000001:key/other"}, auth.Allow},
		{"deny of another action does not apply", []string{allowAll, denyKey}, auth.Request{Action: "kms:Decrypt", Resource: keyRes}, auth.Allow},
		{"action list", []string{`{"version":"2.0","statement":[{"effect":"allow","action":["kms:Encrypt","kms:Decrypt"],"resource":"*"}]}`},
			auth.Request{Action: "kms:Decrypt", Resource: keyRes}, auth.Allow},
		{"action prefix pattern", []string{`{"version":"2.0","statement":[{"effect":"allow","action":"kms:Describe*","resource":"*"}]}`},
			auth.Request{Action: "kms:DescribeKeys", Resource: keyRes}, auth.Allow},
		{"action prefix pattern misses", []string{`{"version":"2.0","statement":[{"effect":"allow","action":"kms:Describe*","resource":"*"}]}`},
			auth.Request{Action: "kms:Encrypt", Resource: keyRes}, auth.ImplicitDeny},
		{"resource wildcard key", []string{`{"version":"2.0","statement":[{"effect":"allow","action":"kms:*","resource":"qcs::kms:*:uin/100000000001:key/*"}]}`},
			auth.Request{Action: "kms:Encrypt", Resource: keyRes}, auth.Allow},
		{"resource of another account", []string{`{"version":"2.0","statement":[{"effect":"allow","action":"kms:*","resource":"qcs::kms:*:uin/200000000002:key/*"}]}`},
			auth.Request{Action: "kms:Encrypt", Resource: keyRes}, auth.ImplicitDeny},
		{"alias equal", []string{`{"version":"2.0","statement":[{"effect":"allow","action":"kms:*","resource":"*","condition":{"string_equal":{"kms:alias":["payments"]}}}]}`},
			auth.Request{Action: "kms:Encrypt", Resource: keyRes, Context: ctx("kms:alias", "payments")}, auth.Allow},
		{"alias not equal", []string{`{"version":"2.0","statement":[{"effect":"allow","action":"kms:*","resource":"*","condition":{"string_equal":{"kms:alias":["payments"]}}}]}`},
			auth.Request{Action: "kms:Encrypt", Resource: keyRes, Context: ctx("kms:alias", "hr")}, auth.ImplicitDeny},
		{"alias missing", []string{`{"version":"2.0","statement":[{"effect":"allow","action":"kms:*","resource":"*","condition":{"string_equal":{"kms:alias":"payments"}}}]}`},
			auth.Request{Action: "kms:Encrypt", Resource: keyRes}, auth.ImplicitDeny},
		{"alias like", []string{`{"version":"2.0","statement":[{"effect":"allow","action":"kms:*","resource":"*","condition":{"string_like":{"kms:alias":["pay*"]}}}]}`},
			auth.Request{Action: "kms:Encrypt", Resource: keyRes, Context: ctx("kms:alias", "payments-eu")}, auth.Allow},
		{"alias not like", []string{`{"version":"2.0","statement":[{"effect":"allow","action":"kms:*","resource":"*","condition":{"string_not_like":{"kms:alias":["pay*"]}}}]}`},
			auth.Request{Action: "kms:Encrypt", Resource: keyRes, Context: ctx("kms:alias", "payments-eu")}, auth.ImplicitDeny},
		{"tag equal among several tags", []string{`{"version":"2.0","statement":[{"effect":"allow","action":"kms:*","resource":"*","condition":{"string_equal":{"qcs:resource_tag":["env&prod"]}}}]}`},
			auth.Request{Action: "kms:Encrypt", Resource: keyRes, Context: ctx("qcs:resource_tag", "team&pay", "qcs:resource_tag", "env&prod")}, auth.Allow},
		{"tag value differs", []string{`{"version":"2.0","statement":[{"effect":"allow","action":"kms:*","resource":"*","condition":{"string_equal":{"qcs:resource_tag":["env&prod"]}}}]}`},
			auth.Request{Action: "kms:Encrypt", Resource: keyRes, Context: ctx("qcs:resource_tag", "env&dev")}, auth.ImplicitDeny},
		{"ip in range", []string{`{"version":"2.0","statement":[{"effect":"allow","action":"kms:*","resource":"*","condition":{"ip_equal":{"qcs:ip":["10.0.0.0/8","127.0.0.1"]}}}]}`},
			auth.Request{Action: "kms:Encrypt", Resource: keyRes, Context: ctx("qcs:ip", "10.1.2.3")}, auth.Allow},
		{"ip exact", []string{`{"version":"2.0","statement":[{"effect":"allow","action":"kms:*","resource":"*","condition":{"ip_equal":{"qcs:ip":["10.0.0.0/8","127.0.0.1"]}}}]}`},
			auth.Request{Action: "kms:Encrypt", Resource: keyRes, Context: ctx("qcs:ip", "127.0.0.1")}, auth.Allow},
		{"ip out of range", []string{`{"version":"2.0","statement":[{"effect":"allow","action":"kms:*","resource":"*","condition":{"ip_equal":{"qcs:ip":["10.0.0.0/8"]}}}]}`},
			auth.Request{Action: "kms:Encrypt", Resource: keyRes, Context: ctx("qcs:ip", "192.168.1.1")}, auth.ImplicitDeny},
		{"ip v4-mapped v6", []string{`{"version":"2.0","statement":[{"effect":"allow","action":"kms:*","resource":"*","condition":{"ip_equal":{"qcs:ip":["10.0.0.0/8"]}}}]}`},
			auth.Request{Action: "kms:Encrypt", Resource: keyRes, Context: ctx("qcs:ip", "::ffff:10.9.9.9")}, auth.Allow},
		{"deny outside a range", []string{allowAll, `{"version":"2.0","statement":[{"effect":"deny","action":"kms:*","resource":"*","condition":{"ip_not_equal":{"qcs:ip":["127.0.0.0/8"]}}}]}`},
			auth.Request{Action: "kms:Encrypt", Resource: keyRes, Context: ctx("qcs:ip", "8.8.8.8")}, auth.ExplicitDeny},
		{"no deny inside the range", []string{allowAll, `{"version":"2.0","statement":[{"effect":"deny","action":"kms:*","resource":"*","condition":{"ip_not_equal":{"qcs:ip":["127.0.0.0/8"]}}}]}`},
			auth.Request{Action: "kms:Encrypt", Resource: keyRes, Context: ctx("qcs:ip", "127.0.0.1")}, auth.Allow},
		{"encryption context", []string{`{"version":"2.0","statement":[{"effect":"allow","action":"kms:Decrypt","resource":"*","condition":{"string_equal":{"kms:encryption_context/app":["billing"]}}}]}`},
			auth.Request{Action: "kms:Decrypt", Resource: keyRes, Context: ctx("kms:encryption_context/app", "billing")}, auth.Allow},
		{"encryption context differs", []string{`{"version":"2.0","statement":[{"effect":"allow","action":"kms:Decrypt","resource":"*","condition":{"string_equal":{"kms:encryption_context/app":["billing"]}}}]}`},
			auth.Request{Action: "kms:Decrypt", Resource: keyRes, Context: ctx("kms:encryption_context/app", "crm")}, auth.ImplicitDeny},
		{"all conditions must hold", []string{`{"version":"2.0","statement":[{"effect":"allow","action":"kms:*","resource":"*","condition":{"string_equal":{"kms:alias":"a"},"ip_equal":{"qcs:ip":"127.0.0.1"}}}]}`},
			auth.Request{Action: "kms:Encrypt", Resource: keyRes, Context: ctx("kms:alias", "a", "qcs:ip", "127.0.0.2")}, auth.ImplicitDeny},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ps []*auth.Policy
			for _, doc := range tc.policies {
				ps = append(ps, mustParse(t, doc))
			}
			if got := auth.Evaluate(ps, tc.req); got != tc.want {
				t.Errorf("Evaluate(%+v) = %v, want %v", tc.req, got, tc.want)
			}
		})
	}
}

func TestParsePolicyRefuses(t *testing.T) {
	for _, doc := range []string{
		``, `{}`, `[]`, `{"version":"1.0","statement":[{"effect":"allow","action":"*","resource":"*"}]}`,
		`{"version":"2.0","statement":[]}`,
		`{"version":"2.0","statement":[{"effect":"maybe","action":"*","resource":"*"}]}`,
		`{"version":"2.0","statement":[{"effect":"allow","resource":"*"}]}`,
		`{"version":"2.0","statement":[{"effect":"allow","action":"*"}]}`,
		`{"version":"2.0","statement":[{"effect":"allow","action":"*","resource":"*","principal":{"qcs":["*"]}}]}`,
		`{"version":"2.0","statement":[{"effect":"allow","action":"*","resource":"*","condition":{"numeric_equal":{"a":"1"}}}]}`,
		`{"version":"2.0","statement":[{"effect":"allow","action":"*","resource":"*","condition":{"ip_equal":{"qcs:ip":"10.0.0/8"}}}]}`,
		`{"version":"2.0","statement":[{"effect":"allow","action":7,"resource":"*"}]}`,
	} {
		if _, err := auth.ParsePolicy([]byte(doc)); !errors.Is(err, auth.ErrInvalidPolicy) {
			t.Errorf("ParsePolicy(%s) = %v, want ErrInvalidPolicy", doc, err)
		}
	}
}

func FuzzParsePolicy(f *testing.F) {
	f.Add(`{"version":"2.0","statement":[{"effect":"allow","action":"kms:*","resource":"*","condition":{"ip_equal":{"qcs:ip":"10.0.0.0/8"}}}]}`)
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := auth.ParsePolicy([]byte(doc))
		if err != nil {
			return
		}
		auth.Evaluate([]*auth.Policy{p}, auth.Request{Action: "kms:Encrypt", Resource: keyRes,
			Context: map[string][]string{"qcs:ip": {"10.0.0.1"}, "kms:alias": {"a"}}})
	})
}
