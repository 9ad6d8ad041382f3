package audio

import (
	"math"
	"strconv"
	"time"
)

// VADConfig tunes the voice-activity detector. Zero fields take the values
// of DefaultVADConfig.
type VADConfig struct {
	// ThresholdDB is how far above the estimated noise floor a frame's
	// energy must be to count as speech.
	ThresholdDB float64
	// MinLevelDBFS is an absolute gate: frames quieter than this (after
	// the low-cut filter) are never speech, whatever the noise floor.
	MinLevelDBFS float64
	// MinSpeech is how long speech must last, without a break, before
	// VADSpeechStart is reported. It rejects clicks and short bursts.
	MinSpeech time.Duration
	// Hangover is how long the line must stay quiet after speech before
	// VADSpeechEnd is reported; the bot uses it as end of utterance.
	Hangover time.Duration
	// Pause, when positive and shorter than Hangover, reports VADPause
	// once per break in speech that lasts this long: a short pause after
	// which a listener may decide the utterance is already complete.
	// Zero never reports it.
	Pause time.Duration
}

// DefaultVADConfig returns settings suited to telephone and app speech.
func DefaultVADConfig() VADConfig {
	return VADConfig{
		ThresholdDB:  10,
		MinLevelDBFS: -50,
		MinSpeech:    80 * time.Millisecond,
		Hangover:     700 * time.Millisecond,
	}
}

func (c VADConfig) withDefaults() VADConfig {
	d := DefaultVADConfig()
	if c.ThresholdDB == 0 {
		c.ThresholdDB = d.ThresholdDB
	}
	if c.MinLevelDBFS == 0 {
		c.MinLevelDBFS = d.MinLevelDBFS
	}
	if c.MinSpeech == 0 {
		c.MinSpeech = d.MinSpeech
	}
	if c.Hangover == 0 {
		c.Hangover = d.Hangover
	}
	return c
}

// VADEvent is what a frame changed in the speech state.
type VADEvent int

// Events reported by VAD.Process.
const (
	VADNone        VADEvent = iota // no change
	VADSpeechStart                 // speech began (MinSpeech ago)
	VADSpeechEnd                   // speech ended (Hangover ago)
	VADPause                       // speech paused (Pause ago), may resume
)

func (e VADEvent) String() string {
	switch e {
	case VADNone:
		return "none"
	case VADSpeechStart:
		return "speech-start"
	case VADSpeechEnd:
		return "speech-end"
	case VADPause:
		return "pause"
	default:
		return "VADEvent(" + strconv.Itoa(int(e)) + ")"
	}
}

// Detector tuning that is not worth exposing.
const (
	// lowCutHz removes mains hum, its first harmonics and handling rumble;
	// speech keeps its energy in the harmonics above.
	lowCutHz = 200
	// floorFall and floorRise are the time constants of the noise floor
	// following a quieter and a louder (but not speech) signal. It falls
	// fast so a pause re-arms the detector, and rises slowly so speech does
	// not drag the floor up.
	floorFall = 60 * time.Millisecond
	floorRise = 2 * time.Second
	// floorRiseInSpeech is slower still, for frames classed as speech.
	floorRiseInSpeech = 10 * time.Second
	// Once in speech the threshold drops by hysteresisDB so that soft word
	// endings do not chop an utterance.
	hysteresisDB = 3
	// A signal whose frame energies stay within stationaryRangeDB for
	// stationaryFrames frames is noise or a tone, not speech, whose level
	// swings with every syllable: the floor jumps to it.
	stationaryFrames  = 20
	stationaryRangeDB = 4
)

// VAD is an energy-based voice-activity detector with an adaptive noise
// floor. Each frame is passed through a low-cut filter, its energy compared
// to the noise floor plus a threshold and to an absolute level; speech
// starts after MinSpeech of speech frames and ends after Hangover without.
// Stationary signals (line noise, hum, tones) are absorbed into the floor.
//
// A VAD keeps per-stream state and is not safe for concurrent use.
type VAD struct {
	cfg VADConfig

	rate   int
	lowCut [2]biquad

	started  bool    // floor holds an estimate
	floor    float64 // noise floor, dBFS
	inSpeech bool
	run      time.Duration // consecutive speech (before start) or silence (in speech)

	recent [stationaryFrames]float64 // energies of the latest frames, a ring
	nrec   int
}

// NewVAD returns a detector with cfg; zero fields take the defaults.
func NewVAD(cfg VADConfig) *VAD {
	return &VAD{cfg: cfg.withDefaults()}
}

