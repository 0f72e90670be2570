package audit

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Mode says whether a Log writes its events to disk.
type Mode string

// The modes of a Log. The zero value is durable.
const (
	// ModeDurable writes every event and fsyncs it before Append returns.
	ModeDurable Mode = "durable"
	// ModeMemory chains and encodes events exactly as ModeDurable does but
	// writes nothing: the trail is lost with the process. For benchmarks
	// (the cost of durability) and tests only.
	ModeMemory Mode = "memory"
)

// ParseMode returns the Mode whose name is s ("" is ModeDurable), or an error.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case "", ModeDurable:
		return ModeDurable, nil
	case ModeMemory:
		return m, nil
	}
	return "", fmt.Errorf("audit: unknown mode %q (want %q or %q)", s, ModeDurable, ModeMemory)
}

// File is what a Log needs of an open file; *os.File implements it.
type File interface {
	io.Writer
	Sync() error
	Truncate(size int64) error
	Stat() (fs.FileInfo, error)
	Close() error
}

// Options configure a Log. The zero value is a durable log with the
// defaults below.
type Options struct {
	// SegmentBytes is the size past which the next batch starts a new
	// segment file. Zero means 64 MiB.
	SegmentBytes int64
	// Mode is ModeDurable (also the zero value) or ModeMemory.
	Mode Mode
	// MaxBatch caps the events written with one write and one fsync. Zero
	// means 1024.
	MaxBatch int
	// OpenFile opens segment files and the directory (O_RDONLY, to sync it).
	// Nil means os.OpenFile. It exists to inject faults and count syncs.
	OpenFile func(name string, flag int, perm fs.FileMode) (File, error)
	// Now is the clock for events with a zero Time. Nil means time.Now.
	Now func() time.Time
}

// Stats count what a Log has done since Open.
type Stats struct {
	Events    uint64 // events made durable (chained, in ModeMemory)
	Batches   uint64 // successful group commits
	Syncs     uint64 // fsyncs of segment files (directory syncs not counted)
	Failures  uint64 // batches that failed to write or sync
	Segments  uint64 // segment files created
	Recovered int64  // torn bytes Open cut from the newest segment
}

// Log appends one node's events to its hash chain. It is safe for concurrent
// use. Open it with Open; Close it to stop its writer.
type Log struct {
	dir, node string
	mode      Mode
	segBytes  int64
	open      func(string, int, fs.FileMode) (File, error)
	now       func() time.Time

	// Appenders hold mu (read) while sending, so Close can close queue.
	mu     sync.RWMutex
	closed bool
	queue  chan *request
	pool   sync.Pool
	done   chan struct{} // closed when the writer has stopped

	// Writer state: owned by the writer goroutine (by memMu in ModeMemory).
	memMu sync.Mutex
	ch    *chainer
	hd    head   // last durable event
	buf   []byte // the batch being written
	f     File   // open segment; nil if it must be (re)opened
	lockf *os.File
	seg   string // path of the newest segment, "" before the first
	size  int64  // durable size of seg

	headMu   sync.Mutex
	headSeq  uint64
	headHash string

	events, batches, syncs, failures, segments atomic.Uint64
	recovered                                  int64
}

// request is one Append waiting for the writer.
type request struct {
	ev   Event
	err  error
	done chan struct{}
}

