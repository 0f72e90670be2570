package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	base := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	tests := []struct {
		name string
		ev   Event
	}{
		{"minimal", Event{Seq: 1, Time: base, Node: "n1", Prev: ZeroHash}},
		{"full", Event{Seq: 42, Time: base, Node: "node-1", RequestID: "r", Phase: PhaseRequest,
			Service: ServiceKMS, Action: "Encrypt", Account: "100", User: "alice", SecretID: "AKID",
			SourceIP: "10.0.0.1", UserAgent: "sdk/1.0", KeyIDs: []string{"a", "b"}, Result: ResultSuccess,
			Message: "ok", Prev: ZeroHash, Hash: strings.Repeat("ab", 32)}},
		{"whole seconds", Event{Seq: 1, Time: base.Truncate(time.Second), Node: "n", Prev: ZeroHash}},
		{"empty key list", Event{Seq: 1, Time: base, Node: "n", KeyIDs: []string{}, Prev: ZeroHash}},
		{"escapes", Event{Seq: 1, Time: base, Node: "n", Message: "a\"b\\c\n\r\t\b\f\x00\x1f<tag>&amp;",
			UserAgent: "line\u2028sep\u2029 é 世界 😀", Prev: ZeroHash}},
		{"invalid utf8", Event{Seq: 1, Time: base, Node: "n", User: "a\xffb\xc3", KeyIDs: []string{"\xfe"}, Prev: ZeroHash}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := appendJSON(nil, &tt.ev)
			if err != nil {
				t.Fatalf("appendJSON() err = %v", err)
			}
			want, err := json.Marshal(tt.ev)
			if err != nil {
				t.Fatalf("json.Marshal() err = %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("appendJSON() =\n%s\nwant (json.Marshal)\n%s", got, want)
			}
		})
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("Encrypt", "a\"<b>\u2028", "\xff\x00", int64(0))
	f.Fuzz(func(t *testing.T, action, user, msg string, nanos int64) {
		ev := Event{Seq: 7, Time: time.Unix(0, nanos).UTC(), Node: "n", Action: action, User: user,
			Message: msg, KeyIDs: []string{user, msg}, Prev: ZeroHash}
		got, err := appendJSON(nil, &ev)
		if err != nil {
			return
		}
		want, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("json.Marshal() err = %v, appendJSON succeeded", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("appendJSON() =\n%q\nwant\n%q", got, want)
		}
	})
}

// TestHashDefinition recomputes a line's hash the two ways docs/audit.md
// gives: from the line's bytes, and from json.Marshal of the event.
func TestHashDefinition(t *testing.T) {
	c := newChainer()
	hd := zeroHead()
	var lines [][]byte
	for i := range 3 {
		ev := Event{Time: time.Unix(int64(i), 0).UTC(), Node: "n", Action: "Encrypt"}
		var line []byte
		var err error
		line, hd, err = c.appendLine(nil, &ev, hd)
		if err != nil {
			t.Fatalf("appendLine() err = %v", err)
		}
		lines = append(lines, line)
	}
	prev := make([]byte, 32)
	for i, line := range lines {
		line = bytes.TrimSuffix(line, []byte("\n"))
		var ev Event
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if want := hex.EncodeToString(prev); ev.Prev != want {
			t.Errorf("line %d prev = %s, want %s", i+1, ev.Prev, want)
		}
		cut := line[:len(line)-hashSuffixLen]
		fromLine := sha256.Sum256(append(append(append([]byte{}, prev...), cut...), '}'))
		hashed := ev.Hash
		ev.Hash = ""
		canon, _ := json.Marshal(ev)
		fromJSON := sha256.Sum256(append(append([]byte{}, prev...), canon...))
		if got := hex.EncodeToString(fromLine[:]); got != hashed {
			t.Errorf("line %d: SHA-256(prev || line without hash) = %s, want %s", i+1, got, hashed)
		}
		if fromJSON != fromLine {
			t.Errorf("line %d: SHA-256(prev || json.Marshal) differs from the line hash", i+1)
		}
		prev = fromLine[:]
	}
}

func TestPrepare(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600))
	clock := func() time.Time { return now }
	ids := []string{"ok", "bad\xff"}
	e := Event{UserAgent: strings.Repeat("é", 400), Message: strings.Repeat("m", 2000), KeyIDs: ids, User: "\xffu"}
	e.prepare("node1", clock)
	if e.Node != "node1" || !e.Time.Equal(now) || e.Time.Location() != time.UTC {
		t.Errorf("prepare: node %q time %v, want node1 and %v in UTC", e.Node, e.Time, now)
	}
	if len(e.UserAgent) != MaxUserAgentBytes || len(e.Message) != MaxMessageBytes {
		t.Errorf("prepare: UserAgent %d bytes, Message %d bytes, want %d and %d",
			len(e.UserAgent), len(e.Message), MaxUserAgentBytes, MaxMessageBytes)
	}
	if e.User != "\uFFFDu" || e.KeyIDs[1] != "bad\uFFFD" || ids[1] != "bad\xff" {
		t.Errorf("prepare: User %q KeyIDs %q (caller's %q), want invalid UTF-8 replaced in a copy", e.User, e.KeyIDs, ids)
	}
}

func TestSegmentName(t *testing.T) {
	tests := []struct {
		name  string
		node  string
		first uint64
		ok    bool
	}{
		{"node-1-00000000000000000001.jsonl", "node-1", 1, true},
		{"a-18446744073709551615.jsonl", "a", 18446744073709551615, true},
		{"a-00000000000000000000.jsonl", "", 0, false},
		{"a-0000000000000000001.jsonl", "", 0, false},
		{"-00000000000000000001.jsonl", "", 0, false},
		{"a-00000000000000000001.json", "", 0, false},
		{"a_00000000000000000001.jsonl", "", 0, false},
		{"a-0000000000000000000x.jsonl", "", 0, false},
	}
	for _, tt := range tests {
		node, first, ok := parseSegmentName(tt.name)
		if node != tt.node || first != tt.first || ok != tt.ok {
			t.Errorf("parseSegmentName(%q) = %q, %d, %v, want %q, %d, %v", tt.name, node, first, ok, tt.node, tt.first, tt.ok)
		}
		if tt.ok {
			if got := segmentName(tt.node, tt.first); got != tt.name {
				t.Errorf("segmentName(%q, %d) = %q, want %q", tt.node, tt.first, got, tt.name)
			}
		}
	}
}
