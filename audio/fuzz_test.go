package audio

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
)

// Seed corpora live in testdata/fuzz/<FuzzName>; crashers found by fuzzing
// are kept there as regression cases.

func FuzzReadWAV(f *testing.F) {
	f.Add(wavSpec{data: []byte{1, 0, 2, 0}}.bytes())
	f.Add(wavSpec{code: wavMulaw, bits: 8, channels: 2, data: []byte{0xFF, 0x00, 0x7F}}.bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		samples, info, err := ReadWAV(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrNotWAV) && !errors.Is(err, ErrCorruptWAV) && !errors.Is(err, ErrUnsupportedFormat) {
				t.Fatalf("error outside the sentinels: %v", err)
			}
			return
		}
		if info.Channels <= 0 || info.Rate < MinWAVRate || info.Rate > MaxWAVRate || info.Format == "" {
			t.Fatalf("accepted with info %+v", info)
		}
		// Every sample needs at least one byte of input per channel.
		if len(samples)*info.Channels > len(data) {
			t.Fatalf("%d samples × %d channels from %d bytes", len(samples), info.Channels, len(data))
		}

		// The streaming reader agrees with ReadWAV.
		r, err := NewWAVReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("ReadWAV accepted what NewWAVReader rejects: %v", err)
		}
		var streamed []int16
		for {
			fr, err := r.ReadFrame()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(fr.Samples) == 0 || len(fr.Samples) > SamplesPerFrame(info.Rate) {
				t.Fatalf("frame of %d samples", len(fr.Samples))
			}
			streamed = append(streamed, fr.Samples...)
		}
		if !slices.Equal(streamed, samples) {
			t.Fatalf("WAVReader gave %d samples, ReadWAV %d", len(streamed), len(samples))
		}

		// What was accepted writes back and reads back unchanged.
		var buf bytes.Buffer
		if err := WriteWAV(&buf, samples, info.Rate); err != nil {
			t.Fatal(err)
		}
		again, info2, err := ReadWAV(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(again, samples) || info2.Rate != info.Rate || info2.Duration != info.Duration {
			t.Fatalf("round trip changed the audio: %+v -> %+v", info, info2)
		}
	})
}

func FuzzDecodeMulaw(f *testing.F) {
	f.Add([]byte{0xFF, 0x7F, 0x00, 0x80})
	f.Fuzz(func(t *testing.T, enc []byte) {
		pcm := DecodeMulaw(nil, enc)
		if len(pcm) != len(enc) {
			t.Fatalf("%d bytes decoded to %d samples", len(enc), len(pcm))
		}
		back := EncodeMulaw(nil, pcm)
		for i := range enc {
			want := enc[i]
			if want == 0x7F { // negative zero has no linear value of its own
				want = 0xFF
			}
			if back[i] != want {
				t.Fatalf("code %#02x -> %d -> %#02x", enc[i], pcm[i], back[i])
			}
		}
		checkEncodeIdempotent(t, enc, LinearToMulaw, MulawToLinear)
	})
}

func FuzzDecodeAlaw(f *testing.F) {
	f.Add([]byte{0xD5, 0x55, 0xAA, 0x2A})
	f.Fuzz(func(t *testing.T, enc []byte) {
		pcm := DecodeAlaw(nil, enc)
		if len(pcm) != len(enc) {
			t.Fatalf("%d bytes decoded to %d samples", len(enc), len(pcm))
		}
		if back := EncodeAlaw(nil, pcm); !bytes.Equal(back, enc) {
			t.Fatalf("A-law round trip: % x -> %v -> % x", enc, pcm, back)
		}
		checkEncodeIdempotent(t, enc, LinearToAlaw, AlawToLinear)
	})
}

// checkEncodeIdempotent reads the input as linear samples too: encoding,
// decoding and encoding again must not move the code.
func checkEncodeIdempotent(t *testing.T, data []byte, encode func(int16) byte, decode func(byte) int16) {
	t.Helper()
	for i := 0; i+1 < len(data); i += 2 {
		x := int16(uint16(data[i]) | uint16(data[i+1])<<8)
		c := encode(x)
		if c2 := encode(decode(c)); c2 != c && !(c == 0x7F && c2 == 0xFF) {
			t.Fatalf("%d -> %#02x -> %d -> %#02x", x, c, decode(c), c2)
		}
	}
}
