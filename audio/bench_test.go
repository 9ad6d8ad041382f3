package audio

import "testing"

// Per-call cost: each benchmark op processes one 20 ms frame, so
// ns/op / 20e6 is the fraction of one core a single call needs.

func reportCorePercent(b *testing.B) {
	b.Helper()
	perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(100*perOp/float64(FrameDuration.Nanoseconds()), "%core/call")
}

func BenchmarkDecodeMulaw20ms(b *testing.B) {
	enc := EncodeMulaw(nil, sweep(100, 3900, Rate8k, 0.02, 0.5))
	dst := make([]int16, 0, len(enc))
	b.ReportAllocs()
	for b.Loop() {
		dst = DecodeMulaw(dst[:0], enc)
	}
	reportCorePercent(b)
}

func BenchmarkEncodeMulaw20ms(b *testing.B) {
	pcm := sweep(100, 3900, Rate8k, 0.02, 0.5)
	dst := make([]byte, 0, len(pcm))
	b.ReportAllocs()
	for b.Loop() {
		dst = EncodeMulaw(dst[:0], pcm)
	}
	reportCorePercent(b)
}

func benchmarkResample(b *testing.B, from, to int) {
	in := sweep(100, float64(from)/2-100, from, 0.02, 0.5)
	r, err := NewResampler(from, to)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]int16, 0, SamplesPerFrame(to)+1)
	b.ReportAllocs()
	for b.Loop() {
		dst = r.ProcessTo(dst[:0], in)
	}
	reportCorePercent(b)
}

func BenchmarkResample8to16_20ms(b *testing.B)     { benchmarkResample(b, Rate8k, Rate16k) }
func BenchmarkResample16to8_20ms(b *testing.B)     { benchmarkResample(b, Rate16k, Rate8k) }
func BenchmarkResample48to16_20ms(b *testing.B)    { benchmarkResample(b, Rate48k, Rate16k) }
func BenchmarkResample16to48_20ms(b *testing.B)    { benchmarkResample(b, Rate16k, Rate48k) }
func BenchmarkResample22050to8_20ms(b *testing.B)  { benchmarkResample(b, 22050, Rate8k) }
func BenchmarkResample22050to16_20ms(b *testing.B) { benchmarkResample(b, 22050, Rate16k) }
func BenchmarkResample24to16_20ms(b *testing.B)    { benchmarkResample(b, 24000, Rate16k) }

// BenchmarkNewResampler22050to16 designs the 320/441 filter bank anew each
// time (the cache is bypassed): the cost a first stream at this ratio pays.
func BenchmarkNewResampler22050to16(b *testing.B) {
	for b.Loop() {
		design(320, 441)
	}
}

func BenchmarkVAD20ms(b *testing.B) {
	frames := Split(concat(syllables(Rate16k, 5), whiteNoise(Rate16k, 0.01, 1)), Rate16k)
	v := NewVAD(DefaultVADConfig())
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		v.Process(frames[i%len(frames)])
		i++
	}
	reportCorePercent(b)
}

// BenchmarkAudioPathPerCall is what every phone call pays per 20 ms packet
// on the way in: G.711 decode, 8 -> 16 kHz for the recogniser, VAD.
func BenchmarkAudioPathPerCall(b *testing.B) {
	speech := concat(syllables(Rate8k, 5), whiteNoise(Rate8k, 0.01, 1))
	var packets [][]byte
	for _, f := range Split(speech, Rate8k) {
		if len(f.Samples) == SamplesPerFrame(Rate8k) {
			packets = append(packets, EncodeMulaw(nil, f.Samples))
		}
	}
	up, err := NewResampler(Rate8k, Rate16k)
	if err != nil {
		b.Fatal(err)
	}
	v := NewVAD(DefaultVADConfig())
	pcm8 := make([]int16, 0, SamplesPerFrame(Rate8k))
	pcm16 := make([]int16, 0, SamplesPerFrame(Rate16k))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		pcm8 = DecodeMulaw(pcm8[:0], packets[i%len(packets)])
		pcm16 = up.ProcessTo(pcm16[:0], pcm8)
		v.Process(Frame{Rate: Rate16k, Samples: pcm16})
		i++
	}
	reportCorePercent(b)
}
