package sipload

import (
	"math"
	"slices"
	"time"
)

// SpeechDBFS is the level that makes a 20 ms frame "speech" for the
// voice-to-voice measurement, in both directions: a decoded frame whose
// RMS is at or above it. The server sends digital silence (all zeros,
// -inf dBFS) between replies and TTS voices sit around -20 dBFS, so
// -40 dBFS separates them with margin while still catching the soft onset
// of a reply (a frame or two late at most, 20-40 ms).
const SpeechDBFS = -40.0

// LateGap is the inter-arrival time above which a received packet counts
// as late: the sender paces at 20 ms, so more than two frame times
// between consecutive packets means a 40 ms jitter buffer would have run
// dry.
const LateGap = 40 * time.Millisecond

// Sent is one audio packet the caller sent.
type Sent struct {
	At     time.Time
	Speech bool // the frame's level was at least SpeechDBFS
}

// Received is one RTP packet that arrived from the server.
type Received struct {
	At     time.Time
	Seq    uint16
	Audio  bool // the codec's payload (not telephone-event)
	Speech bool // decoded level at least SpeechDBFS
}

// VoiceToVoice is the time from the send of the caller's last speech
// packet in sent[from:] to the arrival of the first received speech packet
// after it: what a caller hears as the bot's reaction time. ok is false
// when the caller said nothing or no reply arrived.
func VoiceToVoice(sent []Sent, from int, recv []Received) (d time.Duration, end time.Time, ok bool) {
	for i := len(sent) - 1; i >= from && i >= 0; i-- {
		if sent[i].Speech {
			end = sent[i].At
			break
		}
	}
	if end.IsZero() {
		return 0, end, false
	}
	for _, r := range recv {
		if r.Audio && r.Speech && r.At.After(end) {
			return r.At.Sub(end), end, true
		}
	}
	return 0, end, false
}

// RxStats is what the receiving side saw of a packet stream.
type RxStats struct {
	Received int
	Lost     int // sequence numbers never seen (gaps; reordering counts as late, not lost)
	Late     int // packets arriving more than LateGap after the previous one
	MaxGap   time.Duration
}

// Add sums two stats (for totals over calls).
func (s RxStats) Add(o RxStats) RxStats {
	return RxStats{Received: s.Received + o.Received, Lost: s.Lost + o.Lost, Late: s.Late + o.Late,
		MaxGap: max(s.MaxGap, o.MaxGap)}
}

// Stream computes loss and lateness of a received stream in arrival
// order. The server sends a packet every 20 ms for the whole call
// (silence included), so any gap in sequence numbers is loss and any long
// pause in arrivals is lateness.
func Stream(recv []Received) RxStats {
	var st RxStats
	st.Received = len(recv)
	if len(recv) == 0 {
		return st
	}
	maxSeq := recv[0].Seq
	for i := 1; i < len(recv); i++ {
		r := recv[i]
		if gap := r.At.Sub(recv[i-1].At); gap > LateGap {
			st.Late++
			st.MaxGap = max(st.MaxGap, gap)
		} else {
			st.MaxGap = max(st.MaxGap, gap)
		}
		// Serial-number arithmetic (RFC 1982) survives the 16-bit wrap.
		if d := int16(r.Seq - maxSeq); d > 0 {
			st.Lost += int(d) - 1
			maxSeq = r.Seq
		} else if d < 0 {
			st.Late++ // reordered: it came after a later one
			if st.Lost > 0 {
				st.Lost-- // it was counted lost when the later one arrived
			}
		}
	}
	return st
}

// Percentile returns the p-th percentile (0-100, nearest rank) of ds.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	k := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(k, len(s)-1))]
}
