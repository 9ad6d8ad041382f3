package webrtc

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// TestAcceptServerLeg: a leg started by Accept (no call token: an agent's
// desk joining a caller) runs its own handler, not the server's, gets
// audio both ways, is found by Call and ends when its handler returns.
func TestAcceptServerLeg(t *testing.T) {
	if testing.Short() {
		t.Skip("real pion peers over loopback; skipped with -short")
	}
	before := runtime.NumGoroutine()
	t.Run("leg", func(t *testing.T) {
		e := newEnv(t, HandlerFunc(func(context.Context, *Call) error {
			t.Error("the token handler ran for an accepted leg")
			return nil
		}))
		if _, _, err := e.srv.Accept(context.Background(), "", []byte("v=0"), newRecorder()); err == nil {
			t.Fatal("accept without a subject succeeded")
		}
		rec := newRecorder()
		cl := newClient(t, webrtc.MimeTypeOpus, true)
		gathered := webrtc.GatheringCompletePromise(cl.pc)
		cl.offer()
		<-gathered
		id, answer, err := e.srv.Accept(context.Background(), "agent:alice", []byte(cl.pc.LocalDescription().SDP), rec)
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
			t.Fatal(err)
		}
		call := <-rec.calls
		if call.ID != id || call.Subject != "agent:alice" || e.srv.Call(id) != call {
			t.Fatalf("leg %q %q, Call(%q) = %v", call.ID, call.Subject, id, e.srv.Call(id))
		}
		cl.sendTone(440)
		waitFor(t, 10*time.Second, "the agent's audio at the server", func() bool {
			s, rate := rec.recorded()
			return len(s) > rate/2 && abs(dominantHz(s[len(s)-rate/4:], rate)-440) < 40
		})
		waitFor(t, 10*time.Second, "the server's tone at the agent", func() bool {
			s := cl.samples()
			return len(s) > 48000/4 && abs(dominantHz(s[:48000/4], 48000)-1000) < 60 || len(s) > 48000 && hasTone(s, 1000)
		})
		call.Hangup()
		select {
		case err := <-rec.ended:
			if !errors.Is(err, ErrHangup) {
				t.Fatalf("ended with %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("leg did not end")
		}
		waitFor(t, 5*time.Second, "unregistered", func() bool { return e.srv.Call(id) == nil })
		cl.close()
		_ = e.srv.Close()
	})
	settleGoroutines(t, before)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// hasTone reports whether some 100 ms window of s (48 kHz) is a tone at hz.
func hasTone(s []int16, hz float64) bool {
	const w = 4800
	for i := 0; i+w <= len(s); i += w {
		if abs(dominantHz(s[i:i+w], 48000)-hz) < hz/10 {
			return true
		}
	}
	return false
}
