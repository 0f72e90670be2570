package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func testEvent(i int) Event {
	return Event{
		RequestID: fmt.Sprintf("req-%06d", i), Service: ServiceKMS, Action: "Encrypt",
		Account: "100000000001", User: "alice", SecretID: "AKIDexampleexample", SourceIP: "192.0.2.7",
		UserAgent: "tencentcloud-sdk-go/1.0.563", KeyIDs: []string{"6d3a1f9e-5b2c-4c8e-9a7d-2f1e0b3c4d5e"},
		Result: ResultSuccess,
	}
}

func mustOpen(t testing.TB, dir, node string, opts Options) *Log {
	t.Helper()
	l, err := Open(dir, node, opts)
	if err != nil {
		t.Fatalf("Open(%s, %s) err = %v", dir, node, err)
	}
	return l
}

func appendN(t testing.TB, l *Log, from, n int) []Event {
	t.Helper()
	var out []Event
	for i := from; i < from+n; i++ {
		ev, err := l.Append(context.Background(), testEvent(i))
		if err != nil {
			t.Fatalf("Append(%d) err = %v", i, err)
		}
		out = append(out, ev)
	}
	return out
}

func readAll(t testing.TB, dir string) []Event {
	t.Helper()
	var evs []Event
	if err := Read(dir, func(e Event) error { evs = append(evs, e); return nil }); err != nil {
		t.Fatalf("Read(%s) err = %v", dir, err)
	}
	return evs
}

func mustVerify(t testing.TB, dir string) Report {
	t.Helper()
	rep, err := Verify(dir)
	if err != nil {
		t.Fatalf("Verify(%s) err = %v, want nil", dir, err)
	}
	return rep
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, "node1", Options{})
	got := appendN(t, l, 0, 5)
	if err := l.Close(); err != nil {
		t.Fatalf("Close() err = %v", err)
	}
	prev := ZeroHash
	for i, ev := range got {
		if ev.Seq != uint64(i+1) || ev.Prev != prev || !isHexHash(ev.Hash) || ev.Node != "node1" || ev.Time.IsZero() {
			t.Errorf("Append #%d = seq %d prev %.8s hash %q node %q time %v, want seq %d prev %.8s",
				i, ev.Seq, ev.Prev, ev.Hash, ev.Node, ev.Time, i+1, prev)
		}
		prev = ev.Hash
	}
	read := readAll(t, dir)
	if len(read) != len(got) {
		t.Fatalf("Read() got %d events, want %d", len(read), len(got))
	}
	for i := range got {
		a, b := fmt.Sprintf("%+v", got[i]), fmt.Sprintf("%+v", read[i])
		if a != b {
			t.Errorf("event %d: appended %s, read back %s", i, a, b)
		}
	}
	rep := mustVerify(t, dir)
	want := NodeReport{Node: "node1", Segments: 1, Events: 5, FirstSeq: 1, LastSeq: 5, LastHash: prev}
	if len(rep.Nodes) != 1 || rep.Nodes[0] != want {
		t.Errorf("Verify() report = %+v, want [%+v]", rep.Nodes, want)
	}
	if fi, err := os.Stat(filepath.Join(dir, segmentName("node1", 1))); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("segment mode = %v (err %v), want 0600", fi.Mode(), err)
	}
}

func TestOpenCreatesPrivateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "audit")
	l := mustOpen(t, dir, "n", Options{})
	defer l.Close()
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("Open created %s with mode %v (err %v), want 0700", dir, fi.Mode(), err)
	}
}

func TestOpenLocksNode(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, "a", Options{})
	if _, err := Open(dir, "a", Options{}); !errors.Is(err, ErrLocked) {
		t.Errorf("second Open(a) err = %v, want ErrLocked", err)
	}
	b := mustOpen(t, dir, "b", Options{})
	b.Close()
	l.Close()
	l = mustOpen(t, dir, "a", Options{})
	l.Close()
}

func TestOpenRejectsBadNode(t *testing.T) {
	for _, node := range []string{"", "a/b", "..", ".hidden", "n\x00", string(make([]byte, 65))} {
		if _, err := Open(t.TempDir(), node, Options{}); !errors.Is(err, ErrInvalidNode) {
			t.Errorf("Open(node %q) err = %v, want ErrInvalidNode", node, err)
		}
	}
}

func TestConcurrentAppend(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, "node1", Options{SegmentBytes: 32 << 10})
	const workers, each = 16, 150
	results := make([][]Event, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				ev, err := l.Append(context.Background(), testEvent(w*each+i))
				if err != nil {
					t.Errorf("Append() err = %v", err)
					return
				}
				results[w] = append(results[w], ev)
			}
		}()
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatalf("Close() err = %v", err)
	}
	rep := mustVerify(t, dir)
	if n := rep.Nodes[0]; n.Events != workers*each || n.LastSeq != workers*each || n.Segments < 2 {
		t.Errorf("Verify() = %+v, want %d events over several segments", n, workers*each)
	}
	byHash := map[uint64]string{}
	for _, ev := range readAll(t, dir) {
		byHash[ev.Seq] = ev.Hash
	}
	for _, evs := range results {
		for _, ev := range evs {
			if byHash[ev.Seq] != ev.Hash {
				t.Fatalf("Append returned seq %d hash %.8s, log holds %.8s", ev.Seq, ev.Hash, byHash[ev.Seq])
			}
		}
	}
}

