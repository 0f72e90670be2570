package audit

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readLines(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(data, []byte("\n"))[:bytes.Count(data, []byte("\n"))]
}

func writeLines(t *testing.T, path string, lines [][]byte) {
	t.Helper()
	if err := os.WriteFile(path, bytes.Join(lines, nil), 0o600); err != nil {
		t.Fatal(err)
	}
}

// editLine applies fn to line n (1-based) of the file at path.
func editLine(t *testing.T, path string, n int, fn func([]byte) []byte) {
	t.Helper()
	lines := readLines(t, path)
	lines[n-1] = fn(append([]byte(nil), lines[n-1]...))
	writeLines(t, path, lines)
}

// flipAt flips the low bit of the byte just after the first occurrence of
// marker in the line.
func flipAt(marker string) func([]byte) []byte {
	return func(line []byte) []byte {
		i := bytes.Index(line, []byte(marker)) + len(marker)
		line[i] ^= 1
		return line
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	// Each test gets 12 events in three segments of four: seg[0] holds seqs
	// 1-4, seg[1] 5-8, seg[2] 9-12.
	type setup struct {
		t   *testing.T
		seg []string
	}
	tests := []struct {
		name     string
		tamper   func(s setup)
		wantSeg  int // index of the file the error must name
		wantLine int
		reason   string
	}{
		{"flip byte in action", func(s setup) { editLine(s.t, s.seg[0], 2, flipAt(`"action":"`)) }, 0, 2, "hash does not match"},
		{"flip byte in hash", func(s setup) { editLine(s.t, s.seg[1], 3, flipAt(`"hash":"`)) }, 1, 3, "hash"},
		{"flip byte in time", func(s setup) { editLine(s.t, s.seg[0], 4, flipAt(`"time":"20`)) }, 0, 4, ""},
		{"flip byte in seq", func(s setup) { editLine(s.t, s.seg[2], 1, flipAt(`"seq":`)) }, 2, 1, "seq"},
		{"flip newline", func(s setup) { editLine(s.t, s.seg[1], 2, func(l []byte) []byte { l[len(l)-1] = ' '; return l }) }, 1, 2, "invalid JSON"},
		{"delete line", func(s setup) {
			lines := readLines(s.t, s.seg[1])
			writeLines(s.t, s.seg[1], append(lines[:1:1], lines[2:]...))
		}, 1, 2, "seq 7, want 6"},
		{"delete last line of a segment", func(s setup) {
			lines := readLines(s.t, s.seg[0])
			writeLines(s.t, s.seg[0], lines[:3])
		}, 1, 1, "missing"},
		{"swap lines", func(s setup) {
			lines := readLines(s.t, s.seg[0])
			lines[1], lines[2] = lines[2], lines[1]
			writeLines(s.t, s.seg[0], lines)
		}, 0, 2, "seq 3, want 2"},
		{"insert duplicate line", func(s setup) {
			lines := readLines(s.t, s.seg[2])
			writeLines(s.t, s.seg[2], [][]byte{lines[0], lines[0], lines[1], lines[2], lines[3]})
		}, 2, 2, "seq 9, want 10"},
		{"change prev", func(s setup) {
			editLine(s.t, s.seg[1], 3, func(l []byte) []byte {
				i := bytes.Index(l, []byte(`"prev":"`)) + len(`"prev":"`)
				copy(l[i:], strings.Repeat("f", 64))
				return l
			})
		}, 1, 3, "prev"},
		{"rewrite and rehash an event", func(s setup) {
			lines := readLines(s.t, s.seg[0])
			var prev, ev Event
			json.Unmarshal(lines[0], &prev)
			json.Unmarshal(lines[1], &ev)
			ev.Action = "Decrypt"
			hd := head{seq: prev.Seq, hash: prev.Hash}
			hex.Decode(hd.sum[:], []byte(prev.Hash))
			line, _, err := newChainer().appendLine(nil, &ev, hd)
			if err != nil {
				s.t.Fatal(err)
			}
			lines[1] = line
			writeLines(s.t, s.seg[0], lines)
		}, 0, 3, "prev"},
		{"change node", func(s setup) {
			editLine(s.t, s.seg[2], 2, func(l []byte) []byte { return bytes.Replace(l, []byte(`"node":"a"`), []byte(`"node":"b"`), 1) })
		}, 2, 2, "node"},
		{"replace line with garbage", func(s setup) {
			editLine(s.t, s.seg[0], 1, func([]byte) []byte { return []byte("not json\n") })
		}, 0, 1, "invalid JSON"},
		{"delete middle segment", func(s setup) { os.Remove(s.seg[1]) }, 2, 1, "events 5 to 8 are missing"},
		{"delete first segment", func(s setup) { os.Remove(s.seg[0]) }, 1, 1, "events 1 to 4 are missing"},
		{"rename segment", func(s setup) {
			os.Rename(s.seg[2], filepath.Join(filepath.Dir(s.seg[2]), segmentName("a", 10)))
		}, -1, 1, "starts at seq 10, want 9"},
		{"cut middle segment mid-line", func(s setup) {
			data, _ := os.ReadFile(s.seg[1])
			os.WriteFile(s.seg[1], data[:len(data)-10], 0o600)
		}, 1, 4, "incomplete line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l := mustOpen(t, dir, "a", Options{SegmentBytes: 2200})
			appendN(t, l, 0, 12)
			l.Close()
			var seg []string
			for i, first := range []uint64{1, 5, 9} {
				seg = append(seg, filepath.Join(dir, segmentName("a", first)))
				if n := len(readLines(t, seg[i])); n != 4 {
					t.Fatalf("setup: %s has %d lines, want 4", seg[i], n)
				}
			}
			mustVerify(t, dir)
			tt.tamper(setup{t, seg})

			_, err := Verify(dir)
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("Verify() after %s err = %v, want a *VerifyError", tt.name, err)
			}
			wantFile := filepath.Join(dir, segmentName("a", 10))
			if tt.wantSeg >= 0 {
				wantFile = seg[tt.wantSeg]
			}
			if ve.File != wantFile || ve.Line != tt.wantLine || !strings.Contains(ve.Reason, tt.reason) {
				t.Errorf("Verify() after %s = %v, want %s:%d: ...%s...", tt.name, ve,
					filepath.Base(wantFile), tt.wantLine, tt.reason)
			}
		})
	}
}

