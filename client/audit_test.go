package client_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/keyhaven/keyhaven/client"
	"github.com/keyhaven/keyhaven/kms"
)

// TestAuditTrail looks up the events of a few requests, pages through them
// and verifies the trail, with the cloudaudit methods.
func TestAuditTrail(t *testing.T) {
	c := newClient(t, startServer(t, kms.SuiteFIPS))
	ctx := context.Background()
	start := uint64(time.Now().Add(-time.Minute).Unix())
	k := must[*client.CreateKeyResponse](t, "CreateKey")(c.CreateKey(ctx, client.CreateKeyRequest{Alias: "audited"}))
	for range 3 {
		must[*client.EncryptResponse](t, "Encrypt")(c.Encrypt(ctx, client.EncryptRequest{KeyID: k.KeyID, Plaintext: []byte("x")}))
	}
	end := uint64(time.Now().Add(time.Minute).Unix())
	window := func(attrs ...client.LookupAttribute) client.LookUpEventsRequest {
		return client.LookUpEventsRequest{StartTime: start, EndTime: end, LookupAttributes: attrs}
	}

	enc := must[*client.LookUpEventsResponse](t, "LookUpEvents")(c.LookUpEvents(ctx, window(client.LookupAttribute{AttributeKey: "EventName", AttributeValue: "Encrypt"})))
	if enc.TotalCount != 3 || len(enc.Events) != 3 || !enc.ListOver || enc.NextToken != "" {
		t.Fatalf("LookUpEvents(EventName Encrypt) = %+v, want 3 events on one page", enc)
	}
	e := enc.Events[0]
	if e.EventName != "Encrypt" || e.RequestID == "" || e.ErrorCode != 0 || e.SecretID != testSecretID || e.EventSource != "kms.tencentcloudapi.com" ||
		len(e.Resources) != 1 || e.Resources[0].ResourceName != k.KeyID || e.EventTime == "" || e.AccountID == "" {
		t.Errorf("LookUpEvents event = %+v", e)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(e.CloudAuditEvent), &raw); err != nil || raw["hash"] == nil || raw["action"] != "Encrypt" {
		t.Errorf("CloudAuditEvent %q is not the trail's event (%v)", e.CloudAuditEvent, err)
	}
	// CreateKey's outcome event names the key it made, and each Encrypt.
	byKey := must[*client.LookUpEventsResponse](t, "LookUpEvents")(c.LookUpEvents(ctx, window(client.LookupAttribute{AttributeKey: "ResourceName", AttributeValue: k.KeyID})))
	if byKey.TotalCount != 4 {
		t.Errorf("LookUpEvents(ResourceName %s) = %d events, want 4 (CreateKey, Encrypt thrice)", k.KeyID, byKey.TotalCount)
	}

	// Paging: MaxResults 1 and NextToken visit every event once.
	req := window(client.LookupAttribute{AttributeKey: "EventName", AttributeValue: "Encrypt"})
	req.MaxResults = 1
	seen := map[string]bool{}
	for page := 0; ; page++ {
		r := must[*client.LookUpEventsResponse](t, "LookUpEvents page")(c.LookUpEvents(ctx, req))
		for _, ev := range r.Events {
			if seen[ev.EventID] {
				t.Errorf("page %d repeats event %s", page, ev.EventID)
			}
			seen[ev.EventID] = true
		}
		if r.ListOver || page > 5 {
			break
		}
		req.NextToken = r.NextToken
	}
	if len(seen) != 3 {
		t.Errorf("paging with MaxResults 1 saw %d events, want 3", len(seen))
	}

	cases := []struct {
		name string
		req  client.LookUpEventsRequest
		code string
	}{
		{"MaxResults over 50", client.LookUpEventsRequest{StartTime: start, EndTime: end, MaxResults: 51}, "InvalidParameterValue"},
		{"bad NextToken", client.LookUpEventsRequest{StartTime: start, EndTime: end, NextToken: "x"}, "InvalidParameterValue"},
		{"bad attribute", window(client.LookupAttribute{AttributeKey: "Color", AttributeValue: "red"}), "InvalidParameterValue"},
	}
	for _, tc := range cases {
		if _, err := c.LookUpEvents(ctx, tc.req); !client.IsCode(err, tc.code) {
			t.Errorf("LookUpEvents(%s): %v, want %s", tc.name, err, tc.code)
		}
	}

	v := must[*client.VerifyAuditTrailResponse](t, "VerifyAuditTrail")(c.VerifyAuditTrail(ctx))
	if !v.Valid || v.Problem != "" || len(v.Nodes) == 0 || v.Nodes[0].Events < 10 || v.Nodes[0].LastHash == "" {
		t.Errorf("VerifyAuditTrail = %+v", v)
	}
}
