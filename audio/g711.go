package audio

// G.711 as specified by ITU-T G.711 and implemented by the ITU-T G.191
// reference software: the segment tables and the rounding of the reference
// encoder are reproduced exactly, so encoded bytes interoperate bit for bit
// with any conforming codec. Decoding goes through 256-entry tables; encoding
// is a few integer operations and needs no 64 KiB table.

import (
	"math/bits"
	"slices"
)

// Decode tables, built once from the reference expansion formulas.
var (
	mulawTable = buildMulawTable()
	alawTable  = buildAlawTable()
)

// LinearToMulaw encodes one sample to a mu-law byte.
func LinearToMulaw(s int16) byte {
	// The reference works on 14-bit magnitudes with a bias of 33 and uses
	// the one's complement for negative values.
	var mag int
	if s < 0 {
		mag = int(^s)>>2 + 33
	} else {
		mag = int(s)>>2 + 33
	}
	if mag > 0x1FFF {
		mag = 0x1FFF
	}
	seg := bits.Len(uint(mag >> 6)) // 0..7
	mant := (mag >> (seg + 1)) & 0x0F
	code := byte((7-seg)<<4 | (0x0F - mant))
	if s >= 0 {
		code |= 0x80
	}
	return code
}

// MulawToLinear decodes one mu-law byte to a 16-bit sample.
func MulawToLinear(b byte) int16 { return mulawTable[b] }

// LinearToAlaw encodes one sample to an A-law byte.
func LinearToAlaw(s int16) byte {
	// 12-bit one's complement magnitude, as in the reference encoder.
	var mag int
	if s < 0 {
		mag = int(^s) >> 4
	} else {
		mag = int(s) >> 4
	}
	if mag > 15 {
		seg := bits.Len(uint(mag)) - 4 // 1..7
		mag = seg<<4 | (mag>>(seg-1))&0x0F
	}
	code := byte(mag)
	if s >= 0 {
		code |= 0x80
	}
	return code ^ 0x55
}

// AlawToLinear decodes one A-law byte to a 16-bit sample.
func AlawToLinear(b byte) int16 { return alawTable[b] }

// EncodeMulaw appends the mu-law encoding of pcm to dst and returns it.
func EncodeMulaw(dst []byte, pcm []int16) []byte {
	dst = slices.Grow(dst, len(pcm))
	for _, s := range pcm {
		dst = append(dst, LinearToMulaw(s))
	}
	return dst
}

// DecodeMulaw appends the samples decoded from mu-law bytes to dst and
// returns it.
func DecodeMulaw(dst []int16, enc []byte) []int16 {
	dst = slices.Grow(dst, len(enc))
	for _, b := range enc {
		dst = append(dst, mulawTable[b])
	}
	return dst
}

// EncodeAlaw appends the A-law encoding of pcm to dst and returns it.
func EncodeAlaw(dst []byte, pcm []int16) []byte {
	dst = slices.Grow(dst, len(pcm))
	for _, s := range pcm {
		dst = append(dst, LinearToAlaw(s))
	}
	return dst
}

// DecodeAlaw appends the samples decoded from A-law bytes to dst and returns
// it.
func DecodeAlaw(dst []int16, enc []byte) []int16 {
	dst = slices.Grow(dst, len(enc))
	for _, b := range enc {
		dst = append(dst, alawTable[b])
	}
	return dst
}

func buildMulawTable() *[256]int16 {
	var t [256]int16
	for i := range t {
		inv := ^byte(i)
		exp := int(inv>>4) & 0x07
		mant := int(inv) & 0x0F
		step := 4 << (exp + 1)
		v := 0x80<<exp + step*mant + step/2 - 4*33
		if i < 0x80 {
			v = -v
		}
		t[i] = int16(v)
	}
	return &t
}

func buildAlawTable() *[256]int16 {
	var t [256]int16
	for i := range t {
		x := (i ^ 0x55) & 0x7F
		exp := x >> 4
		mant := x & 0x0F
		if exp > 0 {
			mant += 16
		}
		mant = mant<<4 + 8
		if exp > 1 {
			mant <<= exp - 1
		}
		if i < 0x80 {
			mant = -mant
		}
		t[i] = int16(mant)
	}
	return &t
}
