package audit

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"sync"
	"syscall"
	"testing"
)

// faults injects errors into the files a Log opens: a disk that fills up
// (ENOSPC after a partial write), fails to sync, or refuses to open files.
type faults struct {
	mu      sync.Mutex
	write   error // Write of a segment fails, after writing half
	sync    error // Sync of a segment fails (after its data was written)
	create  error // creating a segment fails
	reopen  error // opening an existing segment fails (e.g. made read-only)
	dirSync error // syncing the directory fails
}

func (fl *faults) get() faults {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	return faults{write: fl.write, sync: fl.sync, create: fl.create, reopen: fl.reopen, dirSync: fl.dirSync}
}

func (fl *faults) set(fn func(*faults)) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	fn(fl)
}

func (fl *faults) open(name string, flag int, perm fs.FileMode) (File, error) {
	cur := fl.get()
	switch {
	case flag&os.O_CREATE != 0 && cur.create != nil:
		return nil, cur.create
	case flag&os.O_APPEND != 0 && flag&os.O_CREATE == 0 && cur.reopen != nil:
		return nil, cur.reopen
	}
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultyFile{File: f, fl: fl, dir: flag == os.O_RDONLY}, nil
}

type faultyFile struct {
	*os.File
	fl  *faults
	dir bool
}

func (f *faultyFile) Write(p []byte) (int, error) {
	if err := f.fl.get().write; err != nil {
		n, _ := f.File.Write(p[:len(p)/2])
		return n, err
	}
	return f.File.Write(p)
}

func (f *faultyFile) Sync() error {
	cur := f.fl.get()
	if f.dir && cur.dirSync != nil {
		return cur.dirSync
	}
	if !f.dir && cur.sync != nil {
		return cur.sync
	}
	return f.File.Sync()
}

func TestFaultsFailClosedThenRecover(t *testing.T) {
	tests := []struct {
		name   string
		before int // events appended before the fault (SegmentBytes 2200: ~4 per segment)
		fault  func(*faults)
		want   []error // any of them
	}{
		{"disk full mid-write", 2, func(f *faults) { f.write = syscall.ENOSPC }, []error{syscall.ENOSPC}},
		{"fsync fails", 2, func(f *faults) { f.sync = syscall.EIO }, []error{syscall.EIO}},
		{"write fails, file then unwritable", 2, func(f *faults) { f.write, f.reopen = syscall.EIO, syscall.EACCES }, []error{syscall.EIO, syscall.EACCES}},
		{"new segment cannot be created", 4, func(f *faults) { f.create = syscall.EACCES }, []error{syscall.EACCES}},
		{"disk full in new segment", 4, func(f *faults) { f.write = syscall.ENOSPC }, []error{syscall.ENOSPC}},
		{"directory sync fails", 4, func(f *faults) { f.dirSync = syscall.EIO }, []error{syscall.EIO}},
		{"first segment cannot be created", 0, func(f *faults) { f.create = syscall.ENOSPC }, []error{syscall.ENOSPC}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			fl := &faults{}
			l := mustOpen(t, dir, "n", Options{SegmentBytes: 2200, OpenFile: fl.open})
			acked := appendN(t, l, 0, tt.before)

			fl.set(tt.fault)
			var wg sync.WaitGroup
			errs := make([]error, 8)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = l.Append(context.Background(), testEvent(100+i))
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if !isAny(err, tt.want) {
					t.Errorf("Append #%d during fault err = %v, want %v", i, err, tt.want)
				}
			}
			if _, err := l.Append(context.Background(), testEvent(200)); !isAny(err, tt.want) {
				t.Errorf("second Append during fault err = %v, want %v", err, tt.want)
			}
			if seq, _ := l.Head(); seq != uint64(tt.before) {
				t.Errorf("Head() after failed appends = %d, want %d", seq, tt.before)
			}

			fl.set(func(f *faults) { f.write, f.sync, f.create, f.reopen, f.dirSync = nil, nil, nil, nil, nil })
			acked = append(acked, appendN(t, l, 300, 6)...)
			if st := l.Stats(); st.Failures < 2 || st.Events != uint64(len(acked)) {
				t.Errorf("Stats() = %+v, want >= 2 failures and %d events", st, len(acked))
			}
			l.Close()

			rep := mustVerify(t, dir)
			if rep.Nodes[0].TornBytes != 0 {
				t.Errorf("Verify() = %+v, want no torn bytes left by the failed writes", rep.Nodes[0])
			}
			got := readAll(t, dir)
			if len(got) != len(acked) {
				t.Fatalf("log holds %d events, want the %d acknowledged ones", len(got), len(acked))
			}
			for i := range got {
				if got[i].Hash != acked[i].Hash || got[i].Seq != uint64(i+1) {
					t.Errorf("event %d in log = seq %d %.8s, acknowledged seq %d %.8s", i, got[i].Seq, got[i].Hash, acked[i].Seq, acked[i].Hash)
				}
			}
			// The recovered log reopens and continues.
			l = mustOpen(t, dir, "n", Options{SegmentBytes: 2200})
			appendN(t, l, 400, 2)
			l.Close()
			mustVerify(t, dir)
		})
	}
}

// TestSegmentShrankFailsClosed: if a segment loses durable bytes behind the
// log's back, appends keep failing rather than chain onto a gap.
func TestSegmentShrankFailsClosed(t *testing.T) {
	dir := t.TempDir()
	fl := &faults{}
	l := mustOpen(t, dir, "n", Options{OpenFile: fl.open})
	appendN(t, l, 0, 3)
	fl.set(func(f *faults) { f.write = syscall.EIO })
	l.Append(context.Background(), testEvent(3))
	fl.set(func(f *faults) { f.write, f.sync, f.create, f.reopen, f.dirSync = nil, nil, nil, nil, nil })
	os.Truncate(l.seg, 10)
	for range 2 {
		if _, err := l.Append(context.Background(), testEvent(4)); err == nil {
			t.Errorf("Append after the segment shrank err = nil, want an error")
		}
	}
	l.Close()
}

func isAny(err error, targets []error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