func TestVerifyStrayFileAndOtherNode(t *testing.T) {
	dir := t.TempDir()
	a := mustOpen(t, dir, "a", Options{})
	appendN(t, a, 0, 3)
	a.Close()
	b := mustOpen(t, dir, "b", Options{})
	appendN(t, b, 0, 3)
	b.Close()
	editLine(t, filepath.Join(dir, segmentName("a", 1)), 2, flipAt(`"user":"`))
	os.WriteFile(filepath.Join(dir, "notes.jsonl"), []byte("{}\n"), 0o600)

	rep, err := Verify(dir)
	var files []string
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			var ve *VerifyError
			if errors.As(e, &ve) {
				files = append(files, filepath.Base(ve.File))
			}
		}
	}
	want := []string{"notes.jsonl", segmentName("a", 1)}
	if strings.Join(files, ",") != strings.Join(want, ",") {
		t.Errorf("Verify() errors name %v, want %v (err %v)", files, want, err)
	}
	if len(rep.Nodes) != 2 || rep.Nodes[0].Events != 1 || rep.Nodes[1].Events != 3 {
		t.Errorf("Verify() report = %+v, want a with 1 good event, b with 3", rep.Nodes)
	}
}

func TestVerifyEmptyDir(t *testing.T) {
	rep, err := Verify(t.TempDir())
	if err != nil || len(rep.Nodes) != 0 {
		t.Errorf("Verify(empty dir) = %+v, %v, want no nodes and nil", rep, err)
	}
	if _, err := Verify(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Errorf("Verify(missing dir) err = nil, want an error")
	}
}

func FuzzVerify(f *testing.F) {
	// The chain must be the same in every fuzzing process: fixed clock.
	dir := f.TempDir()
	clock := func() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC) }
	l := mustOpen(f, dir, "a", Options{Now: clock})
	appendN(f, l, 0, 3)
	l.Close()
	good, _ := os.ReadFile(filepath.Join(dir, segmentName("a", 1)))
	f.Add(good)
	f.Add(good[:len(good)-7])
	f.Add([]byte("{\"seq\":1}\n\x00"))
	fdir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := fdir
		path := filepath.Join(dir, segmentName("a", 1))
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Verify(dir)
		var ve *VerifyError
		if err != nil && !errors.As(err, &ve) {
			t.Fatalf("Verify() err = %v, want nil or a *VerifyError", err)
		}
		// A verified file can only be a prefix of the original chain (plus
		// an incomplete line): anything else would need a new hash.
		if complete := data[:bytes.LastIndexByte(data, '\n')+1]; err == nil && !bytes.HasPrefix(good, complete) {
			t.Fatalf("Verify() accepted %q", data)
		}
	})
}
