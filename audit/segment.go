package audit

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Segment files are named <node>-<first seq, 20 digits>.jsonl.
const (
	segmentExt    = ".jsonl"
	segmentDigits = 20
)

// recoverWindow bounds how much of the newest segment Open reads back to find
// its last complete event.
const recoverWindow = 8 << 20

// segmentName returns the file name of node's segment whose first event has
// sequence number first.
func segmentName(node string, first uint64) string {
	var b strings.Builder
	b.Grow(len(node) + 1 + segmentDigits + len(segmentExt))
	b.WriteString(node)
	b.WriteByte('-')
	digits := strconv.FormatUint(first, 10)
	for i := len(digits); i < segmentDigits; i++ {
		b.WriteByte('0')
	}
	b.WriteString(digits)
	b.WriteString(segmentExt)
	return b.String()
}

// parseSegmentName splits a segment file name into its node and first
// sequence number; ok is false if name is not a segment name.
func parseSegmentName(name string) (node string, first uint64, ok bool) {
	base, found := strings.CutSuffix(name, segmentExt)
	if !found || len(base) < segmentDigits+2 || base[len(base)-segmentDigits-1] != '-' {
		return "", 0, false
	}
	digits := base[len(base)-segmentDigits:]
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return "", 0, false
		}
	}
	first, err := strconv.ParseUint(digits, 10, 64)
	node = base[:len(base)-segmentDigits-1]
	if err != nil || first == 0 || !validNode(node) {
		return "", 0, false
	}
	return node, first, true
}

// validNode reports whether node is 1-64 bytes of [A-Za-z0-9._-], not
// starting with a dot.
func validNode(node string) bool {
	if node == "" || len(node) > 64 || node[0] == '.' {
		return false
	}
	for i := 0; i < len(node); i++ {
		c := node[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// segment is one segment file of a node.
type segment struct {
	name  string
	node  string
	first uint64
}

// listSegments returns the segment files of dir by node, each node's sorted
// by first sequence number, and the names of *.jsonl files that are not
// segment names.
func listSegments(dir string) (map[string][]segment, []string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("audit: list %s: %w", dir, err)
	}
	nodes := make(map[string][]segment)
	var stray []string
	for _, de := range entries {
		if !de.Type().IsRegular() || !strings.HasSuffix(de.Name(), segmentExt) {
			continue
		}
		node, first, ok := parseSegmentName(de.Name())
		if !ok {
			stray = append(stray, de.Name())
			continue
		}
		nodes[node] = append(nodes[node], segment{name: de.Name(), node: node, first: first})
	}
	for _, segs := range nodes {
		sort.Slice(segs, func(i, j int) bool { return segs[i].first < segs[j].first })
	}
	return nodes, stray, nil
}

// sortedNodes returns the keys of nodes in order.
func sortedNodes(nodes map[string][]segment) []string {
	names := make([]string, 0, len(nodes))
	for n := range nodes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// tail is where a node's chain ends on disk.
type tail struct {
	path      string // newest segment, "" if the node has none
	size      int64  // its size once torn bytes are cut
	head      head
	recovered int64 // torn bytes cut away
}

// recoverNode finds the end of node's chain in dir. A torn end of the newest
// segment — bytes after the last newline, and complete lines that are not
// valid events — was never acknowledged (Append returns only after a
// successful fsync) and is truncated away; a newest segment left empty is
// removed. Other nodes' files are not touched.
func recoverNode(dir, node string, open func(string, int, fs.FileMode) (File, error)) (tail, error) {
	nodes, _, err := listSegments(dir)
	if err != nil {
		return tail{}, err
	}
	segs := nodes[node]
	var t tail
	for len(segs) > 0 {
		s := segs[len(segs)-1]
		path := filepath.Join(dir, s.name)
		data, off, size, err := readTail(path)
		if err != nil {
			return tail{}, err
		}
		keep, ev, err := lastEvent(data, off, node, s.first)
		if err != nil {
			return tail{}, fmt.Errorf("audit: recover %s: %w", path, err)
		}
		if end := off + keep; end < size {
			if err := truncateFile(path, end, open); err != nil {
				return tail{}, err
			}
			t.recovered += size - end
			size = end
		}
		if size == 0 {
			if err := os.Remove(path); err != nil {
				return tail{}, fmt.Errorf("audit: recover: %w", err)
			}
			segs = segs[:len(segs)-1]
			continue
		}
		t.path, t.size = path, size
		t.head = head{seq: ev.Seq, hash: ev.Hash}
		hex.Decode(t.head.sum[:], []byte(ev.Hash))
		return t, nil
	}
	t.head = zeroHead()
	return t, nil
}

// readTail returns the last recoverWindow bytes of the file at path, their
// offset in the file, and the file's size.
func readTail(path string) (data []byte, off, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("audit: recover: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, 0, fmt.Errorf("audit: recover: %w", err)
	}
	size = fi.Size()
	off = max(size-recoverWindow, 0)
	data = make([]byte, size-off)
	if _, err := f.ReadAt(data, off); err != nil && !errors.Is(err, io.EOF) {
		return nil, 0, 0, fmt.Errorf("audit: recover %s: %w", path, err)
	}
	return data, off, size, nil
}

// lastEvent returns the length of the prefix of data that ends with the last
// complete, valid event line, and that event. data starts at offset off of a
// segment of node whose first event is first.
func lastEvent(data []byte, off int64, node string, first uint64) (int64, Event, error) {
	end := bytes.LastIndexByte(data, '\n') + 1
	for end > 0 {
		start := bytes.LastIndexByte(data[:end-1], '\n') + 1
		if start == 0 && off > 0 {
			return 0, Event{}, fmt.Errorf("no complete event in the last %d bytes", len(data))
		}
		var ev Event
		if json.Unmarshal(data[start:end-1], &ev) == nil && ev.Node == node &&
			ev.Seq >= first && isHexHash(ev.Hash) {
			return int64(end), ev, nil
		}
		end = start
	}
	if off > 0 {
		return 0, Event{}, fmt.Errorf("no complete event in the last %d bytes", len(data))
	}
	return 0, Event{}, nil
}

// truncateFile cuts the file at path to size bytes, durably.
func truncateFile(path string, size int64, open func(string, int, fs.FileMode) (File, error)) error {
	f, err := open(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("audit: recover: %w", err)
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("audit: recover: truncate %s: %w", path, err)
	}
	return nil
}

// isHexHash reports whether s is 64 lower-case hex digits.
func isHexHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
