package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// hashSuffixLen is the length of the `,"hash":"<64 hex>"}` member that ends
// every line (before its newline).
const hashSuffixLen = len(`,"hash":"`) + 64 + len(`"}`)

// head is the end of a chain: the last event's seq and hash.
type head struct {
	seq  uint64
	sum  [32]byte
	hash string // hex of sum; ZeroHash before the first event
}

func zeroHead() head { return head{hash: ZeroHash} }

// chainer encodes events as lines and links them into a chain. It is not safe
// for concurrent use; each Log owns one, used only by its writer.
type chainer struct {
	h    hash.Hash
	prev [32]byte // scratch, so that hd does not escape
	sum  [32]byte
}

func newChainer() *chainer { return &chainer{h: sha256.New()} }

// appendLine appends e's line (JSON and newline) to dst as the event after
// hd, and sets e.Seq, e.Prev and e.Hash. It returns the new head and the
// extended slice. On error (ErrInvalidEvent) dst and hd are returned as they
// were and e's chain fields are unspecified.
//
// The hash is SHA-256(prev hash, 32 raw bytes || canonical bytes), where the
// canonical bytes are the line without its final hash member and newline:
// the JSON encoding of e with Hash empty.
func (c *chainer) appendLine(dst []byte, e *Event, hd head) ([]byte, head, error) {
	start := len(dst)
	e.Seq = hd.seq + 1
	e.Prev = hd.hash
	e.Hash = ""
	dst, err := appendJSON(dst, e)
	if err != nil {
		return dst[:start], hd, err
	}
	if len(dst)-start+hashSuffixLen+1 > MaxLineBytes {
		return dst[:start], hd, fmt.Errorf("audit: event of %d bytes: %w", len(dst)-start, ErrInvalidEvent)
	}
	c.prev = hd.sum
	c.h.Reset()
	c.h.Write(c.prev[:])
	c.h.Write(dst[start:])
	c.h.Sum(c.sum[:0])

	dst = append(dst[:len(dst)-1], `,"hash":"`...)
	hexStart := len(dst)
	dst = hex.AppendEncode(dst, c.sum[:])
	e.Hash = string(dst[hexStart:])
	dst = append(dst, '"', '}', '\n')
	return dst, head{seq: e.Seq, sum: c.sum, hash: e.Hash}, nil
}

// appendJSON appends the JSON encoding of e to dst, byte for byte what
// encoding/json.Marshal produces for it.
func appendJSON(dst []byte, e *Event) ([]byte, error) {
	if y := e.Time.Year(); y < 0 || y > 9999 {
		return dst, fmt.Errorf("audit: time %v: %w", e.Time, ErrInvalidEvent)
	}
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendUint(dst, e.Seq, 10)
	dst = append(dst, `,"time":"`...)
	dst = e.Time.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","node":`...)
	dst = appendString(dst, e.Node)
	dst = appendField(dst, `,"requestId":`, e.RequestID)
	dst = appendField(dst, `,"phase":`, string(e.Phase))
	dst = appendField(dst, `,"service":`, string(e.Service))
	dst = appendField(dst, `,"action":`, e.Action)
	dst = appendField(dst, `,"account":`, e.Account)
	dst = appendField(dst, `,"user":`, e.User)
	dst = appendField(dst, `,"secretId":`, e.SecretID)
	dst = appendField(dst, `,"sourceIp":`, e.SourceIP)
	dst = appendField(dst, `,"userAgent":`, e.UserAgent)
	if len(e.KeyIDs) > 0 {
		dst = append(dst, `,"keyIds":[`...)
		for i, id := range e.KeyIDs {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, id)
		}
		dst = append(dst, ']')
	}
	dst = appendField(dst, `,"result":`, e.Result)
	dst = appendField(dst, `,"message":`, e.Message)
	dst = append(dst, `,"prev":`...)
	dst = appendString(dst, e.Prev)
	dst = appendField(dst, `,"hash":`, e.Hash)
	return append(dst, '}'), nil
}

// appendField appends an omitempty string member.
func appendField(dst []byte, name, s string) []byte {
	if s == "" {
		return dst
	}
	return appendString(append(dst, name...), s)
}

const hexDigits = "0123456789abcdef"

// plainASCII[b] is '1' for the ASCII bytes a JSON string holds unescaped.
const plainASCII = "00000000000000000000000000000000110111011111111111111111111101011111111111111111111111111111011111111111111111111111111111111111"

// appendString appends s as a JSON string escaped the way encoding/json does
// (HTML characters, U+2028 and U+2029 escaped; invalid UTF-8 as \ufffd).
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if plainASCII[b] == '1' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// prepare normalises the caller's part of an event before it is chained:
// time in UTC (now if zero), valid UTF-8 everywhere (so that the event read
// back equals the event returned by Append), UserAgent and Message cut to
// their limits. It allocates only when something must change.
func (e *Event) prepare(node string, now func() time.Time) {
	e.Node = node
	if e.Time.IsZero() {
		e.Time = now()
	}
	e.Time = e.Time.UTC()
	e.RequestID = validString(e.RequestID, 0)
	e.Phase = Phase(validString(string(e.Phase), 0))
	e.Service = Service(validString(string(e.Service), 0))
	e.Action = validString(e.Action, 0)
	e.Account = validString(e.Account, 0)
	e.User = validString(e.User, 0)
	e.SecretID = validString(e.SecretID, 0)
	e.SourceIP = validString(e.SourceIP, 0)
	e.UserAgent = validString(e.UserAgent, MaxUserAgentBytes)
	e.Result = validString(e.Result, 0)
	e.Message = validString(e.Message, MaxMessageBytes)
	for i, id := range e.KeyIDs {
		if !utf8.ValidString(id) {
			ids := make([]string, len(e.KeyIDs))
			copy(ids, e.KeyIDs)
			for j := i; j < len(ids); j++ {
				ids[j] = validString(ids[j], 0)
			}
			e.KeyIDs = ids
			break
		}
	}
}

// validString returns s with invalid UTF-8 replaced by U+FFFD and, if max >
// 0, cut to at most max bytes at a rune boundary.
func validString(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if max > 0 && len(s) > max {
		i := max
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s = s[:i]
	}
	return s
}