// Config returns the configuration in use, defaults filled in.
func (v *VAD) Config() VADConfig { return v.cfg }

// InSpeech reports whether the detector is between a VADSpeechStart and the
// following VADSpeechEnd.
func (v *VAD) InSpeech() bool { return v.inSpeech }

// Reset forgets the noise floor and the speech state.
func (v *VAD) Reset() {
	*v = VAD{cfg: v.cfg}
}

// Process classifies one frame and reports a change of state. Frames of any
// length are accepted; timing follows the frame durations. Empty frames
// change nothing.
func (v *VAD) Process(f Frame) VADEvent {
	dur := f.Duration()
	if dur <= 0 {
		return VADNone
	}
	if f.Rate != v.rate {
		v.rate = f.Rate
		v.lowCut = lowCutFilter(f.Rate)
	}
	level := v.energyDBFS(f.Samples)

	threshold := v.cfg.ThresholdDB
	if v.inSpeech {
		threshold -= hysteresisDB
	}
	if !v.started {
		v.started = true
		v.floor = level
	}
	speech := level >= v.cfg.MinLevelDBFS && level > v.floor+threshold
	v.updateFloor(level, speech, dur)

	if !v.inSpeech {
		if !speech {
			v.run = 0
			return VADNone
		}
		v.run += dur
		if v.run < v.cfg.MinSpeech {
			return VADNone
		}
		v.inSpeech, v.run = true, 0
		return VADSpeechStart
	}
	if speech {
		v.run = 0
		return VADNone
	}
	prev := v.run
	v.run += dur
	if v.run < v.cfg.Hangover {
		if p := v.cfg.Pause; p > 0 && prev < p && v.run >= p {
			return VADPause
		}
		return VADNone
	}
	v.inSpeech, v.run = false, 0
	return VADSpeechEnd
}

// energyDBFS is the RMS level of the low-cut filtered samples.
func (v *VAD) energyDBFS(samples []int16) float64 {
	var sum float64
	a, b := &v.lowCut[0], &v.lowCut[1]
	for _, s := range samples {
		y := b.step(a.step(float64(s)))
		sum += y * y
	}
	// Denormals would slow the filter down on long silences.
	a.flushTiny()
	b.flushTiny()
	return toDBFS(math.Sqrt(sum/float64(len(samples))) / fullScale)
}

func (v *VAD) updateFloor(level float64, speech bool, dur time.Duration) {
	tau := floorRise
	switch {
	case level < v.floor:
		tau = floorFall
	case speech:
		tau = floorRiseInSpeech
	}
	v.floor += (level - v.floor) * (1 - math.Exp(-float64(dur)/float64(tau)))

	v.recent[v.nrec%stationaryFrames] = level
	v.nrec++
	if v.nrec < stationaryFrames {
		return
	}
	lo, hi, sum := v.recent[0], v.recent[0], 0.0
	for _, e := range v.recent {
		lo, hi, sum = min(lo, e), max(hi, e), sum+e
	}
	if hi-lo <= stationaryRangeDB {
		v.floor = max(v.floor, sum/stationaryFrames)
	}
}

// biquad is a second-order IIR section in transposed direct form II.
type biquad struct {
	b0, b1, b2, a1, a2 float64
	z1, z2             float64
}

func (q *biquad) step(x float64) float64 {
	y := q.b0*x + q.z1
	q.z1 = q.b1*x - q.a1*y + q.z2
	q.z2 = q.b2*x - q.a2*y
	return y
}

func (q *biquad) flushTiny() {
	if math.Abs(q.z1) < 1e-20 {
		q.z1 = 0
	}
	if math.Abs(q.z2) < 1e-20 {
		q.z2 = 0
	}
}

// lowCutFilter is a 4th-order Butterworth high-pass at lowCutHz as two
// biquads (bilinear transform).
func lowCutFilter(rate int) [2]biquad {
	var f [2]biquad
	w0 := 2 * math.Pi * lowCutHz / float64(rate)
	cos, sin := math.Cos(w0), math.Sin(w0)
	for i, q := range []float64{0.54119610, 1.30656296} {
		alpha := sin / (2 * q)
		a0 := 1 + alpha
		f[i] = biquad{
			b0: (1 + cos) / 2 / a0,
			b1: -(1 + cos) / a0,
			b2: (1 + cos) / 2 / a0,
			a1: -2 * cos / a0,
			a2: (1 - alpha) / a0,
		}
	}
	return f
}