// countingOpen counts segment fsyncs and makes each take a while, as on a
// real disk, so that appends pile up behind it.
func countingOpen(syncs *atomic.Int64, delay time.Duration) func(string, int, fs.FileMode) (File, error) {
	return func(name string, flag int, perm fs.FileMode) (File, error) {
		f, err := os.OpenFile(name, flag, perm)
		if err != nil {
			return nil, err
		}
		return &slowSyncFile{File: f, syncs: syncs, delay: delay, dir: flag == os.O_RDONLY}, nil
	}
}

type slowSyncFile struct {
	*os.File
	syncs *atomic.Int64
	delay time.Duration
	dir   bool
}

func (f *slowSyncFile) Sync() error {
	if !f.dir {
		f.syncs.Add(1)
		time.Sleep(f.delay)
	}
	return f.File.Sync()
}

func TestGroupCommitBatches(t *testing.T) {
	// Waiters released by one fsync queue again during the next, so batches
	// hold about half the goroutines each; allow twice that many fsyncs.
	for _, tt := range []struct{ workers, maxSyncsPer int }{{8, 2}, {64, 8}} {
		workers := tt.workers
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			var syncs atomic.Int64
			dir := t.TempDir()
			l := mustOpen(t, dir, "n", Options{OpenFile: countingOpen(&syncs, time.Millisecond)})
			const each = 20
			var wg sync.WaitGroup
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						if _, err := l.Append(context.Background(), testEvent(i)); err != nil {
							t.Errorf("Append() err = %v", err)
						}
					}
				}()
			}
			wg.Wait()
			st := l.Stats()
			l.Close()
			n := int64(workers * each)
			limit := n / int64(tt.maxSyncsPer)
			if got := syncs.Load(); got > limit || uint64(got) != st.Syncs || st.Events != uint64(n) {
				t.Errorf("%d appends by %d goroutines: %d fsyncs (Stats %+v), want at most %d", n, workers, got, st, limit)
			}
			t.Logf("%d appends, %d fsyncs: %.1f events per fsync", n, st.Syncs, float64(n)/float64(st.Syncs))
			mustVerify(t, dir)
		})
	}
}

func TestRolloverAndReopen(t *testing.T) {
	dir := t.TempDir()
	const segBytes = 2000
	l := mustOpen(t, dir, "n", Options{SegmentBytes: segBytes})
	appendN(t, l, 0, 30)
	l.Close()
	segs1, _, _ := listSegments(dir)
	if len(segs1["n"]) < 3 {
		t.Fatalf("after 30 events of ~450 bytes with SegmentBytes %d: %d segments, want several", segBytes, len(segs1["n"]))
	}
	for _, s := range segs1["n"] {
		fi, _ := os.Stat(filepath.Join(dir, s.name))
		if fi.Size() > segBytes {
			t.Errorf("segment %s is %d bytes, want <= %d", s.name, fi.Size(), segBytes)
		}
	}
	l = mustOpen(t, dir, "n", Options{SegmentBytes: segBytes})
	if seq, _ := l.Head(); seq != 30 {
		t.Errorf("reopened Head() seq = %d, want 30", seq)
	}
	evs := appendN(t, l, 30, 20)
	l.Close()
	if evs[0].Seq != 31 {
		t.Errorf("first Append after reopen seq = %d, want 31", evs[0].Seq)
	}
	rep := mustVerify(t, dir)
	if n := rep.Nodes[0]; n.Events != 50 || n.LastHash != evs[len(evs)-1].Hash {
		t.Errorf("Verify() = %+v, want 50 events ending with %s", n, evs[len(evs)-1].Hash)
	}
}

