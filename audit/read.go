package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"time"
)

// Read calls fn with every event in dir, node by node in name order, each
// node's events in chain order. It reads only complete lines, so it is safe
// on a directory a running Log appends to. It does not check the chain
// (Verify does).
//
// Read stops at fn's first error and returns it; a line that is not valid
// JSON stops it with a *VerifyError naming the file and line.
func Read(dir string, fn func(Event) error) error {
	nodes, _, err := listSegments(dir)
	if err != nil {
		return err
	}
	for _, node := range sortedNodes(nodes) {
		for _, s := range nodes[node] {
			path := filepath.Join(dir, s.name)
			_, err := forEachLine(path, func(line []byte, n int) error {
				var ev Event
				if err := json.Unmarshal(line, &ev); err != nil {
					return &VerifyError{File: path, Line: n, Reason: "invalid JSON: " + err.Error()}
				}
				return fn(ev)
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// Query selects events for Lookup. Zero fields select everything.
type Query struct {
	Start time.Time // events at or after Start
	End   time.Time // events before End
	// Action, KeyID and User select events whose Action equals Action, whose
	// KeyIDs hold KeyID, and whose User equals User.
	Action, KeyID, User string
	// Offset skips that many matching events; Limit caps how many are
	// returned (Limit <= 0: all).
	Offset, Limit int
}

// matches reports whether ev is selected by q.
func (q *Query) matches(ev *Event) bool {
	return (q.Start.IsZero() || !ev.Time.Before(q.Start)) &&
		(q.End.IsZero() || ev.Time.Before(q.End)) &&
		(q.Action == "" || ev.Action == q.Action) &&
		(q.User == "" || ev.User == q.User) &&
		(q.KeyID == "" || slices.Contains(ev.KeyIDs, q.KeyID))
}

// newer orders events newest first: by Time, then Node, then Seq, so that
// pages are stable.
func newer(a, b Event) int {
	if c := b.Time.Compare(a.Time); c != 0 {
		return c
	}
	if a.Node != b.Node {
		if a.Node < b.Node {
			return -1
		}
		return 1
	}
	switch {
	case a.Seq > b.Seq:
		return -1
	case a.Seq < b.Seq:
		return 1
	}
	return 0
}

// Lookup returns the events in dir that q selects, newest first, skipping
// q.Offset and returning at most q.Limit of them, and the number of events
// selected in all (for paging). Like Read, it sees only complete lines and
// does not check the chain; it returns an error for an unreadable file or a
// line that is not valid JSON.
func Lookup(dir string, q Query) ([]Event, int, error) {
	if q.Offset < 0 {
		return nil, 0, fmt.Errorf("audit: lookup: negative offset %d", q.Offset)
	}
	// Cheap byte tests reject most lines before decoding them; they look for
	// the member exactly as the writer encodes it.
	var needles [][]byte
	if q.Action != "" {
		needles = append(needles, appendString([]byte(`"action":`), q.Action))
	}
	if q.User != "" {
		needles = append(needles, appendString([]byte(`"user":`), q.User))
	}
	if q.KeyID != "" {
		needles = append(needles, appendString(nil, q.KeyID))
	}
	keep := -1 // events worth keeping; -1: all
	if q.Limit > 0 {
		keep = q.Offset + q.Limit
	}
	var got []Event
	total := 0
	nodes, _, err := listSegments(dir)
	if err != nil {
		return nil, 0, err
	}
	for _, node := range sortedNodes(nodes) {
		for _, s := range nodes[node] {
			path := filepath.Join(dir, s.name)
			_, err := forEachLine(path, func(line []byte, n int) error {
				for _, nd := range needles {
					if !bytes.Contains(line, nd) {
						return nil
					}
				}
				var ev Event
				if err := json.Unmarshal(line, &ev); err != nil {
					return &VerifyError{File: path, Line: n, Reason: "invalid JSON: " + err.Error()}
				}
				if !q.matches(&ev) {
					return nil
				}
				total++
				got = append(got, ev)
				if keep >= 0 && len(got) >= 2*keep+64 {
					slices.SortFunc(got, newer)
					got = got[:keep]
				}
				return nil
			})
			if err != nil {
				return nil, 0, err
			}
		}
	}
	slices.SortFunc(got, newer)
	if q.Offset >= len(got) {
		return nil, total, nil
	}
	got = got[q.Offset:]
	if q.Limit > 0 && len(got) > q.Limit {
		got = got[:q.Limit]
	}
	return got, total, nil
}
