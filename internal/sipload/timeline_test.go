package sipload

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// sentSpeech is a caller stream: silence, speech in [from,to) ms, silence,
// one packet per 20 ms.
func sentSpeech(total, from, to int) []Sent {
	var s []Sent
	for ms := 0; ms < total; ms += 20 {
		s = append(s, Sent{At: at(ms), Speech: ms >= from && ms < to})
	}
	return s
}

// recvStream is the server's stream: a packet every 20 ms from start with
// a fixed delay, speech from speechFrom ms on.
func recvStream(total, delay, speechFrom int) []Received {
	var r []Received
	for ms := 0; ms < total; ms += 20 {
		r = append(r, Received{At: at(ms + delay), Seq: uint16(65500 + ms/20), Audio: true, Speech: ms >= speechFrom})
	}
	return r
}

func TestVoiceToVoice(t *testing.T) {
	sent := sentSpeech(3000, 500, 1500) // last speech packet sent at 1480 ms
	tests := []struct {
		name string
		recv []Received
		from int
		want time.Duration
		ok   bool
	}{
		// Reply speech sent from 1900 ms, arriving 5 ms later: 1905-1480.
		{"reply", recvStream(3000, 5, 1900), 0, 425 * time.Millisecond, true},
		// Speech before the question ended (a greeting) does not count.
		{"greeting ignored", append(recvStream(400, 5, 0), recvStream(3000, 5, 2000)[100:]...), 0, 525 * time.Millisecond, true},
		{"no reply", recvStream(3000, 5, 99999), 0, 0, false},
		// Counting from a later packet index: no speech sent after it.
		{"question not in window", recvStream(3000, 5, 1900), 80, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, end, ok := VoiceToVoice(sent, tt.from, tt.recv)
			if ok != tt.ok || got != tt.want {
				t.Fatalf("VoiceToVoice = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
			if ok && !end.Equal(at(1480)) {
				t.Errorf("question end %v, want 1480 ms", end.Sub(t0))
			}
		})
	}
}

func TestStream(t *testing.T) {
	r := recvStream(2000, 3, 0) // 100 packets, sequence wraps at 65535
	if st := Stream(r); st.Lost != 0 || st.Late != 0 || st.Received != 100 || st.MaxGap != 20*time.Millisecond {
		t.Fatalf("clean stream: %+v", st)
	}
	// Two packets lost across the wrap, one arriving 70 ms after the
	// previous one (late), one swapped with its successor.
	var m []Received
	for i, p := range r {
		switch i {
		case 35, 36:
			continue
		case 50:
			p.At = p.At.Add(50 * time.Millisecond)
		}
		m = append(m, p)
	}
	m[60], m[61] = m[61], m[60]
	st := Stream(m)
	if st.Lost != 2 || st.Received != 98 {
		t.Errorf("lost %d received %d, want 2 and 98", st.Lost, st.Received)
	}
	// The 70 ms gap before packet 50, the 60 ms gap the loss left, and the
	// reordered one.
	if st.Late != 3 {
		t.Errorf("late %d, want 3 (%+v)", st.Late, st)
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	if p := Percentile(ds, 50); p != 50*time.Millisecond {
		t.Errorf("p50 %v", p)
	}
	if p := Percentile(ds, 95); p != 95*time.Millisecond {
		t.Errorf("p95 %v", p)
	}
	if Percentile(nil, 50) != 0 {
		t.Error("empty")
	}
}
