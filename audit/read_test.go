package audit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// lookupFixture writes 20 events on two nodes, one per minute from t0:
// node a gets the even minutes, node b the odd ones. Event i is by user
// "u<i%3>", action Encrypt or (i%4 == 0) Decrypt, on key "k<i%5>".
func lookupFixture(t *testing.T) (string, time.Time) {
	t.Helper()
	dir := t.TempDir()
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	a := mustOpen(t, dir, "a", Options{SegmentBytes: 1500})
	b := mustOpen(t, dir, "b", Options{SegmentBytes: 1500})
	for i := range 20 {
		ev := testEvent(i)
		ev.Time = t0.Add(time.Duration(i) * time.Minute)
		ev.User = fmt.Sprintf("u%d", i%3)
		ev.KeyIDs = []string{fmt.Sprintf("k%d", i%5)}
		if i%4 == 0 {
			ev.Action = "Decrypt"
		}
		l := a
		if i%2 == 1 {
			l = b
		}
		if _, err := l.Append(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	b.Close()
	return dir, t0
}

func TestLookup(t *testing.T) {
	dir, t0 := lookupFixture(t)
	min := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	tests := []struct {
		name      string
		q         Query
		wantTotal int
		want      string // request ids' numbers, newest first
	}{
		{"all, first page", Query{Limit: 3}, 20, "19 18 17"},
		{"all, second page", Query{Offset: 3, Limit: 3}, 20, "16 15 14"},
		{"all, last page", Query{Offset: 18, Limit: 5}, 20, "1 0"},
		{"past the end", Query{Offset: 25, Limit: 5}, 20, ""},
		{"action", Query{Action: "Decrypt"}, 5, "16 12 8 4 0"},
		{"user", Query{User: "u1", Limit: 4}, 7, "19 16 13 10"},
		{"key", Query{KeyID: "k2"}, 4, "17 12 7 2"},
		{"time range", Query{Start: min(5), End: min(9)}, 4, "8 7 6 5"},
		{"all filters", Query{Start: min(1), End: min(20), Action: "Encrypt", User: "u2", KeyID: "k4"}, 1, "14"},
		{"no match", Query{Action: "Sign"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, total, err := Lookup(dir, tt.q)
			if err != nil {
				t.Fatalf("Lookup(%+v) err = %v", tt.q, err)
			}
			var ids []string
			for _, ev := range evs {
				n, _ := strconv.Atoi(strings.TrimPrefix(ev.RequestID, "req-"))
				ids = append(ids, strconv.Itoa(n))
			}
			if got := strings.Join(ids, " "); got != tt.want || total != tt.wantTotal {
				t.Errorf("Lookup(%+v) = [%s] total %d, want [%s] total %d", tt.q, got, total, tt.want, tt.wantTotal)
			}
		})
	}
	if _, _, err := Lookup(dir, Query{Offset: -1}); err == nil {
		t.Errorf("Lookup(Offset -1) err = nil, want an error")
	}
}

// TestReadWhileAppending reads a directory a Log is writing to, with an
// incomplete line at the end of a segment: readers see only complete events.
func TestReadWhileAppending(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, "a", Options{SegmentBytes: 4000})
	appendN(t, l, 0, 5)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 5; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := l.Append(context.Background(), testEvent(i)); err != nil {
				t.Errorf("Append() err = %v", err)
				return
			}
		}
	}()
	for range 20 {
		var last uint64
		err := Read(dir, func(ev Event) error {
			if ev.Seq != last+1 {
				return fmt.Errorf("Read() seq %d after %d", ev.Seq, last)
			}
			last = ev.Seq
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := Lookup(dir, Query{Action: "Encrypt", Limit: 10}); err != nil {
			t.Fatalf("Lookup() while appending err = %v", err)
		}
	}
	close(stop)
	wg.Wait()
	l.Close()

	// A write in progress: an incomplete line at the end of the newest segment.
	segs, _, _ := listSegments(dir)
	newest := filepath.Join(dir, segs["a"][len(segs["a"])-1].name)
	f, _ := os.OpenFile(newest, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"seq":999,"time":"2024`)
	f.Close()
	n := 0
	if err := Read(dir, func(Event) error { n++; return nil }); err != nil {
		t.Fatalf("Read() with an incomplete last line err = %v", err)
	}
	rep, err := Verify(dir)
	if err != nil || uint64(n) != rep.Nodes[0].Events || rep.Nodes[0].TornBytes != 23 {
		t.Errorf("Read() saw %d events; Verify() = %+v, %v, want the same count and 23 torn bytes", n, rep.Nodes, err)
	}
}

func TestReadStopsAtCallbackError(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, "a", Options{})
	appendN(t, l, 0, 5)
	l.Close()
	stop := errors.New("enough")
	n := 0
	err := Read(dir, func(Event) error {
		if n++; n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Errorf("Read() = %v after %d events, want %v after 2", err, n, stop)
	}
	editLine(t, filepath.Join(dir, segmentName("a", 1)), 4, func([]byte) []byte { return []byte("{bad\n") })
	var ve *VerifyError
	if err := Read(dir, func(Event) error { return nil }); !errors.As(err, &ve) || ve.Line != 4 {
		t.Errorf("Read() of a bad line err = %v, want a *VerifyError at line 4", err)
	}
}
