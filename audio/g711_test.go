package audio

import (
	"math"
	"slices"
	"testing"
)

// Reference encoders written the way G.711/G.191 describe them (segment
// search loops), as an independent oracle for the bit-twiddling versions.

func refMulaw(x int16) byte {
	mag := int(x)
	if x < 0 {
		mag = -int(x) - 1 // one's complement magnitude
	}
	mag = mag>>2 + 33
	if mag > 8191 {
		mag = 8191
	}
	seg := 1
	for i := mag >> 6; i != 0; i >>= 1 {
		seg++
	}
	code := (8-seg)<<4 | (15 - (mag>>seg)&15)
	if x >= 0 {
		code |= 0x80
	}
	return byte(code)
}

func refAlaw(x int16) byte {
	mag := int(x)
	if x < 0 {
		mag = -int(x) - 1
	}
	mag >>= 4
	if mag > 15 {
		exp := 1
		for mag > 31 {
			mag >>= 1
			exp++
		}
		mag = mag - 16 + exp<<4
	}
	if x >= 0 {
		mag |= 0x80
	}
	return byte(mag) ^ 0x55
}

func TestG711MatchesReferenceEncoder(t *testing.T) {
	for x := math.MinInt16; x <= math.MaxInt16; x++ {
		s := int16(x)
		if got, want := LinearToMulaw(s), refMulaw(s); got != want {
			t.Fatalf("LinearToMulaw(%d) = %#02x, want %#02x", s, got, want)
		}
		if got, want := LinearToAlaw(s), refAlaw(s); got != want {
			t.Fatalf("LinearToAlaw(%d) = %#02x, want %#02x", s, got, want)
		}
	}
}

func TestG711KnownValues(t *testing.T) {
	tests := []struct {
		name string
		got  int
		want int
	}{
		{"mu-law encode 0", int(LinearToMulaw(0)), 0xFF},
		{"mu-law encode -1", int(LinearToMulaw(-1)), 0x7F},
		{"mu-law encode max", int(LinearToMulaw(math.MaxInt16)), 0x80},
		{"mu-law encode min", int(LinearToMulaw(math.MinInt16)), 0x00},
		{"mu-law encode 1000", int(LinearToMulaw(1000)), 0xCE},
		{"mu-law decode 0xFF", int(MulawToLinear(0xFF)), 0},
		{"mu-law decode 0x7F", int(MulawToLinear(0x7F)), 0},
		{"mu-law decode 0x80", int(MulawToLinear(0x80)), 32124},
		{"mu-law decode 0x00", int(MulawToLinear(0x00)), -32124},
		{"mu-law decode 0xCE", int(MulawToLinear(0xCE)), 988},
		{"A-law encode 0", int(LinearToAlaw(0)), 0xD5},
		{"A-law encode -1", int(LinearToAlaw(-1)), 0x55},
		{"A-law encode max", int(LinearToAlaw(math.MaxInt16)), 0xAA},
		{"A-law encode min", int(LinearToAlaw(math.MinInt16)), 0x2A},
		{"A-law decode 0xD5", int(AlawToLinear(0xD5)), 8},
		{"A-law decode 0x55", int(AlawToLinear(0x55)), -8},
		{"A-law decode 0xAA", int(AlawToLinear(0xAA)), 32256},
		{"A-law decode 0x2A", int(AlawToLinear(0x2A)), -32256},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %d (%#x), want %d (%#x)", tt.name, tt.got, tt.got, tt.want, tt.want)
		}
	}
}

// Decoding is odd-symmetric: flipping the sign bit negates the value.
func TestG711DecodeTablesSymmetric(t *testing.T) {
	for b := range 128 {
		if p, n := MulawToLinear(byte(b|0x80)), MulawToLinear(byte(b)); p != -n || p < 0 {
			t.Errorf("mu-law %#02x -> %d but %#02x -> %d", b|0x80, p, b, n)
		}
		if p, n := AlawToLinear(byte(b|0x80)), AlawToLinear(byte(b)); p != -n || p <= 0 {
			t.Errorf("A-law %#02x -> %d but %#02x -> %d", b|0x80, p, b, n)
		}
	}
	// Codes are ordered by magnitude within each sign half.
	for b := 0x81; b <= 0xFF; b++ {
		if MulawToLinear(byte(b)) >= MulawToLinear(byte(b-1)) {
			t.Errorf("mu-law not monotonic at %#02x", b)
		}
	}
}

