package sipload

import (
	"context"
	"log/slog"
	"math"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/telephony/sip"
)

// replier answers like a bot without one: it hears the caller's speech
// end (200 ms of quiet after at least 200 ms of sound), waits replyDelay
// and plays half a second of tone.
type replier struct {
	mu     sync.Mutex
	digits string
	heard  time.Time // when the server saw the question end
}

const replyDelay = 200 * time.Millisecond

func (r *replier) HandleCall(ctx context.Context, c *sip.Call) error {
	var loud, quiet int
	for {
		select {
		case d := <-c.DTMF():
			r.mu.Lock()
			r.digits += string(d.Key)
			r.mu.Unlock()
		default:
		}
		f, err := c.ReadFrame()
		if err != nil {
			return nil
		}
		if audio.RMSdBFS(f.Samples) > -30 {
			loud, quiet = loud+1, 0
			continue
		}
		quiet++
		if loud >= 10 && quiet == 10 {
			loud = 0
			r.mu.Lock()
			r.heard = time.Now()
			r.mu.Unlock()
			time.Sleep(replyDelay)
			for _, t := range tone(c.SampleRate(), 25) {
				if c.WriteFrame(t) != nil {
					return nil
				}
			}
		}
	}
}

func tone(rate, frames int) []audio.Frame {
	s := make([]int16, frames*audio.SamplesPerFrame(rate))
	for i := range s {
		s[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
	}
	return audio.Split(s, rate)
}

// TestSmoke: two callers press a key, say something (a second of tone)
// and measure the reply against a real SIP server on loopback.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time calls over loopback; skipped with -short")
	}
	h := &replier{}
	srv, err := sip.NewServer(h, sip.WithListen("udp", "127.0.0.1:0"), sip.WithRTP("127.0.0.1", 34000, 34099),
		sip.WithLogger(slog.New(slog.DiscardHandler)), sip.WithShutdownGrace(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	waitAddr(t, srv)

	for _, cd := range []string{"G722", "PCMU"} {
		t.Run(cd, func(t *testing.T) {
			q := tone(16000, 50)
			var pcm []int16
			for _, f := range q {
				pcm = append(pcm, f.Samples...)
			}
			rep, err := Run(ctx, Config{Target: srv.Addr("udp").String(), Calls: 2, Total: 2, Rate: 20, Codec: cd,
				Question: audio.Frame{Rate: 16000, Samples: pcm}, DTMF: "2", DTMFDelay: 300 * time.Millisecond,
				QuietGap: 300 * time.Millisecond, ReplyTimeout: 5 * time.Second, MaxDuration: 20 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			s := rep.Summary
			t.Logf("%+v", s)
			if s.Answered != 2 || s.Failed != 0 || s.V2VCount != 2 {
				t.Fatalf("answered %d failed %d v2v %d (%s)", s.Answered, s.Failed, s.V2VCount, s.FirstErr)
			}
			// The server replies 200 ms after 200 ms of quiet, behind a
			// 40-120 ms jitter buffer: 400 ms plus a little.
			if s.V2VP50 < 380*time.Millisecond || s.V2VMax > 800*time.Millisecond {
				t.Errorf("voice-to-voice p50 %v max %v, want about 400-600 ms", s.V2VP50, s.V2VMax)
			}
			if s.Rx.Lost != 0 || s.Rx.Received < 50 {
				t.Errorf("server stream: %+v", s.Rx)
			}
		})
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.digits != "2222" {
		t.Errorf("server got keys %q, want one 2 per call", h.digits)
	}
}

func waitAddr(t *testing.T, s *sip.Server) {
	t.Helper()
	for range 100 {
		if a, ok := s.Addr("udp").(*net.UDPAddr); ok && a != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("server did not start")
}
