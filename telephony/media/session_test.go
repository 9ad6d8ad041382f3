package media

import (
	"math"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/telephony/codec"
)

func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			t.Errorf("goroutine leak: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
	})
}

func pair(t *testing.T, name string) (*Session, *Session, *PortAllocator) {
	t.Helper()
	alloc, err := NewPortAllocator(31000, 31099)
	if err != nil {
		t.Fatal(err)
	}
	mk := func() *Session {
		c, err := codec.New(name)
		if err != nil {
			t.Fatal(err)
		}
		r, rc, err := alloc.Listen("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewSession(Config{Codec: c, DTMFPayloadType: 101, RTP: r, RTCP: rc, RTCPInterval: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := mk(), mk()
	lo := netip.MustParseAddr("127.0.0.1")
	a.SetRemote(netip.AddrPortFrom(lo, uint16(b.LocalPort())))
	b.SetRemote(netip.AddrPortFrom(lo, uint16(a.LocalPort())))
	t.Cleanup(func() {
		a.Close()
		b.Close()
		alloc.Release(a.LocalPort())
		alloc.Release(b.LocalPort())
		if alloc.InUse() != 0 {
			t.Errorf("ports in use: %d", alloc.InUse())
		}
	})
	return a, b, alloc
}

func TestSessionToneAndDTMF(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time media test")
	}
	checkGoroutines(t)
	for _, name := range []string{"G722", "PCMU"} {
		t.Run(name, func(t *testing.T) {
			a, b, _ := pair(t, name)
			rate := a.SampleRate()
			// 1 s of 440 Hz at 16 kHz; the session resamples for PCMU.
			tone := make([]int16, 16000)
			for i := range tone {
				tone[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/16000))
			}
			go func() {
				for _, f := range audio.Split(tone, 16000) {
					if a.WriteFrame(f) != nil {
						return
					}
				}
			}()
			if err := a.SendDTMF('7', 60*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			loud := 0
			deadline := time.After(3 * time.Second)
			var digits []byte
			for loud < 20 || len(digits) == 0 {
				select {
				case d := <-b.DTMF():
					digits = append(digits, d.Key)
				case <-deadline:
					t.Fatalf("loud frames %d, digits %q, stats %+v", loud, digits, b.Stats())
				default:
				}
				f, err := b.ReadFrame()
				if err != nil {
					t.Fatal(err)
				}
				if f.Rate != rate || len(f.Samples) != audio.SamplesPerFrame(rate) {
					t.Fatalf("bad frame %v", f)
				}
				if audio.RMSdBFS(f.Samples) > -25 {
					loud++
				}
			}
			if string(digits) != "7" {
				t.Fatalf("digits %q", digits)
			}
			time.Sleep(300 * time.Millisecond) // let an RTCP report pass
			st := b.Stats()
			if st.PacketsReceived < 20 || st.PacketsSent < 20 || st.DTMFReceived != 1 {
				t.Fatalf("stats %+v", st)
			}
			if n := a.ClearPlayback(); n < 0 {
				t.Fatal(n)
			}
		})
	}
}