// Every decoded level must encode back to itself, and any input must come
// back within half a quantisation step of its segment.
func TestG711RoundTripErrorBounds(t *testing.T) {
	codecs := []struct {
		name   string
		encode func(int16) byte
		decode func(byte) int16
		// step returns the quantisation step around a magnitude.
		step func(mag int) int
	}{
		{"mu-law", LinearToMulaw, MulawToLinear, func(mag int) int {
			seg := 0
			for (mag+132)>>(seg+8) > 0 {
				seg++
			}
			return 8 << seg
		}},
		{"A-law", LinearToAlaw, AlawToLinear, func(mag int) int {
			if mag < 512 {
				return 16
			}
			seg := 0
			for mag>>(seg+10) > 0 {
				seg++
			}
			return 32 << seg
		}},
	}
	for _, c := range codecs {
		for b := range 256 {
			if b == 0x7F && c.name == "mu-law" { // -0 decodes to +0
				continue
			}
			if got := c.encode(c.decode(byte(b))); got != byte(b) {
				t.Errorf("%s: code %#02x decodes to %d which encodes to %#02x", c.name, b, c.decode(byte(b)), got)
			}
		}
		worst := 0.0
		for x := math.MinInt16; x <= math.MaxInt16; x++ {
			y := int(c.decode(c.encode(int16(x))))
			mag := min(abs(x), 32635) // clipping point of the quantiser
			errAbs := abs(min(max(x, -32635), 32635) - y)
			if limit := c.step(mag)/2 + 1; errAbs > limit {
				t.Fatalf("%s: %d -> %d, error %d exceeds half step %d", c.name, x, y, errAbs, limit)
			}
			if mag > 256 {
				worst = max(worst, float64(errAbs)/float64(mag))
			}
		}
		t.Logf("%s: worst relative error above 256: %.2f%%", c.name, 100*worst)
	}
}

func TestG711SineSNR(t *testing.T) {
	// A speech-level tone (-10 dBFS peak region) should come through with
	// the ~38 dB SNR G.711 is known for.
	in := sine(1004, Rate8k, 8000, 0.3)
	for _, c := range []struct {
		name string
		out  []int16
	}{
		{"mu-law", DecodeMulaw(nil, EncodeMulaw(nil, in))},
		{"A-law", DecodeAlaw(nil, EncodeAlaw(nil, in))},
	} {
		snr := SNR(in, c.out)
		if snr < 35 || snr > 40 {
			t.Errorf("%s: SNR %.1f dB, want 35..40", c.name, snr)
		}
		t.Logf("%s: SNR %.1f dB", c.name, snr)
	}
}

func TestG711SliceFunctionsAppend(t *testing.T) {
	pcm := []int16{0, 1000, -1000, math.MaxInt16}
	enc := EncodeMulaw([]byte{0xAB}, pcm)
	if want := []byte{0xAB, 0xFF, 0xCE, 0x4E, 0x80}; !slices.Equal(enc, want) {
		t.Errorf("EncodeMulaw = % x, want % x", enc, want)
	}
	dec := DecodeMulaw([]int16{7}, enc[1:])
	if want := []int16{7, 0, 988, -988, 32124}; !slices.Equal(dec, want) {
		t.Errorf("DecodeMulaw = %v, want %v", dec, want)
	}
	aenc := EncodeAlaw(nil, pcm)
	if adec := DecodeAlaw(nil, aenc); len(adec) != len(pcm) || adec[0] != 8 {
		t.Errorf("DecodeAlaw(EncodeAlaw) = %v", adec)
	}
}
