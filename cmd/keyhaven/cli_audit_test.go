package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCLIAuditOnline checks `keyhaven audit verify|lookup|export` against a
// server, and that export gives the same lines online and offline.
func TestCLIAuditOnline(t *testing.T) {
	e := startCLI(t, true)
	id := str(e.json("key", "create", "--alias", "app"), "KeyId")
	for range 3 {
		e.ok("", "encrypt", "--key-id", id, "--plaintext", "aGk=")
	}

	// verify
	if out := e.ok("", "audit", "verify"); !strings.Contains(out, "Valid") || !strings.Contains(out, "true") || !strings.Contains(out, "Nodes:") {
		t.Errorf("audit verify (online) table:\n%s", out)
	}
	v := e.json("audit", "verify")
	nodes, _ := v["Nodes"].([]any)
	if str(v, "Valid") != "true" || len(nodes) != 1 || str(v, "Problem") != "" {
		t.Errorf("audit verify --output json = %v", v)
	}

	// lookup
	l := e.json("audit", "lookup", "--event-name", "Encrypt")
	events, _ := l["Events"].([]any)
	if str(l, "TotalCount") != "3" || len(events) != 3 || str(l, "ListOver") != "true" {
		t.Fatalf("audit lookup --event-name Encrypt = %v", l)
	}
	ev, _ := events[0].(map[string]any)
	if str(ev, "EventName") != "Encrypt" || str(ev, "RequestID") == "" || !strings.Contains(str(ev, "CloudAuditEvent"), id) {
		t.Errorf("audit lookup event = %v", ev)
	}
	if out := e.ok("", "audit", "lookup", "--resource-name", id); !strings.Contains(out, "Events:") || !strings.Contains(out, "CreateKey") || strings.Contains(out, "CloudAuditEvent") {
		t.Errorf("audit lookup --resource-name table:\n%s", out)
	}
	page := e.json("audit", "lookup", "--event-name", "Encrypt", "--max-results", "2")
	if str(page, "ListOver") != "false" || str(page, "NextToken") == "" {
		t.Fatalf("audit lookup --max-results 2 = %v", page)
	}
	last := e.json("audit", "lookup", "--event-name", "Encrypt", "--max-results", "2", "--next-token", str(page, "NextToken"))
	if rest, _ := last["Events"].([]any); len(rest) != 1 || str(last, "ListOver") != "true" {
		t.Errorf("audit lookup --next-token = %v", last)
	}
	now := time.Now().Unix()
	if got := str(e.json("audit", "lookup", "--event-name", "Encrypt", "--start-time", strconv.FormatInt(now-3600, 10), "--end-time", time.Unix(now-60, 0).UTC().Format(time.RFC3339)), "TotalCount"); got != "0" {
		t.Errorf("audit lookup of an hour ago to a minute ago: TotalCount %s, want 0", got)
	}
	if got := str(e.json("audit", "lookup", "--username", "000000000000"), "TotalCount"); got != "0" {
		t.Errorf("audit lookup --username of nobody: TotalCount %s, want 0", got)
	}

	// export, online (newest first) and offline (in chain order): the same
	// lines, as the trail holds them.
	online := e.ok("", "audit", "export", "--event-name", "Encrypt")
	offline := e.ok("", "audit", "export", "--data-dir", e.dataDir, "--event-name", "Encrypt")
	lines := strings.SplitAfter(online, "\n")
	slices.Reverse(lines)
	if strings.Count(online, "\n") != 3 || strings.Join(lines, "") != offline {
		t.Errorf("audit export --event-name Encrypt online:\n%s\noffline:\n%s", online, offline)
	}
	// Over a page (50) of events; every page asked for adds an event of its
	// own inside the window, which export must not write twice.
	for range 60 {
		e.ok("", "random", "--number-of-bytes", "1")
	}
	if got := strings.Count(e.ok("", "audit", "export", "--event-name", "GenerateRandom"), "\n"); got != 60 {
		t.Errorf("audit export --event-name GenerateRandom wrote %d lines, want 60", got)
	}
	all := e.ok("", "audit", "export")
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(all), "\n") {
		var ev struct {
			Node string
			Seq  uint64
			Hash string
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.Hash == "" {
			t.Fatalf("audit export line %q: %v", line, err)
		}
		k := ev.Node + "/" + strconv.FormatUint(ev.Seq, 10)
		if seen[k] {
			t.Errorf("audit export wrote event %s twice", k)
		}
		seen[k] = true
	}
	if len(seen) < 75 {
		t.Errorf("audit export wrote %d events, want every event so far", len(seen))
	}

	// Errors and the offline/online rule.
	cases := []struct {
		want string
		args []string
	}{
		{"InvalidParameterValue", []string{"audit", "lookup", "--max-results", "51"}},
		{"InvalidParameterValue", []string{"audit", "lookup", "--next-token", "x"}},
		{"--start-time is Unix seconds or an RFC 3339 time", []string{"audit", "lookup", "--start-time", "yesterday"}},
		{"--start-time must be before --end-time", []string{"audit", "lookup", "--start-time", "2000", "--end-time", "1000"}},
		{"not both", []string{"audit", "verify", "--data-dir", e.dataDir, "--endpoint", e.endpoint}},
		{"unknown flag: --data-dir", []string{"audit", "lookup", "--data-dir", e.dataDir}}, // online only
	}
	for _, tc := range cases {
		e.fails(tc.want, tc.args...)
	}
	t.Setenv(envSecretID, "")
	e.fails("--data-dir", "audit", "verify")
	if out := e.ok("", "audit", "verify", "--data-dir", e.dataDir); !strings.Contains(out, "audit trail intact") {
		t.Errorf("audit verify --data-dir:\n%s", out)
	}
	e.asRoot()

	// A changed event: verify says where, prints the report and exits 1.
	files, _ := filepath.Glob(filepath.Join(e.dataDir, "audit", "*.jsonl"))
	if len(files) == 0 {
		t.Fatal("no audit segments in the data dir")
	}
	b, _ := os.ReadFile(files[0])
	i := bytes.Index(b, []byte(`"Encrypt"`))
	b[i+1] = 'D'
	os.WriteFile(files[0], b, 0o600)
	r := e.run("", "audit", "verify", "--output", "json")
	if r.code != 1 || !strings.Contains(r.stderr, "NOT intact") || !strings.Contains(r.stderr, filepath.Base(files[0])) {
		t.Fatalf("audit verify of a changed trail: exit %d, stderr %q", r.code, r.stderr)
	}
	if m := decodeJSON(t, r.stdout); str(m, "Valid") != "false" || str(m, "Problem") == "" || str(m, "Line") == "" {
		t.Errorf("audit verify of a changed trail printed %v", m)
	}
}
