package blob

import (
	"fmt"
	"io"
)

const hexDigits = "0123456789abcdef"

// NewKeyID returns a fresh random (version 4) UUID in canonical lowercase
// form, drawing 16 bytes from rand. It returns an error only if rand fails.
func NewKeyID(rand io.Reader) (string, error) {
	var u [keyIDSize]byte
	if _, err := io.ReadFull(rand, u[:]); err != nil {
		return "", fmt.Errorf("blob: read key id: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return encodeUUID(&u), nil
}

// ValidKeyID reports whether s is a UUID in canonical lowercase form
// (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), the only form a blob can carry.
func ValidKeyID(s string) bool {
	var u [keyIDSize]byte
	return decodeUUID(&u, s)
}

func encodeUUID(u *[keyIDSize]byte) string {
	var b [36]byte
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j] = hexDigits[c>>4]
		b[j+1] = hexDigits[c&0x0f]
		j += 2
	}
	return string(b[:])
}

func decodeUUID(u *[keyIDSize]byte, s string) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	j := 0
	for i := 0; i < keyIDSize; i++ {
		if j == 8 || j == 13 || j == 18 || j == 23 {
			j++
		}
		hi, ok1 := fromHex(s[j])
		lo, ok2 := fromHex(s[j+1])
		if !ok1 || !ok2 {
			return false
		}
		u[i] = hi<<4 | lo
		j += 2
	}
	return true
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