// Open opens node's log in dir, creating dir (mode 0700) if needed, and
// continues node's chain from its newest segment, cutting away a torn last
// line left by a crash. Other nodes' segments in dir are not touched. The
// node's chain is locked (flock on <node>.lock) until Close. In ModeMemory
// nothing is read or written and dir may be empty.
//
// Open returns ErrInvalidNode for a bad node name, ErrLocked if the node's
// log is already open, and an error if dir cannot be created or the newest
// segment cannot be read or repaired.
func Open(dir, node string, opts Options) (*Log, error) {
	if !validNode(node) {
		return nil, fmt.Errorf("audit: node %q: %w", node, ErrInvalidNode)
	}
	mode, err := ParseMode(string(opts.Mode))
	if err != nil {
		return nil, err
	}
	l := &Log{
		dir: dir, node: node, mode: mode,
		segBytes: opts.SegmentBytes,
		open:     opts.OpenFile,
		now:      opts.Now,
		ch:       newChainer(),
		hd:       zeroHead(),
		done:     make(chan struct{}),
	}
	if l.segBytes <= 0 {
		l.segBytes = 64 << 20
	}
	if l.open == nil {
		l.open = func(name string, flag int, perm fs.FileMode) (File, error) {
			return os.OpenFile(name, flag, perm)
		}
	}
	if l.now == nil {
		l.now = time.Now
	}
	maxBatch := opts.MaxBatch
	if maxBatch <= 0 {
		maxBatch = 1024
	}
	l.pool.New = func() any { return &request{done: make(chan struct{}, 1)} }
	l.headHash = ZeroHash
	if mode == ModeMemory {
		close(l.done)
		return l, nil
	}

	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	lockPath := filepath.Join(dir, node+".lock")
	if l.lockf, err = os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	if err := lock(l.lockf); err != nil {
		l.lockf.Close()
		return nil, fmt.Errorf("audit: lock %s: %w", lockPath, err)
	}
	t, err := recoverNode(dir, node, l.open)
	if err != nil {
		l.lockf.Close()
		return nil, err
	}
	l.hd, l.seg, l.size, l.recovered = t.head, t.path, t.size, t.recovered
	l.headSeq, l.headHash = t.head.seq, t.head.hash
	l.queue = make(chan *request, maxBatch)
	go l.run(maxBatch)
	return l, nil
}

// Append adds e to the chain and returns it as recorded: with Seq, Prev,
// Hash and Node set, Time set to now if it was zero and converted to UTC,
// invalid UTF-8 replaced and long UserAgent and Message values cut.
//
// Append returns only when the event is durable (written and fsynced); a nil
// error means it is. Concurrent Appends share one write and one fsync.
// ctx bounds only the wait for the writer to take the event: once taken,
// Append waits for the outcome so that it never reports a durable event as
// failed. If the write or sync fails, every Append of that batch returns the
// error, the chain does not advance, and the failed batch is cut from the
// file; a later Append retries from the last durable event. Append returns
// ErrClosed after Close, ErrInvalidEvent for an event that cannot be encoded,
// and ctx.Err() if ctx ends first.
func (l *Log) Append(ctx context.Context, e Event) (Event, error) {
	e.prepare(l.node, l.now)
	if l.mode == ModeMemory {
		return l.appendMemory(e)
	}
	if err := ctx.Err(); err != nil {
		return Event{}, err
	}
	r := l.pool.Get().(*request)
	r.ev, r.err = e, nil
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		l.pool.Put(r)
		return Event{}, ErrClosed
	}
	select {
	case l.queue <- r:
		l.mu.RUnlock()
	case <-ctx.Done():
		l.mu.RUnlock()
		l.pool.Put(r)
		return Event{}, ctx.Err()
	}
	<-r.done
	e, err := r.ev, r.err
	r.ev, r.err = Event{}, nil
	l.pool.Put(r)
	if err != nil {
		return Event{}, err
	}
	return e, nil
}

func (l *Log) appendMemory(e Event) (Event, error) {
	l.memMu.Lock()
	defer l.memMu.Unlock()
	if l.closed {
		return Event{}, ErrClosed
	}
	var err error
	l.buf, l.hd, err = l.ch.appendLine(l.buf[:0], &e, l.hd)
	if err != nil {
		return Event{}, err
	}
	l.events.Add(1)
	return e, nil
}

// Close writes the events already handed to the writer, stops it and closes
// the segment file. Appends after Close return ErrClosed; so does a second
// Close.
func (l *Log) Close() error {
	if l.mode == ModeMemory {
		l.memMu.Lock()
		defer l.memMu.Unlock()
		if l.closed {
			return ErrClosed
		}
		l.closed = true
		return nil
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	close(l.queue)
	l.mu.Unlock()
	<-l.done
	defer l.lockf.Close()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("audit: close %s: %w", l.seg, err)
	}
	return nil
}

// Head returns the sequence number and hash of the last durable event (0 and
// ZeroHash before the first). Recording it elsewhere lets a later Verify
// detect a truncated tail, which the chain alone cannot.
func (l *Log) Head() (seq uint64, hash string) {
	if l.mode == ModeMemory {
		l.memMu.Lock()
		defer l.memMu.Unlock()
		return l.hd.seq, l.hd.hash
	}
	l.headMu.Lock()
	defer l.headMu.Unlock()
	return l.headSeq, l.headHash
}

