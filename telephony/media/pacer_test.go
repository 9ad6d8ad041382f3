package media

import (
	"bytes"
	"math"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/telephony/codec"
)

// sink is a loopback UDP receiver standing in for the peer.
func sink(t *testing.T) (*net.UDPConn, netip.AddrPort) {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadBuffer(4 << 20)
	t.Cleanup(func() { c.Close() })
	return c, c.LocalAddr().(*net.UDPAddr).AddrPort()
}

func newTestSession(t *testing.T, name string, remote netip.AddrPort, paced bool) *Session {
	t.Helper()
	c, err := codec.New(name)
	if err != nil {
		t.Fatal(err)
	}
	r, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s, err := newSession(Config{Codec: c, DTMFPayloadType: 101, RTP: r, RTCP: rc, Remote: remote,
		RTCPInterval: time.Hour}, paced)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func readPackets(t *testing.T, c *net.UDPConn, n int) []rtp.Packet {
	t.Helper()
	var out []rtp.Packet
	buf := make([]byte, 1500)
	for len(out) < n {
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		k, err := c.Read(buf)
		if err != nil {
			t.Fatalf("after %d of %d packets: %v", len(out), n, err)
		}
		var p rtp.Packet
		if err := p.Unmarshal(append([]byte(nil), buf[:k]...)); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func toneFrame(rate, i int) audio.Frame {
	n := audio.SamplesPerFrame(rate)
	f := audio.Frame{Rate: rate, Samples: make([]int16, n)}
	for j := range f.Samples {
		f.Samples[j] = int16(8000 * math.Sin(2*math.Pi*440*float64(i*n+j)/float64(rate)))
	}
	return f
}

// Silence from the cache and speech from the encoder form one stream:
// consecutive sequence numbers, timestamps one frame apart, a marker only
// on the first packet, DTMF on its own event timestamp.
func TestSilenceCacheContinuity(t *testing.T) {
	for _, name := range []string{"G722", "PCMU"} {
		t.Run(name, func(t *testing.T) {
			rx, addr := sink(t)
			s := newTestSession(t, name, addr, false)
			if s.tx.snap == nil {
				t.Fatal("codec cannot replay silence")
			}
			tick := func(n int) {
				for range n {
					s.tick(time.Now(), 1)
				}
			}
			speak := func(n int) {
				for i := range n {
					if err := s.WriteFrame(toneFrame(s.rate, i)); err != nil {
						t.Fatal(err)
					}
				}
				tick(n)
			}
			tick(5)
			speak(8)
			tick(40)
			speak(8)
			if err := s.SendDTMF('5', 60*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			tick(6) // 3 frames of event, 3 end packets
			speak(4)
			const total = 5 + 8 + 40 + 8 + 6 + 4
			pk := readPackets(t, rx, total)
			step := uint32(s.clock / 50)
			cached := 0
			var eventTS uint32
			for i, p := range pk {
				if p.SequenceNumber != pk[0].SequenceNumber+uint16(i) || p.SSRC != pk[0].SSRC {
					t.Fatalf("packet %d: seq %d after %d", i, p.SequenceNumber, pk[0].SequenceNumber)
				}
				wantTS := pk[0].Timestamp + uint32(i)*step
				if p.PayloadType == 101 {
					if i == 5+8+40+8 {
						eventTS = wantTS
						if !p.Marker {
							t.Fatal("no marker on the event's first packet")
						}
					}
					wantTS = eventTS
				} else if p.Marker != (i == 0) {
					t.Fatalf("packet %d: marker %v", i, p.Marker)
				}
				if p.Timestamp != wantTS {
					t.Fatalf("packet %d: timestamp %d, want %d", i, p.Timestamp, wantTS)
				}
				if p.PayloadType == s.codec.PayloadType() && len(p.Payload) != 160 {
					t.Fatalf("packet %d: %d bytes", i, len(p.Payload))
				}
				if i >= 5+8+silenceWarmup+silenceLoop && i < 5+8+40 {
					// Replayed: the recording starts after the
					// warm-up (G.722) or at once (G.711).
					k := (i - 5 - 8 - silenceWarmup) % len(s.tx.recPays)
					if len(s.tx.recPays) == 1 {
						k = 0
					}
					if bytes.Equal(p.Payload, s.tx.recPays[k]) {
						cached++
					}
				}
			}
			if cached != 40-silenceWarmup-silenceLoop {
				t.Fatalf("only %d packets carry the cached silence", cached)
			}
			if st := s.Stats(); st.PacketsSent != total {
				t.Fatalf("sent %d", st.PacketsSent)
			}

			// On hold nothing is sent and the timestamp keeps running;
			// the next packet after it is marked.
			s.SetDirection(RecvOnly)
			speak(3)
			s.SetDirection(SendRecv)
			speak(1)
			p := readPackets(t, rx, 1)[0]
			last := pk[len(pk)-1]
			if p.SequenceNumber != last.SequenceNumber+1 || p.Timestamp != last.Timestamp+4*step || !p.Marker {
				t.Fatalf("after hold: seq %d ts %d marker %v (last %d %d)", p.SequenceNumber, p.Timestamp, p.Marker,
					last.SequenceNumber, last.Timestamp)
			}
		})
	}
}

// snrDelayed is the SNR of got against ref delayed by the codec's delay
// (the best in 0..64 samples), in dB.
func snrDelayed(ref, got []int16) float64 {
	best := math.Inf(-1)
	for d := 0; d <= 64; d++ {
		var sig, noise float64
		for i := range len(ref) - d {
			r, g := float64(ref[i]), float64(got[i+d])
			sig += r * r
			noise += (g - r) * (g - r)
		}
		best = max(best, 10*math.Log10(sig/max(noise, 1)))
	}
	return best
}

// Resuming speech after replayed G.722 silence sounds as good as never
// having stopped: the peer's decoder output of the resumed speech is as
// close to the original as that of a stream that encoded the silence live
// all along. (Resuming from a reset encoder instead clicks at full scale
// and takes some 150 ms to converge.)
func TestSilenceCacheG722Quality(t *testing.T) {
	mk := func() codec.Codec {
		c, err := codec.New("G722")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	cached, live := mk(), mk()
	decC, decL := mk(), mk()
	tx := txState{silence: audio.Frame{Rate: 16000, Samples: make([]int16, 320)}}
	tx.snap = cached.(codec.EncoderSnapshotter)

	var in, outC, outL []int16
	frame := 0
	run := func(speech bool, n int) {
		for range n {
			var f *audio.Frame
			fr := tx.silence
			if speech {
				fr = toneFrame(16000, frame)
				f = &fr
			}
			frame++
			in = append(in, fr.Samples...)
			outC = append(outC, decC.Decode(nil, tx.encodeAudio(cached, nil, f)).Samples...)
			outL = append(outL, decL.Decode(nil, live.Encode(nil, fr)).Samples...)
		}
	}
	run(true, 25)
	run(false, 50)
	if !tx.useCached {
		t.Fatal("cached silence never took over")
	}
	var rms float64
	for _, v := range outC[len(outC)-320*30:] {
		rms += float64(v) * float64(v)
	}
	t.Logf("decoded cached silence: rms %.1f", math.Sqrt(rms/320/30))
	resume := len(outC)
	run(true, 25)
	if tx.useCached {
		t.Fatal("still on cached silence during speech")
	}
	// From the second frame of the new talk spurt (the first has the
	// codec's own attack in both streams) to the end.
	from, to := resume+320, len(in)-64
	qC := snrDelayed(in[from:to], outC[from:])
	qL := snrDelayed(in[from:to], outL[from:])
	firstC := snrDelayed(in[resume:from], outC[resume:])
	firstL := snrDelayed(in[resume:from], outL[resume:])
	t.Logf("resumed speech SNR: first frame %.1f dB, then %.1f dB after replayed silence; %.1f / %.1f dB after live silence",
		firstC, qC, firstL, qL)
	if qC < qL-2 || firstC < firstL-3 {
		t.Errorf("resumed speech after replayed silence: SNR %.1f / %.1f dB, after live silence %.1f / %.1f dB",
			firstC, qC, firstL, qL)
	}
	// No click where the speech starts.
	var peak int16
	for _, v := range outC[resume : resume+320] {
		peak = max(peak, v, -v)
	}
	if peak > 10000 {
		t.Fatalf("peak %d at the start of the resumed speech", peak)
	}
}

// One pacer loop drives many sessions: every session's stream arrives
// complete and in order, at its real-time rate, and closing the sessions
// takes them off the pacers and stops the loops.
func TestPacerManySessions(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time media test")
	}
	checkGoroutines(t)
	rx, addr := sink(t)
	const n = 50
	var ss []*Session
	for range n {
		ss = append(ss, newTestSession(t, "PCMU", addr, true))
	}
	if got := pacedSessions(); got != n {
		t.Fatalf("%d sessions on pacers, want %d", got, n)
	}
	type stream struct {
		count             int
		firstSeq, lastSeq uint16
		firstTS, lastTS   uint32
		first, last       time.Time
		maxGap            time.Duration
		broken            bool
	}
	streams := map[uint32]*stream{}
	buf := make([]byte, 1500)
	end := time.Now().Add(2 * time.Second)
	for time.Now().Before(end) {
		_ = rx.SetReadDeadline(end)
		k, err := rx.Read(buf)
		if err != nil {
			break
		}
		now := time.Now()
		var p rtp.Packet
		if p.Unmarshal(buf[:k]) != nil {
			t.Fatal("bad packet")
		}
		st := streams[p.SSRC]
		if st == nil {
			streams[p.SSRC] = &stream{count: 1, firstSeq: p.SequenceNumber, lastSeq: p.SequenceNumber,
				firstTS: p.Timestamp, lastTS: p.Timestamp, first: now, last: now}
			continue
		}
		if p.SequenceNumber != st.lastSeq+1 || p.Timestamp != st.lastTS+160 {
			st.broken = true
		}
		st.maxGap = max(st.maxGap, now.Sub(st.last))
		st.count++
		st.lastSeq, st.lastTS, st.last = p.SequenceNumber, p.Timestamp, now
	}
	if len(streams) != n {
		t.Fatalf("%d streams, want %d", len(streams), n)
	}
	var worst time.Duration
	for ssrc, st := range streams {
		if st.broken {
			t.Errorf("ssrc %x: sequence or timestamp broken", ssrc)
		}
		// 2 s at 50 packets/s, minus the start-up; loosely, since the
		// box may be loaded (and -race is slow).
		if st.count < 80 || st.count > 102 {
			t.Errorf("ssrc %x: %d packets in 2 s", ssrc, st.count)
		}
		worst = max(worst, st.maxGap)
	}
	t.Logf("worst inter-arrival gap over %d sessions: %v", n, worst)
	if worst > 250*time.Millisecond {
		t.Errorf("a stream paused for %v", worst)
	}
	for _, s := range ss {
		s.Close()
	}
	if got := pacedSessions(); got != 0 {
		t.Fatalf("%d sessions still on pacers after Close", got)
	}
}

func pacedSessions() int {
	pacerFor() // make sure the pacers exist
	n := 0
	for _, p := range pacers {
		n += p.count()
	}
	return n
}

// BenchmarkSendFrame is the sender's per-frame work for one call: take the
// next frame (or silence), encode, marshal, send on a loopback socket.
func BenchmarkSendFrame(b *testing.B) {
	for _, name := range []string{"G722", "PCMU"} {
		for _, speech := range []bool{true, false} {
			kind := "silence"
			if speech {
				kind = "speech"
			}
			b.Run(name+"/"+kind, func(b *testing.B) {
				rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
				if err != nil {
					b.Fatal(err)
				}
				defer rx.Close()
				go func() { // drain
					buf := make([]byte, 1500)
					for {
						if _, err := rx.Read(buf); err != nil {
							return
						}
					}
				}()
				c, _ := codec.New(name)
				r, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
				rc, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
				s, err := newSession(Config{Codec: c, RTP: r, RTCP: rc, RTCPInterval: time.Hour,
					Remote: rx.LocalAddr().(*net.UDPAddr).AddrPort()}, false)
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				f := toneFrame(s.rate, 0)
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if speech {
						s.out <- f
					}
					s.sendFrame()
				}
			})
		}
	}
}
