//go:build cgo

package pkcs11

import (
	"crypto"
	"crypto/subtle"
	"encoding/binary"
)

// decodeOAEP is EME-OAEP decoding (RFC 8017 §7.1.2 step 3) of em, the
// result of the raw RSA private key operation done in the token, for a key
// of k bytes. It runs in time independent of where or whether the encoding
// is invalid (after crypto/rsa's decryptOAEP), so that the one error it
// reports cannot serve as a padding oracle. MGF1 uses hash too.
func decodeOAEP(hash crypto.Hash, em []byte, k int, label []byte) ([]byte, bool) {
	hLen := hash.Size()
	if len(em) > k || k < 2*hLen+2 {
		return nil, false
	}
	buf := make([]byte, k) // the token may drop leading zero bytes
	copy(buf[k-len(em):], em)
	defer clear(buf)

	h := hash.New()
	h.Write(label)
	lHash := h.Sum(nil)

	firstByteIsZero := subtle.ConstantTimeByteEq(buf[0], 0)
	seed, db := buf[1:hLen+1], buf[hLen+1:]
	mgf1XOR(seed, hash, db)
	mgf1XOR(db, hash, seed)
	lHash2Good := subtle.ConstantTimeCompare(lHash, db[:hLen])

	// The remainder of db is zero or more 0x00 bytes, then 0x01, then the
	// message. lookingForIndex is 1 until the 0x01 is found; invalid is set
	// by any other nonzero byte before it.
	var lookingForIndex, index, invalid int
	lookingForIndex = 1
	rest := db[hLen:]
	for i := range rest {
		equals0 := subtle.ConstantTimeByteEq(rest[i], 0)
		equals1 := subtle.ConstantTimeByteEq(rest[i], 1)
		index = subtle.ConstantTimeSelect(lookingForIndex&equals1, i, index)
		lookingForIndex = subtle.ConstantTimeSelect(equals1, 0, lookingForIndex)
		invalid = subtle.ConstantTimeSelect(lookingForIndex&^equals0, 1, invalid)
	}
	if firstByteIsZero&lHash2Good&^invalid&^lookingForIndex != 1 {
		return nil, false
	}
	return append([]byte(nil), rest[index+1:]...), true
}

// mgf1XOR XORs out with MGF1(seed) using hash.
func mgf1XOR(out []byte, hash crypto.Hash, seed []byte) {
	var counter [4]byte
	h := hash.New()
	var digest []byte
	for done := 0; done < len(out); {
		h.Reset()
		h.Write(seed)
		h.Write(counter[:])
		digest = h.Sum(digest[:0])
		for i := 0; i < len(digest) && done < len(out); i++ {
			out[done] ^= digest[i]
			done++
		}
		binary.BigEndian.PutUint32(counter[:], binary.BigEndian.Uint32(counter[:])+1)
	}
}