// Stats returns the log's counters.
func (l *Log) Stats() Stats {
	return Stats{
		Events:    l.events.Load(),
		Batches:   l.batches.Load(),
		Syncs:     l.syncs.Load(),
		Failures:  l.failures.Load(),
		Segments:  l.segments.Load(),
		Recovered: l.recovered,
	}
}

// run is the writer: it takes every request waiting in the queue (up to
// maxBatch), commits them together and releases their waiters.
func (l *Log) run(maxBatch int) {
	defer close(l.done)
	batch := make([]*request, 0, maxBatch)
	for r := range l.queue {
		batch = append(batch[:0], r)
	drain:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-l.queue:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		l.commit(batch)
		for i, r := range batch {
			batch[i] = nil
			r.done <- struct{}{}
		}
	}
}

// commit chains the batch's events after the durable head, writes them with
// one write and one fsync, and advances the head only if both succeed.
func (l *Log) commit(batch []*request) {
	buf := l.buf[:0]
	hd := l.hd
	n := 0
	for _, r := range batch {
		var err error
		if buf, hd, err = l.ch.appendLine(buf, &r.ev, hd); err != nil {
			r.err = err
			continue
		}
		n++
	}
	if cap(buf) <= 4<<20 {
		l.buf = buf
	}
	if n == 0 {
		return
	}
	if err := l.write(buf, l.hd.seq+1); err != nil {
		l.failures.Add(1)
		for _, r := range batch {
			if r.err == nil {
				r.err = err
			}
		}
		return
	}
	l.hd = hd
	l.headMu.Lock()
	l.headSeq, l.headHash = hd.seq, hd.hash
	l.headMu.Unlock()
	l.events.Add(uint64(n))
	l.batches.Add(1)
}

// write makes buf, whose first event has sequence number first, durable at
// the end of the newest segment, or in a new segment if it would grow past
// segBytes. On failure the segment is left at its last durable size (or cut
// back to it when next opened) and the error names the file.
func (l *Log) write(buf []byte, first uint64) error {
	if l.seg == "" || l.size > 0 && l.size+int64(len(buf)) > l.segBytes {
		return l.writeSegment(buf, first)
	}
	if l.f == nil {
		if err := l.reopen(); err != nil {
			return err
		}
	}
	if _, err := l.f.Write(buf); err != nil {
		l.fail()
		return fmt.Errorf("audit: write %s: %w", l.seg, err)
	}
	if err := l.f.Sync(); err != nil {
		l.fail()
		return fmt.Errorf("audit: sync %s: %w", l.seg, err)
	}
	l.syncs.Add(1)
	l.size += int64(len(buf))
	return nil
}

// fail cuts the open segment back to its durable size and closes it, so the
// next batch reopens it from a known state.
func (l *Log) fail() {
	l.f.Truncate(l.size) // best effort; reopen checks and retries
	l.f.Close()
	l.f = nil
}

// reopen opens the newest segment for appending and cuts anything a failed
// batch left beyond its durable size.
func (l *Log) reopen() error {
	f, err := l.open(l.seg, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("audit: reopen: %w", err)
	}
	fi, err := f.Stat()
	if err == nil {
		switch {
		case fi.Size() < l.size:
			err = fmt.Errorf("segment shrank from %d to %d bytes", l.size, fi.Size())
		case fi.Size() > l.size:
			err = f.Truncate(l.size)
		}
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("audit: reopen %s: %w", l.seg, err)
	}
	l.f = f
	return nil
}

// writeSegment starts a new segment with buf: it creates the file, writes
// and syncs it, and syncs the directory so the new name is durable too.
func (l *Log) writeSegment(buf []byte, first uint64) error {
	path := filepath.Join(l.dir, segmentName(l.node, first))
	f, err := l.open(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("audit: create segment: %w", err)
	}
	if _, err = f.Write(buf); err == nil {
		if err = f.Sync(); err == nil {
			l.syncs.Add(1)
			err = l.syncDir()
		}
	}
	if err != nil {
		f.Close()
		os.Remove(path) // best effort: never acknowledged, and O_TRUNC on retry
		return fmt.Errorf("audit: write %s: %w", path, err)
	}
	if l.f != nil {
		l.f.Close() // its content is already durable
	}
	l.f, l.seg, l.size = f, path, int64(len(buf))
	l.segments.Add(1)
	return nil
}

func (l *Log) syncDir() error {
	d, err := l.open(l.dir, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
