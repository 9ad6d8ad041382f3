package codec

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/internal/speechdata"
	"github.com/hotline-ivr/hotline/telephony/codec/internal/spandsp"
)

// spandsp's G.722 through cgo is the reference: the pure-Go codec must give
// the same bytes, the same samples and the same internal state.

var (
	_ Codec              = (*spandsp.G722)(nil)
	_ EncoderSnapshotter = (*spandsp.G722)(nil)
)

func newRef(tb testing.TB) *spandsp.G722 {
	tb.Helper()
	c, err := spandsp.New()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func newGo(tb testing.TB) *g722 {
	tb.Helper()
	c, err := New("G722")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	g, ok := c.(*g722)
	if !ok {
		tb.Fatalf("New(G722) is a %T, not the pure-Go codec", c)
	}
	return g
}

// canonical puts a spandsp state into the layout of g722Encoder.save: QMF
// history oldest first, r and d doubled with saturation. It also checks
// that det is the function of nb the Go code derives it by.
func canonical(tb testing.TB, s spandsp.State) []byte {
	tb.Helper()
	out := []byte{g722StateFormat}
	for _, h := range [][12]int16{s.X, s.Y} {
		for i := range 12 {
			out = binary.LittleEndian.AppendUint16(out, uint16(h[(s.Ptr+i)%12]))
		}
	}
	dets := [2][]int32{g722DetLow[:], g722DetHigh[:]}
	for k, b := range s.Band {
		if want := dets[k][b.NB>>6]; int32(b.Det) != want {
			tb.Fatalf("band %d: spandsp det %d for nb %d, the table says %d", k, b.Det, b.NB, want)
		}
		dbl := func(v int16) int16 { return int16(sat16(2 * int32(v))) }
		vals := []int16{b.NB, b.S, b.SZ, dbl(b.R), b.P[0], b.P[1], b.A[0], b.A[1]}
		vals = append(vals, b.B[:]...)
		for _, d := range b.D[1:] {
			vals = append(vals, dbl(d))
		}
		for _, v := range vals {
			out = binary.LittleEndian.AppendUint16(out, uint16(v))
		}
	}
	return out
}

// decoderState is the Go decoder's state in the same layout.
func decoderState(c *g722) []byte {
	e := g722Encoder{qmf: c.dec.qmf, low: c.dec.low, high: c.dec.high}
	return e.save(nil)
}

// g722Input is a named test signal at 16 kHz.
type g722Input struct {
	name string
	pcm  []int16
}

func syntheticInputs() []g722Input {
	const rate = 16000
	n := 2 * rate // 2 s, 100 frames
	gen := func(f func(i int) float64) []int16 {
		s := make([]int16, n)
		for i := range s {
			s[i] = int16(min(max(math.Round(f(i)), -32768), 32767))
		}
		return s
	}
	sweep := func(amp float64) func(int) float64 {
		// 20 Hz to 7980 Hz, linear in frequency.
		return func(i int) float64 {
			t := float64(i) / rate
			T := float64(n) / rate
			f0, f1 := 20.0, 7980.0
			return amp * math.Sin(2*math.Pi*(f0*t+(f1-f0)*t*t/(2*T)))
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	noise := func(amp float64) func(int) float64 {
		return func(int) float64 { return amp * (2*rng.Float64() - 1) }
	}
	square := func(hz, amp float64) func(int) float64 {
		return func(i int) float64 {
			if math.Sin(2*math.Pi*hz*float64(i)/rate) >= 0 {
				return amp
			}
			return -amp
		}
	}
	ins := []g722Input{
		{"silence", make([]int16, n)},
		{"sweep full scale", gen(sweep(32767))},
		{"sweep -20 dB", gen(sweep(3277))},
		{"noise 10", gen(noise(10))},
		{"noise 300", gen(noise(300))},
		{"noise 3000", gen(noise(3000))},
		{"noise full scale", gen(noise(32767))},
		{"square 50 Hz clipping", gen(square(50, 32767))},
		{"square 1 kHz clipping", gen(square(1000, 32767))},
		{"square 7 kHz clipping", gen(square(7000, 32767))},
		{"sine 4x overdriven", gen(func(i int) float64 { return 4 * 32767 * math.Sin(2*math.Pi*440*float64(i)/rate) })},
		{"alternating extremes", gen(func(i int) float64 {
			if i%2 == 0 {
				return 32767
			}
			return -32768
		})},
		{"dc -32768", gen(func(int) float64 { return -32768 })},
	}
	r := make([]int16, n)
	for i := range r {
		r[i] = int16(rng.Uint32())
	}
	ins = append(ins, g722Input{"random int16", r})
	// Bursts: loud noise cut by silence, so the scale factors swing both
	// ways many times.
	ins = append(ins, g722Input{"bursts", gen(func(i int) float64 {
		if (i/1600)%2 == 0 {
			return 20000 * (2*rng.Float64() - 1)
		}
		return 0
	})})
	return ins
}

// speechInputs are the shared recordings (or Debian's) at 16 kHz, if any.
func speechInputs(tb testing.TB) []g722Input {
	var ins []g722Input
	for _, lang := range []string{"en", "ru"} {
		us, src, err := speechdata.Corpus(lang)
		if err != nil {
			tb.Logf("no %s speech: %v", lang, err)
			continue
		}
		tb.Logf("%s speech from %s", lang, src)
		for _, u := range us {
			pcm, info, err := audio.ReadWAVFile(u.Path)
			if err != nil {
				tb.Fatal(err)
			}
			if info.Rate != audio.Rate16k {
				if pcm, err = audio.Resample(pcm, info.Rate, audio.Rate16k); err != nil {
					tb.Fatal(err)
				}
			}
			ins = append(ins, g722Input{lang + " " + u.Path, pcm})
		}
	}
	return ins
}

// frames splits pcm into 20 ms frames; a short last frame is dropped, as
// spandsp would read past an odd one.
func frames(pcm []int16) [][]int16 {
	var fs [][]int16
	for len(pcm) >= 320 {
		fs = append(fs, pcm[:320])
		pcm = pcm[320:]
	}
	return fs
}

// compareEncode encodes the chunks with both encoders and compares the
// payload and the encoder state after each; it returns the payloads.
func compareEncode(t *testing.T, name string, chunks [][]int16) [][]byte {
	t.Helper()
	g, ref := newGo(t), newRef(t)
	var pays [][]byte
	for i, c := range chunks {
		f := audio.Frame{Rate: audio.Rate16k, Samples: c}
		want := ref.Encode(nil, f)
		got := g.Encode(nil, f)
		if !bytes.Equal(got, want) {
			j := 0
			for j < len(got) && j < len(want) && got[j] == want[j] {
				j++
			}
			t.Fatalf("%s: chunk %d: payload differs from byte %d (len %d vs %d)", name, i, j, len(got), len(want))
		}
		if gs, rs := g.SaveEncoder(nil), canonical(t, ref.EncoderState()); !bytes.Equal(gs, rs) {
			t.Fatalf("%s: chunk %d: encoder state differs\n go      %v\n spandsp %v", name, i, gs, rs)
		}
		pays = append(pays, got)
	}
	return pays
}

// compareDecode decodes the payloads with both decoders and compares the
// samples and the decoder state after each; it returns the payload bytes
// decoded.
func compareDecode(t *testing.T, name string, pays [][]byte) int {
	t.Helper()
	g, ref := newGo(t), newRef(t)
	n := 0
	for i, p := range pays {
		want := ref.Decode(nil, p)
		got := g.Decode(nil, p)
		if got.Rate != want.Rate || !slices.Equal(got.Samples, want.Samples) {
			j := 0
			for j < len(got.Samples) && j < len(want.Samples) && got.Samples[j] == want.Samples[j] {
				j++
			}
			t.Fatalf("%s: payload %d: samples differ from %d (len %d vs %d)", name, i, j, len(got.Samples), len(want.Samples))
		}
		if gs, rs := decoderState(g), canonical(t, ref.DecoderState()); !bytes.Equal(gs, rs) {
			t.Fatalf("%s: payload %d: decoder state differs\n go      %v\n spandsp %v", name, i, gs, rs)
		}
		n += len(p)
	}
	return n
}

func TestG722BitExactEncodeDecode(t *testing.T) {
	ins := append(syntheticInputs(), speechInputs(t)...)
	var encFrames, decBytes int
	for _, in := range ins {
		fs := frames(in.pcm)
		pays := compareEncode(t, in.name, fs)
		encFrames += len(fs)
		decBytes += compareDecode(t, in.name, pays)
	}
	// Streaming with chunk sizes other than a frame changes nothing.
	speechLike := ins[len(ins)-1].pcm
	var chunks [][]int16
	sizes := []int{2, 4, 158, 320, 322, 640, 1000, 6}
	for i := 0; len(speechLike) >= 2; i++ {
		n := min(sizes[i%len(sizes)], len(speechLike)&^1)
		chunks = append(chunks, speechLike[:n])
		speechLike = speechLike[n:]
	}
	compareEncode(t, "uneven chunks", chunks)
	t.Logf("%d inputs: %d frames encoded and %d payload bytes (%d frames) decoded identically, with identical state after each",
		len(ins), encFrames, decBytes, decBytes/160)
}

func TestG722BitExactDecodeGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var inputs []g722Input // payloads carried in pcm's place, one byte per int16
	pay := func(name string, f func(i int) byte) {
		b := make([]int16, 160*200)
		for i := range b {
			b[i] = int16(f(i))
		}
		inputs = append(inputs, g722Input{name, b})
	}
	pay("random", func(int) byte { return byte(rng.Uint32()) })
	pay("all codes", func(i int) byte { return byte(i) })
	pay("0x00", func(int) byte { return 0x00 })
	pay("0xff", func(int) byte { return 0xff })
	pay("largest steps", func(i int) byte { return [4]byte{0xc4, 0x84, 0xe4, 0xa4}[i%4] })
	pay("alternating signs", func(i int) byte { return [2]byte{0x04, 0xc0 | 0x20}[i%2] })
	pay("random loud", func(int) byte { return byte(rng.Uint32()&0xc0) | byte(4+rng.IntN(4)) | byte(rng.IntN(2))<<5 })
	total := 0
	for _, in := range inputs {
		var pays [][]byte
		for _, fr := range frames(in.pcm) {
			p := make([]byte, len(fr))
			for i, v := range fr {
				p[i] = byte(v)
			}
			pays = append(pays, p)
		}
		total += compareDecode(t, in.name, pays)
	}
	// Payloads of odd and tiny lengths.
	var pays [][]byte
	for n := range 200 {
		p := make([]byte, n%7+1)
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		pays = append(pays, p)
	}
	total += compareDecode(t, "short payloads", pays)
	t.Logf("%d garbage payload bytes decoded identically", total)
}

// randomState is a state with arbitrary 16-bit values, often extreme ones,
// except that det follows from an in-range nb (spandsp derives it so, and
// the Go state leaves it out).
func randomState(rng *rand.Rand) spandsp.State {
	v := func() int16 {
		switch rng.IntN(8) {
		case 0:
			return 32767
		case 1:
			return -32768
		case 2:
			return int16(rng.IntN(3) - 1)
		case 3:
			return [4]int16{12288, -12288, 15360, -15360}[rng.IntN(4)]
		default:
			return int16(rng.Uint32())
		}
	}
	var s spandsp.State
	for i := range s.X {
		s.X[i], s.Y[i] = v(), v()
	}
	s.Ptr = rng.IntN(12)
	maxNB := [2]int{g722NBMaxLow, g722NBMaxHigh}
	dets := [2][]int32{g722DetLow[:], g722DetHigh[:]}
	for k := range s.Band {
		b := &s.Band[k]
		b.NB = int16(rng.IntN(maxNB[k] + 1))
		if rng.IntN(4) == 0 {
			b.NB = int16(maxNB[k])
		}
		b.Det = int16(dets[k][b.NB>>6])
		b.S, b.SZ, b.R = v(), v(), v()
		b.P = [2]int16{v(), v()}
		b.A = [2]int16{v(), v()}
		for i := range b.B {
			b.B[i] = v()
		}
		for i := range b.D {
			b.D[i] = v()
		}
	}
	return s
}

// From arbitrary (mostly unreachable) states, which drive every saturation
// in the predictor, both implementations still agree.
func TestG722BitExactFromRandomStates(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const states, framesEach = 2000, 3
	for n := range states {
		st := randomState(rng)
		canon := canonical(t, st)

		g, ref := newGo(t), newRef(t)
		ref.SetEncoderState(st)
		g.RestoreEncoder(canon)
		if got := g.SaveEncoder(nil); !bytes.Equal(got, canon) {
			t.Fatalf("state %d not taken", n)
		}
		var e g722Encoder
		e.restore(canon)
		ref.SetDecoderState(st)
		g.dec.qmf, g.dec.low, g.dec.high = e.qmf, e.low, e.high

		for i := range framesEach {
			pcm := make([]int16, 320)
			amp := [3]int{0, 2000, 65536}[rng.IntN(3)]
			for j := range pcm {
				if amp > 0 {
					pcm[j] = int16(rng.IntN(amp) - amp/2)
				}
			}
			f := audio.Frame{Rate: audio.Rate16k, Samples: pcm}
			want, got := ref.Encode(nil, f), g.Encode(nil, f)
			if !bytes.Equal(got, want) {
				t.Fatalf("state %d frame %d: payload differs\n go      % x\n spandsp % x", n, i, got, want)
			}
			if gs, rs := g.SaveEncoder(nil), canonical(t, ref.EncoderState()); !bytes.Equal(gs, rs) {
				t.Fatalf("state %d frame %d: encoder state differs", n, i)
			}
			pay := make([]byte, 160)
			for j := range pay {
				pay[j] = byte(rng.Uint32())
			}
			if i == 0 {
				pay = want // also what the encoder made of it
			}
			wd, gd := ref.Decode(nil, pay), g.Decode(nil, pay)
			if !slices.Equal(gd.Samples, wd.Samples) {
				t.Fatalf("state %d frame %d: samples differ", n, i)
			}
			if gs, rs := decoderState(g), canonical(t, ref.DecoderState()); !bytes.Equal(gs, rs) {
				t.Fatalf("state %d frame %d: decoder state differs", n, i)
			}
		}
	}
	t.Logf("%d random states, %d frames encoded and decoded from each: identical", states, framesEach)
}

// The quantiser's multiply-by-reciprocal and level table pick exactly the
// level QUANTL's linear search does, for every reachable scale factor and
// every error magnitude; and det stays within the 16384 the reciprocal and
// the unsaturated 2dx rely on.
func TestG722QuantL(t *testing.T) {
	q6 := append([]int32{0}, g722Q6[:]...) // the standard's q6[1..29]
	for _, dets := range [][]int32{g722DetLow[:g722NBMaxLow>>6+1], g722DetHigh[:g722NBMaxHigh>>6+1]} {
		for j, det := range dets {
			if det < 8 || det > 16384 {
				t.Fatalf("det %d at nb>>6 = %d", det, j)
			}
		}
	}
	for j, det := range g722DetLow[:g722NBMaxLow>>6+1] {
		i := 1 // the search's answer only grows with wd
		for wd := int32(0); wd <= 32767; wd++ {
			for i < 30 && wd >= (q6[i]*det)>>12 {
				i++
			}
			if got := g722QuantL(wd, int32(j)<<6); got != i-1 {
				t.Fatalf("det %d wd %d: level %d, the search says %d", det, wd, got+1, i)
			}
		}
	}
}

// Saving, encoding on, restoring and encoding again repeats the bytes, and
// the restored state is the saved one byte for byte.
func TestG722SaveRestore(t *testing.T) {
	ins := syntheticInputs()
	sp := speechInputs(t)
	if len(sp) > 0 {
		ins = append(ins, sp[0])
	}
	for _, in := range ins {
		fs := frames(in.pcm)
		if len(fs) < 30 {
			continue
		}
		c := newGo(t)
		for _, f := range fs[:20] {
			c.Encode(nil, audio.Frame{Rate: audio.Rate16k, Samples: f})
		}
		state := c.SaveEncoder(nil)
		if len(state) != g722StateLen {
			t.Fatalf("state is %d bytes, want %d", len(state), g722StateLen)
		}
		var a, b []byte
		for _, f := range fs[20:30] {
			a = c.Encode(a, audio.Frame{Rate: audio.Rate16k, Samples: f})
		}
		c.RestoreEncoder(state)
		if again := c.SaveEncoder(nil); !bytes.Equal(again, state) {
			t.Fatalf("%s: restored state reads back differently", in.name)
		}
		for _, f := range fs[20:30] {
			b = c.Encode(b, audio.Frame{Rate: audio.Rate16k, Samples: f})
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("%s: encoding after restore differs", in.name)
		}
		// A fresh encoder given the state encodes the same too.
		d := newGo(t)
		d.RestoreEncoder(state)
		var e []byte
		for _, f := range fs[20:30] {
			e = d.Encode(e, audio.Frame{Rate: audio.Rate16k, Samples: f})
		}
		if !bytes.Equal(a, e) {
			t.Fatalf("%s: another encoder restored from the state encodes differently", in.name)
		}
	}
}

// States that SaveEncoder cannot have written are ignored; arbitrary ones
// of the right shape never make the encoder panic.
func TestG722RestoreInvalid(t *testing.T) {
	c := newGo(t)
	var ph float64
	c.Encode(nil, tone(16000, 440, 320, &ph))
	good := c.SaveEncoder(nil)
	nbLow := 1 + 2*24
	bad := map[string][]byte{
		"empty":        nil,
		"short":        good[:len(good)-1],
		"long":         append(slices.Clone(good), 0),
		"format":       append([]byte{g722StateFormat + 1}, good[1:]...),
		"nb negative":  binary.LittleEndian.AppendUint16(slices.Clone(good[:nbLow]), 0xffff),
		"nb too large": binary.LittleEndian.AppendUint16(slices.Clone(good[:nbLow]), g722NBMaxLow+1),
	}
	for name, s := range bad {
		if len(s) == nbLow+2 {
			s = append(s, good[nbLow+2:]...)
		}
		c.RestoreEncoder(s)
		if got := c.SaveEncoder(nil); !bytes.Equal(got, good) {
			t.Fatalf("%s: state was taken", name)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		s := slices.Clone(good)
		for i := 1; i < len(s); i++ {
			s[i] = byte(rng.Uint32())
		}
		binary.LittleEndian.PutUint16(s[nbLow:], uint16(rng.IntN(g722NBMaxLow+1)))
		binary.LittleEndian.PutUint16(s[nbLow+2*g722BandFields:], uint16(rng.IntN(g722NBMaxHigh+1)))
		c.RestoreEncoder(s)
		if got := c.SaveEncoder(nil); !bytes.Equal(got, s) {
			t.Fatal("a valid state reads back differently")
		}
		pcm := make([]int16, 320)
		for i := range pcm {
			pcm[i] = int16(rng.Uint32())
		}
		c.Encode(nil, audio.Frame{Rate: audio.Rate16k, Samples: pcm})
	}
}

// An odd frame encodes its last sample paired with a zero.
func TestG722OddFrame(t *testing.T) {
	a, b := newGo(t), newGo(t)
	pcm := []int16{1000, -2000, 3000, -4000, 5000}
	got := a.Encode(nil, audio.Frame{Rate: audio.Rate16k, Samples: pcm})
	want := b.Encode(nil, audio.Frame{Rate: audio.Rate16k, Samples: append(slices.Clone(pcm), 0)})
	if !bytes.Equal(got, want) {
		t.Fatalf("odd frame: % x, padded: % x", got, want)
	}
}

func TestG722NoAllocs(t *testing.T) {
	c := newGo(t)
	var ph float64
	f := tone(16000, 440, 320, &ph)
	buf := make([]byte, 0, 160)
	pcm := make([]int16, 320)
	var p []byte
	if n := testing.AllocsPerRun(100, func() { p = c.Encode(buf[:0], f) }); n != 0 {
		t.Fatalf("Encode: %v allocations per frame", n)
	}
	if n := testing.AllocsPerRun(100, func() { c.Decode(pcm, p) }); n != 0 {
		t.Fatalf("Decode: %v allocations per frame", n)
	}
}

// One goroutine encodes while another decodes (a call's sender and
// receiver), and Close may come while both are running.
func TestG722ConcurrentUseAndClose(t *testing.T) {
	c := newGo(t)
	var ph float64
	f := tone(16000, 440, 320, &ph)
	pay := c.Encode(nil, f)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				c.Encode(nil, f)
				c.SaveEncoder(nil)
			}
		}
	})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				c.Decode(nil, pay)
			}
		}
	})
	for range 50 {
		c.Encode(nil, f) // keeps the main goroutine busy a while
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if p := c.Encode(nil, f); len(p) != 0 {
		t.Fatalf("Encode after Close gave %d bytes", len(p))
	}
	if d := c.Decode(nil, pay); len(d.Samples) != 0 {
		t.Fatalf("Decode after Close gave %d samples", len(d.Samples))
	}
	if s := c.SaveEncoder(nil); len(s) != 0 {
		t.Fatalf("SaveEncoder after Close gave %d bytes", len(s))
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// Seed corpus in testdata/fuzz/FuzzG722Decode. Any payload decodes to two
// samples per byte without panicking, exactly as spandsp decodes it, and
// the same bytes split in two payloads decode to the same samples.
func FuzzG722Decode(f *testing.F) {
	f.Add([]byte{0x00, 0xff, 0x3f, 0xc0, 0x80, 0x7f}, uint8(3))
	f.Fuzz(func(t *testing.T, payload []byte, cut uint8) {
		g, ref := newGo(t), newRef(t)
		got := g.Decode(nil, payload)
		if len(got.Samples) != 2*len(payload) || got.Rate != audio.Rate16k {
			t.Fatalf("%d bytes decoded to %d samples at %d Hz", len(payload), len(got.Samples), got.Rate)
		}
		if want := ref.Decode(nil, payload); !slices.Equal(got.Samples, want.Samples) {
			t.Fatalf("samples differ from spandsp's:\n go      %v\n spandsp %v", got.Samples, want.Samples)
		}
		k := min(int(cut), len(payload))
		h := newGo(t)
		split := append(h.Decode(nil, payload[:k]).Samples, h.Decode(nil, payload[k:]).Samples...)
		if !slices.Equal(split, got.Samples) {
			t.Fatalf("decoding in two payloads (cut at %d) differs", k)
		}
	})
}

// Any even-length PCM (the bytes read as little-endian int16) encodes as
// spandsp encodes it.
func FuzzG722Encode(f *testing.F) {
	f.Add([]byte{0xff, 0x7f, 0x00, 0x80, 0x00, 0x00, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		pcm := make([]int16, len(data)/4*2)
		for i := range pcm {
			pcm[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
		}
		if len(pcm) == 0 {
			return
		}
		fr := audio.Frame{Rate: audio.Rate16k, Samples: pcm}
		got := newGo(t).Encode(nil, fr)
		if want := newRef(t).Encode(nil, fr); !bytes.Equal(got, want) {
			t.Fatalf("payload differs from spandsp's:\n go      % x\n spandsp % x", got, want)
		}
	})
}
