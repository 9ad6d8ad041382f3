package rtcclient

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/internal/sipload"
	"github.com/hotline-ivr/hotline/telephony/webrtc"
)

func tone(n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/audio.Rate48k))
	}
	return s
}

func TestEncodeMarksSpeechAndPads(t *testing.T) {
	pcm := append(tone(960*3), make([]int16, 960+100)...) // 3 tone frames, 1 silent, a short tail
	fs, err := Encode(pcm)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 5 {
		t.Fatalf("%d frames, want 5 (the tail padded to a whole frame)", len(fs))
	}
	for i, f := range fs {
		want := i < 3
		if f.Speech != want || len(f.Payload) == 0 {
			t.Errorf("frame %d: speech %v (want %v), %d bytes", i, f.Speech, want, len(f.Payload))
		}
	}
}

func TestOrigin(t *testing.T) {
	for base, want := range map[string]string{
		"http://127.0.0.1:8080/api/v1": "http://127.0.0.1:8080",
		"http://127.0.0.1:8080":        "http://127.0.0.1:8080",
	} {
		if got := (&Peer{opts: Options{Base: base}}).origin(); got != want {
			t.Errorf("origin(%q) = %q, want %q", base, got, want)
		}
	}
}

// TestSmokeEcho places two calls to a server that echoes the caller's
// audio and checks set-up times and that voice-to-voice (the SIP
// definition, from the packet timelines) sees the echo.
func TestSmokeEcho(t *testing.T) {
	if testing.Short() {
		t.Skip("places real WebRTC calls")
	}
	echo := webrtc.HandlerFunc(func(ctx context.Context, c *webrtc.Call) error {
		for {
			f, err := c.ReadFrame()
			if err != nil {
				return nil
			}
			if err := c.WriteFrame(f); err != nil {
				return nil
			}
		}
	})
	srv, err := webrtc.New(echo, webrtc.WithLoopbackOnly(), webrtc.WithTokenSecret([]byte("test-secret-0123456789")))
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.TestMode)
	r := gin.New()
	webrtc.Register(r.Group("/api/v1"), srv, func(c *gin.Context) {}, func(c *gin.Context) string { return "smoke" })
	hs := httptest.NewServer(r)
	t.Cleanup(func() { _ = srv.Close(); hs.Close() })

	question, err := Encode(tone(960 * 25)) // 0.5 s of "speech"
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			p, err := Dial(ctx, Options{Base: hs.URL + "/api/v1", Decode: true, HTTP: &http.Client{}})
			if err != nil {
				t.Errorf("call %d: %v", i, err)
				return
			}
			defer p.Hangup(context.Background())
			select {
			case <-p.Connected():
			case <-ctx.Done():
				t.Errorf("call %d: not connected", i)
				return
			}
			if err := p.WaitDataChannel(ctx); err != nil {
				t.Errorf("call %d: data channel: %v", i, err)
				return
			}
			if err := p.Key("2"); err != nil {
				t.Errorf("call %d: key: %v", i, err)
			}
			from := p.SentCount()
			p.Play(question)
			for p.LastSpeech().IsZero() || p.Queued() > 0 || time.Since(p.LastSpeech()) < 300*time.Millisecond {
				if ctx.Err() != nil {
					t.Errorf("call %d: no echo", i)
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
			sent, recv := p.Timeline()
			d, _, ok := sipload.VoiceToVoice(sent, from, recv)
			if !ok || d <= 0 || d > 2*time.Second {
				t.Errorf("call %d: voice-to-voice %v ok=%v", i, d, ok)
			}
			tm := p.Timing()
			if tm.Answer <= 0 || tm.Connected < tm.Answer || tm.FirstPacket <= 0 || tm.FirstSpeech < tm.FirstPacket {
				t.Errorf("call %d: timing %+v", i, tm)
			}
			if st := sipload.Stream(recv); st.Received == 0 || st.Lost > 0 {
				t.Errorf("call %d: stream %+v", i, st)
			}
		}()
	}
	wg.Wait()
}
