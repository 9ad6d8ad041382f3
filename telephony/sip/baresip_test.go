package sip

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/internal/baresiptest"
)

// toneFrames makes n 20 ms frames of a 16 kHz sine at hz.
func toneFrames(hz float64, n int) []audio.Frame {
	var out []audio.Frame
	for i := range n {
		s := make([]int16, 320)
		for j := range s {
			s[j] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i*320+j)/16000))
		}
		out = append(out, audio.Frame{Rate: 16000, Samples: s})
	}
	return out
}

// toneShare is the part of a frame's energy at hz (Goertzel): near 1 for
// a clean tone, near 0 for noise, speech at other pitches or silence.
func toneShare(s []int16, rate int, hz float64) float64 {
	w := 2 * math.Cos(2*math.Pi*hz/float64(rate))
	var s1, s2, total float64
	for _, v := range s {
		x := float64(v)
		s0 := x + w*s1 - s2
		s2, s1 = s1, s0
		total += x * x
	}
	if total == 0 {
		return 0
	}
	power := s1*s1 + s2*s2 - w*s1*s2
	return power / (total * float64(len(s)) / 2)
}

// baresip, a real softphone, calls the server with SRTP (SDES) and G.722:
// the call must be answered with encrypted media (RTP/SAVP for srtp-mand,
// best-effort a=crypto on RTP/AVP for srtp), the bot's tone must reach
// baresip decoded (recorded by its sndfile module: loud frames at 440 Hz,
// not silence and not noise, which is what a wrong key gives), and
// baresip's microphone must reach the bot.
func TestBaresipSRTP(t *testing.T) {
	bin := baresiptest.Need(t, "g722.so", "srtp.so")
	for _, tc := range []struct {
		mediaenc, proto string
	}{
		{"srtp-mand", "RTP/SAVP"},
		{"srtp", "RTP/AVP"},
	} {
		t.Run(tc.mediaenc, func(t *testing.T) {
			checkGoroutines(t)
			var mu sync.Mutex
			var suite, codecName string
			var loud int
			var stats Stats
			ended := make(chan struct{})
			h := HandlerFunc(func(ctx context.Context, c *Call) error {
				defer close(ended)
				mu.Lock()
				suite, codecName = c.SRTP(), c.Codec()
				mu.Unlock()
				go func() {
					for _, f := range toneFrames(440, 150) { // 3 s
						if c.WriteFrame(f) != nil {
							return
						}
					}
				}()
				defer func() {
					mu.Lock()
					stats = c.Stats()
					mu.Unlock()
				}()
				for {
					f, err := c.ReadFrame()
					if err != nil {
						return nil
					}
					if audio.RMSdBFS(f.Samples) > -30 {
						mu.Lock()
						loud++
						mu.Unlock()
					}
				}
			})
			srv, _ := startServer(t, h)
			dir := t.TempDir()
			mic := filepath.Join(dir, "mic.wav")
			var pcm []int16
			for _, f := range toneFrames(600, 750) { // 15 s, longer than the call
				pcm = append(pcm, f.Samples...)
			}
			if err := audio.WriteWAVFile(mic, pcm, 16000); err != nil {
				t.Fatal(err)
			}
			res := baresiptest.Run(t, bin, baresiptest.Call{
				Dial:     fmt.Sprintf("sip:bot@%s", srv.Addr("udp")),
				Source:   mic,
				Codecs:   []string{"G722"},
				MediaEnc: tc.mediaenc,
				Modules:  []string{"g722.so"},
				Seconds:  6,
				SIPTrace: true,
			})
			select {
			case <-ended:
			case <-time.After(10 * time.Second):
				t.Fatalf("call did not end after baresip quit\n%s", baresiptest.Tail(res.Log, 3000))
			}
			mu.Lock()
			defer mu.Unlock()
			// Our 200's SDP, as baresip's SIP trace shows it.
			i := strings.Index(res.Log, "SIP/2.0 200 OK")
			if i < 0 || !strings.Contains(res.Log[i:], "m=audio ") {
				t.Fatalf("no 200 with SDP in baresip's trace (%v)\n%s", res.Err, baresiptest.Tail(res.Log, 3000))
			}
			answer := res.Log[i:]
			if !strings.Contains(answer, " "+tc.proto+" 9") || !strings.Contains(answer, "a=crypto:") {
				t.Fatalf("answer is not %s G.722 with a=crypto:\n%s", tc.proto, baresiptest.Tail(answer, 2000))
			}
			if suite == "" || codecName != "G722" {
				t.Fatalf("call codec %q srtp %q", codecName, suite)
			}
			t.Logf("suite %s, server stats %+v", suite, stats)
			// baresip sends a couple of unencrypted 16-byte RTCP
			// keep-alives before the call is up: those are dropped.
			if stats.SRTPDropped > 5 || stats.PacketsReceived < 100 || loud < 50 {
				t.Fatalf("bot heard %d loud frames; stats %+v", loud, stats)
			}
			if len(res.Heard) == 0 {
				t.Fatalf("baresip recorded nothing\n%s", baresiptest.Tail(res.Log, 2000))
			}
			heard, info, err := audio.ReadWAVFile(res.Heard[0])
			if err != nil {
				t.Fatal(err)
			}
			n := audio.SamplesPerFrame(info.Rate)
			toneFramesHeard, loudHeard := 0, 0
			for off := 0; off+n <= len(heard); off += n {
				f := heard[off : off+n]
				if audio.RMSdBFS(f) < -30 {
					continue
				}
				loudHeard++
				if toneShare(f, info.Rate, 440) > 0.6 {
					toneFramesHeard++
				}
			}
			t.Logf("baresip heard %.1fs at %d Hz: %d loud frames, %d of them the bot's 440 Hz tone",
				float64(len(heard))/float64(info.Rate), info.Rate, loudHeard, toneFramesHeard)
			// The bot played 3 s; most of it must arrive as the tone.
			if toneFramesHeard < 100 || toneFramesHeard < loudHeard*8/10 {
				t.Fatalf("the bot's tone did not reach baresip decoded: %d tone frames of %d loud", toneFramesHeard, loudHeard)
			}
		})
	}
}
