package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
)

// VerifyError says where a chain is broken: the file and 1-based line of the
// first event that does not verify (Line 0: the file as a whole), the
// sequence number expected there, and why.
type VerifyError struct {
	File   string // path of the segment file
	Line   int
	Seq    uint64
	Reason string
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("audit: %s:%d: seq %d: %s", e.File, e.Line, e.Seq, e.Reason)
}

// Report is what Verify found, per node in name order.
type Report struct {
	Nodes []NodeReport
}

// NodeReport describes one node's chain as far as it verified.
type NodeReport struct {
	Node     string
	Segments int
	Events   uint64
	FirstSeq uint64 // 1 unless the chain is empty
	LastSeq  uint64
	LastHash string // ZeroHash if the chain is empty
	// TornBytes counts bytes after the last newline of the newest segment:
	// a write cut by a crash, never acknowledged, cut by the next Open.
	TornBytes int64
}

// Verify checks every node's chain in dir, offline: each node's sequence
// numbers start at 1 and rise by one across its segments, each segment's
// name matches its first event, every line is valid JSON naming its node,
// each Prev equals the previous event's Hash, and each Hash recomputes. It
// thus detects any changed, inserted, removed or reordered event and any
// missing segment other than the newest; a chain cut at its end can only be
// detected by comparing LastSeq and LastHash with a copy kept elsewhere
// (see Log.Head).
//
// Verify returns the report and, if a chain is broken, an error holding one
// *VerifyError per broken node (use errors.As), the report then describing
// that node's chain up to the break. Other errors are I/O errors.
func Verify(dir string) (Report, error) {
	nodes, stray, err := listSegments(dir)
	if err != nil {
		return Report{}, err
	}
	var rep Report
	var errs []error
	for _, name := range stray {
		errs = append(errs, &VerifyError{File: filepath.Join(dir, name),
			Reason: "not a segment file name (want <node>-<first seq, 20 digits>.jsonl)"})
	}
	for _, node := range sortedNodes(nodes) {
		nr, err := verifyNode(dir, node, nodes[node])
		rep.Nodes = append(rep.Nodes, nr)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return rep, errors.Join(errs...)
}

// chainCheck verifies one node's events in order.
type chainCheck struct {
	node    string
	next    uint64 // seq expected next
	prev    [32]byte
	prevHex string
	sum     [32]byte
	h       hash.Hash
}

func verifyNode(dir, node string, segs []segment) (NodeReport, error) {
	nr := NodeReport{Node: node, LastHash: ZeroHash}
	c := &chainCheck{node: node, next: 1, prevHex: ZeroHash, h: sha256.New()}
	for i, s := range segs {
		path := filepath.Join(dir, s.name)
		nr.Segments++
		if s.first != c.next {
			reason := fmt.Sprintf("segment starts at seq %d, want %d", s.first, c.next)
			if s.first > c.next {
				reason += fmt.Sprintf(" (events %d to %d are missing)", c.next, s.first-1)
			}
			return nr, &VerifyError{File: path, Line: 1, Seq: c.next, Reason: reason}
		}
		torn, err := forEachLine(path, func(line []byte, n int) error {
			if reason := c.check(line); reason != "" {
				return &VerifyError{File: path, Line: n, Seq: c.next, Reason: reason}
			}
			c.next++
			nr.Events++
			nr.FirstSeq = 1
			nr.LastSeq = c.next - 1
			nr.LastHash = c.prevHex
			return nil
		})
		if err != nil {
			return nr, err
		}
		if torn.bytes > 0 {
			if i < len(segs)-1 {
				return nr, &VerifyError{File: path, Line: torn.line, Seq: c.next,
					Reason: "incomplete line (no newline) before the end of the chain"}
			}
			nr.TornBytes = torn.bytes
		}
	}
	return nr, nil
}

// check verifies line as the next event of the chain and, if it verifies,
// makes it the chain's head. It returns why the line fails, or "".
func (c *chainCheck) check(line []byte) string {
	var ev Event
	if err := json.Unmarshal(line, &ev); err != nil {
		return "invalid JSON: " + err.Error()
	}
	switch {
	case ev.Node != c.node:
		return fmt.Sprintf("node %q in a segment of node %q", ev.Node, c.node)
	case ev.Seq != c.next:
		return fmt.Sprintf("seq %d, want %d (event removed, inserted or reordered)", ev.Seq, c.next)
	case ev.Prev != c.prevHex:
		return fmt.Sprintf("prev %.16s… does not match the hash of seq %d", ev.Prev, c.next-1)
	}
	cut := len(line) - hashSuffixLen
	if cut < 1 || !bytes.HasPrefix(line[cut:], []byte(`,"hash":"`)) ||
		!bytes.HasSuffix(line, []byte(`"}`)) || ev.Hash != string(line[cut+9:len(line)-2]) ||
		!isHexHash(ev.Hash) {
		return `line does not end with its "hash" member`
	}
	c.h.Reset()
	c.h.Write(c.prev[:])
	c.h.Write(line[:cut])
	c.h.Write([]byte{'}'})
	c.h.Sum(c.sum[:0])
	var got [32]byte
	hex.Decode(got[:], line[cut+9:len(line)-2])
	if got != c.sum {
		return "hash does not match the event's content (event changed)"
	}
	c.prev, c.prevHex = c.sum, ev.Hash
	return ""
}

// tornTail is what follows the last newline of a file.
type tornTail struct {
	bytes int64
	line  int // its line number
}

// maxReadLine bounds the lines forEachLine accepts, so garbage cannot
// exhaust memory.
const maxReadLine = 2 * MaxLineBytes

// forEachLine calls fn with each complete (newline-terminated) line of the
// file at path, without its newline, and its 1-based number. Bytes after the
// last newline — a write in progress or cut by a crash — are not passed to
// fn but reported. It stops at fn's first error and returns it.
func forEachLine(path string, fn func(line []byte, n int) error) (tornTail, error) {
	f, err := os.Open(path)
	if err != nil {
		return tornTail{}, fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 256<<10)
	var long []byte
	for n := 1; ; n++ {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) && len(long) <= maxReadLine {
				line, err = r.ReadSlice('\n')
				long = append(long, line...)
			}
			if len(long) > maxReadLine {
				return tornTail{}, &VerifyError{File: path, Line: n, Reason: "line too long"}
			}
			line = long
		}
		switch {
		case err == nil:
			if err := fn(line[:len(line)-1], n); err != nil {
				return tornTail{}, err
			}
		case errors.Is(err, io.EOF):
			return tornTail{bytes: int64(len(line)), line: n}, nil
		default:
			return tornTail{}, fmt.Errorf("audit: read %s: %w", path, err)
		}
	}
}