func TestTornTailRecovery(t *testing.T) {
	tests := []struct {
		name string
		torn string
		// newSegment puts the torn bytes in a new segment, as if a crash hit
		// a batch that started one.
		newSegment bool
	}{
		{"partial line", `{"seq":11,"time":"2024-01-0`, false},
		{"partial line in new segment", `{"seq":11,"ti`, true},
		{"zeros", "\x00\x00\x00\x00\x00\x00\x00\x00", false},
		{"complete garbage line", "\x00\x00garbage\n", false},
		{"garbage lines then partial", "{\"seq\":11,\x00\x00\n\x00\n{\"se", false},
		{"empty new segment", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l := mustOpen(t, dir, "a", Options{})
			before := appendN(t, l, 0, 10)
			l.Close()
			// Another node's segment with its own torn tail must be left alone.
			other := filepath.Join(dir, segmentName("b", 1))
			otherData := []byte("{\"seq\":1,\"node\":\"b\"")
			os.WriteFile(other, otherData, 0o600)

			path := filepath.Join(dir, segmentName("a", 1))
			if tt.newSegment {
				path = filepath.Join(dir, segmentName("a", 11))
				os.WriteFile(path, nil, 0o600)
			}
			f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			f.WriteString(tt.torn)
			f.Close()

			l = mustOpen(t, dir, "a", Options{})
			if got := l.Stats().Recovered; got != int64(len(tt.torn)) {
				t.Errorf("Open() recovered %d bytes, want %d", got, len(tt.torn))
			}
			if seq, hash := l.Head(); seq != 10 || hash != before[9].Hash {
				t.Errorf("Head() = %d %.8s, want 10 %.8s", seq, hash, before[9].Hash)
			}
			after := appendN(t, l, 10, 3)
			l.Close()
			if after[0].Seq != 11 || after[0].Prev != before[9].Hash {
				t.Errorf("Append after recovery = seq %d prev %.8s, want 11 %.8s", after[0].Seq, after[0].Prev, before[9].Hash)
			}
			if rep := mustVerify(t, dir); rep.Nodes[1].TornBytes != int64(len(otherData)) {
				t.Errorf("Verify() node b = %+v, want %d torn bytes", rep.Nodes[1], len(otherData))
			}
			if got, _ := os.ReadFile(other); !bytes.Equal(got, otherData) {
				t.Errorf("other node's segment changed: %q, want %q", got, otherData)
			}
		})
	}
}

func TestTwoNodesOneDir(t *testing.T) {
	dir := t.TempDir()
	a := mustOpen(t, dir, "node-a", Options{SegmentBytes: 3000})
	b := mustOpen(t, dir, "node-b", Options{SegmentBytes: 3000})
	var wg sync.WaitGroup
	for _, l := range []*Log{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); appendN(t, l, 0, 40) }()
	}
	wg.Wait()
	a.Close()
	b.Close()
	a = mustOpen(t, dir, "node-a", Options{SegmentBytes: 3000})
	appendN(t, a, 40, 5)
	a.Close()
	rep := mustVerify(t, dir)
	if len(rep.Nodes) != 2 || rep.Nodes[0].Node != "node-a" || rep.Nodes[0].Events != 45 ||
		rep.Nodes[1].Node != "node-b" || rep.Nodes[1].Events != 40 {
		t.Errorf("Verify() = %+v, want node-a with 45 events and node-b with 40", rep.Nodes)
	}
	evs := readAll(t, dir)
	for i, ev := range evs {
		wantNode, wantSeq := "node-a", uint64(i+1)
		if i >= 45 {
			wantNode, wantSeq = "node-b", uint64(i-45+1)
		}
		if ev.Node != wantNode || ev.Seq != wantSeq {
			t.Fatalf("Read() event %d = %s/%d, want %s/%d", i, ev.Node, ev.Seq, wantNode, wantSeq)
		}
	}
}

func TestMemoryMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "audit")
	l := mustOpen(t, dir, "n", Options{Mode: ModeMemory})
	evs := appendN(t, l, 0, 3)
	if evs[2].Seq != 3 || evs[2].Prev != evs[1].Hash || !isHexHash(evs[2].Hash) {
		t.Errorf("ModeMemory Append = %+v, want a chained event with seq 3", evs[2])
	}
	if seq, hash := l.Head(); seq != 3 || hash != evs[2].Hash {
		t.Errorf("Head() = %d %s, want 3 %s", seq, hash, evs[2].Hash)
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close() err = %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ModeMemory touched %s (stat err %v)", dir, err)
	}
	if _, err := l.Append(context.Background(), testEvent(0)); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close err = %v, want ErrClosed", err)
	}
}

func TestClosedAndCanceled(t *testing.T) {
	l := mustOpen(t, t.TempDir(), "n", Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Append(ctx, testEvent(0)); !errors.Is(err, context.Canceled) {
		t.Errorf("Append(canceled ctx) err = %v, want context.Canceled", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close() err = %v", err)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close() err = %v, want ErrClosed", err)
	}
	if _, err := l.Append(context.Background(), testEvent(0)); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close err = %v, want ErrClosed", err)
	}
	if _, err := ParseMode("fast"); err == nil {
		t.Errorf("ParseMode(fast) err = nil, want an error")
	}
}

func TestInvalidEventFailsAlone(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, "n", Options{})
	bad := testEvent(0)
	bad.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := l.Append(context.Background(), bad); !errors.Is(err, ErrInvalidEvent) {
		t.Errorf("Append(year 10000) err = %v, want ErrInvalidEvent", err)
	}
	huge := testEvent(0)
	huge.KeyIDs = make([]string, MaxLineBytes/8)
	for i := range huge.KeyIDs {
		huge.KeyIDs[i] = "key-id"
	}
	if _, err := l.Append(context.Background(), huge); !errors.Is(err, ErrInvalidEvent) {
		t.Errorf("Append(%d key ids) err = %v, want ErrInvalidEvent", len(huge.KeyIDs), err)
	}
	if evs := appendN(t, l, 1, 2); evs[0].Seq != 1 {
		t.Errorf("Append after refused events seq = %d, want 1", evs[0].Seq)
	}
	l.Close()
	mustVerify(t, dir)
}
