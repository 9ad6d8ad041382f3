package webrtc

import (
	"context"
	"errors"
	"math"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/hotline-ivr/hotline/audio"
)

// recorder is a test CallHandler: it plays a 1 kHz tone at 16 kHz (so
// WriteFrame resamples), records what the caller says, acknowledges typed
// text and choices over the events channel, and reports how it ended.
type recorder struct {
	mu     sync.Mutex
	frames []audio.Frame
	rate   int
	calls  chan *Call
	ended  chan error // cause of each ended call
	digits chan Digit
	texts  chan string
}

func newRecorder() *recorder {
	return &recorder{calls: make(chan *Call, 4), ended: make(chan error, 4),
		digits: make(chan Digit, 64), texts: make(chan string, 1024)}
}

func (r *recorder) HandleCall(ctx context.Context, c *Call) error {
	r.calls <- c
	defer func() { r.ended <- context.Cause(ctx) }()
	if err := c.SendEvent(Event{Type: "reply", Text: "hello"}); err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(2)
	go func() { // reader: one goroutine reads
		defer wg.Done()
		for {
			f, err := c.ReadFrame()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.frames, r.rate = append(r.frames, f), f.Rate
			r.mu.Unlock()
		}
	}()
	go func() { // writer: one second of 1 kHz at 16 kHz, then silence
		defer wg.Done()
		var ph float64
		for range 50 {
			s := make([]int16, 320)
			for i := range s {
				s[i] = int16(8000 * math.Sin(ph))
				ph += 2 * math.Pi * 1000 / 16000
			}
			if c.WriteFrame(audio.Frame{Rate: 16000, Samples: s}) != nil {
				return
			}
		}
		_ = c.Flush()
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case d := <-c.DTMF():
			r.digits <- d
			_ = c.SendEvent(Event{Type: "final", Text: "choice " + d.String()})
		case s := <-c.Text():
			r.texts <- s
			_ = c.SendEvent(Event{Type: "final", Text: "echo: " + s})
		}
	}
}

func (r *recorder) recorded() ([]int16, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []int16
	for _, f := range r.frames {
		s = append(s, f.Samples...)
	}
	return s, r.rate
}

func TestCallEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("real pion peers over loopback, ~3 s; skipped with -short")
	}
	before := runtime.NumGoroutine()
	for _, tc := range []struct {
		mime string
		rate int
	}{{webrtc.MimeTypeOpus, 48000}, {webrtc.MimeTypePCMU, 8000}} {
		t.Run(strings.TrimPrefix(tc.mime, "audio/"), func(t *testing.T) {
			rec := newRecorder()
			e := newEnv(t, rec)
			cl := newClient(t, tc.mime, true)
			tok := e.token()
			if !strings.HasPrefix(tok.Token, tokenPrefix) || tok.CallID == "" || time.Until(tok.ExpiresAt) <= 0 {
				t.Fatalf("token response %+v", tok)
			}
			cl.dial(e, tok.Token)
			if !strings.HasSuffix(cl.loc, "/api/v1/calls/"+tok.CallID) {
				t.Fatalf("Location %q", cl.loc)
			}
			call := <-rec.calls
			select {
			case <-call.Connected():
			case <-time.After(10 * time.Second):
				t.Fatal("not connected")
			}
			if call.SampleRate() != tc.rate {
				t.Fatalf("codec %s rate %d", call.Codec(), call.SampleRate())
			}
			if tc.mime == webrtc.MimeTypeOpus {
				cl.sendTone(440)
			} else {
				sendPCMUTone(t, cl, 440)
			}

			// Events both ways: the greeting held until the channel opened,
			// typed text and a DTMF-like choice.
			if ev := cl.waitEvent("reply", 5*time.Second); ev.Text != "hello" {
				t.Fatalf("reply %+v", ev)
			}
			cl.send(Event{Type: "text", Text: "where is my appeal"})
			if ev := cl.waitEvent("final", 5*time.Second); ev.Text != "echo: where is my appeal" {
				t.Fatalf("echo %+v", ev)
			}
			cl.send(Event{Type: "dtmf", Digit: "5"})
			if d := <-rec.digits; d.Key != '5' {
				t.Fatalf("digit %v", d)
			}
			cl.send(Event{Type: "dtmf", Digit: "x"}) // dropped, not delivered

			time.Sleep(1500 * time.Millisecond)

			// Caller audio decoded at the server: 440 Hz at the codec rate.
			got, rate := rec.recorded()
			if rate != tc.rate || len(got) < tc.rate/2 {
				t.Fatalf("server got %d samples at %d Hz", len(got), rate)
			}
			tail := got[len(got)-tc.rate/2:]
			hz := dominantHz(tail, rate)
			if math.Abs(hz-440) > 25 {
				t.Errorf("server heard %.0f Hz, want 440", hz)
			}
			if db := audio.RMSdBFS(tail); db < -20 {
				t.Errorf("server level %.1f dBFS", db)
			}
			// Bot audio at the client: the 1 kHz tone, resampled from 16 kHz.
			back := cl.samples()
			if len(back) < tc.rate/2 {
				t.Fatalf("client got %d samples", len(back))
			}
			loudest := loudestHalfSecond(back, tc.rate)
			backHz := dominantHz(loudest, tc.rate)
			if math.Abs(backHz-1000) > 40 {
				t.Errorf("client heard %.0f Hz, want 1000", backHz)
			}
			t.Logf("server heard %.0f Hz at %.1f dBFS; client heard %.0f Hz; stats %+v",
				hz, audio.RMSdBFS(tail), backHz, call.Stats())

			// Hang-up via DELETE releases the call.
			resp := e.do("DELETE", e.http.URL+cl.loc, "", tok.Token, nil)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("DELETE: %s", resp.Status)
			}
			if cause := <-rec.ended; !errors.Is(cause, ErrHangup) {
				t.Fatalf("cause %v", cause)
			}
			if n := e.srv.ActiveCalls(); n != 0 {
				t.Fatalf("%d calls after hangup", n)
			}
			if _, err := call.ReadFrame(); !errors.Is(err, ErrCallEnded) {
				t.Fatalf("ReadFrame after end: %v", err)
			}
			resp = e.do("DELETE", e.http.URL+cl.loc, "", tok.Token, nil)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("second DELETE: %s", resp.Status)
			}
		})
	}
	settleGoroutines(t, before)
}

func loudestHalfSecond(s []int16, rate int) []int16 {
	n := rate / 2
	best, bestDB := s[:min(n, len(s))], math.Inf(-1)
	for i := 0; i+n <= len(s); i += rate / 10 {
		if db := audio.RMSdBFS(s[i : i+n]); db > bestDB {
			best, bestDB = s[i:i+n], db
		}
	}
	return best
}

func sendPCMUTone(t *testing.T, c *client, hz float64) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		var ph float64
		pcm := make([]int16, 160)
		for {
			select {
			case <-c.stop:
				return
			case <-tk.C:
			}
			for i := range pcm {
				pcm[i] = int16(8000 * math.Sin(ph))
				ph += 2 * math.Pi * hz / 8000
			}
			_ = c.track.WriteSample(mediaSample(audio.EncodeMulaw(nil, pcm)))
		}
	}()
}

func TestBadRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("creates pion peer connections; skipped with -short")
	}
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, newRecorder(), WithClock(clock), WithMaxCalls(1))
	validOffer := newClient(t, webrtc.MimeTypeOpus, true).offer()
	dataOnly := newClient(t, webrtc.MimeTypeOpus, false).offer()

	post := func(tok, ctype, body string) int {
		resp := e.do("POST", e.base+"/calls", ctype, tok, []byte(body))
		resp.Body.Close()
		if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("error without problem body: %s", resp.Status)
		}
		return resp.StatusCode
	}
	tok := e.token().Token
	forged := tok[:len(tok)-3] + "AAA"
	if got := post(forged, "application/sdp", validOffer); got != 401 {
		t.Errorf("forged token: %d", got)
	}
	if got := post("", "application/sdp", validOffer); got != 401 {
		t.Errorf("no token: %d", got)
	}
	if got := post(tok, "text/plain", validOffer); got != 415 {
		t.Errorf("wrong content type: %d", got)
	}
	if got := post(tok, "application/sdp", "v=0\r\nthis is not sdp"); got != 400 {
		t.Errorf("malformed SDP: %d", got)
	}
	if got := post(tok, "application/sdp", dataOnly); got != 422 {
		t.Errorf("no audio: %d", got)
	}
	// Rejected offers did not use the token up.
	if got := post(tok, "application/sdp", validOffer); got != 201 {
		t.Fatalf("valid offer: %d", got)
	}
	if got := post(tok, "application/sdp", validOffer); got != 409 {
		t.Errorf("reused token: %d", got)
	}
	if got := post(e.token().Token, "application/sdp", validOffer); got != 503 {
		t.Errorf("over max calls: %d", got)
	}
	old := e.token().Token
	mu.Lock()
	now = now.Add(6 * time.Minute)
	mu.Unlock()
	if got := post(old, "application/sdp", validOffer); got != 401 {
		t.Errorf("expired token: %d", got)
	}
	resp := e.do("PATCH", e.base+"/calls/nope", "application/trickle-ice-sdpfrag", old, []byte("a=candidate:x\r\n"))
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("PATCH with another call's token: %s", resp.Status)
	}
	req, _ := http.NewRequest("POST", e.base+"/calls/token", nil)
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("token without caller: %s", resp.Status)
	}
}

func TestDataChannelFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("real pion peers over loopback; skipped with -short")
	}
	rec := newRecorder()
	e := newEnv(t, rec, WithDataChannelLimits(10, 5, 50))
	cl := newClient(t, webrtc.MimeTypeOpus, true)
	cl.dial(e, e.token().Token)
	call := <-rec.calls
	<-cl.dcOpen
	for range 500 {
		if cl.dc.SendText(`{"type":"text","text":"spam"}`) != nil {
			break
		}
	}
	select {
	case <-cl.dcClosed:
	case <-time.After(10 * time.Second):
		t.Fatal("flooded events channel was not closed")
	}
	// The handler forwards texts on its own goroutine: give what the limiter
	// let through time to arrive before counting.
	for deadline := time.Now().Add(2 * time.Second); len(rec.texts) == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(rec.texts); n > 20 || n == 0 {
		t.Errorf("%d texts delivered from a flood (limit 5 burst, 10/s)", n)
	}
	select {
	case <-call.Done():
		t.Fatalf("call ended by a flood: %v", call.Err())
	default:
	}
	if err := call.SendEvent(Event{Type: "reply"}); !errors.Is(err, ErrEventsClosed) {
		t.Errorf("SendEvent after abuse: %v", err)
	}
	if st := call.Stats(); st.EventsDropped < 50 {
		t.Errorf("stats %+v", st)
	}
}

func TestPeerVanishes(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for ICE timeouts; skipped with -short")
	}
	for _, tc := range []struct {
		name  string
		leave func(*client)
		want  []error
	}{
		// A closed tab: the browser closes DTLS and SCTP on its way out.
		{"closed", func(c *client) { c.close() }, []error{ErrPeerClosed, ErrICEFailed}},
		// A vanished network: nothing more arrives, not even a goodbye,
		// so only the ICE timeouts can tell.
		{"vanished", func(c *client) { _ = c.pc.SCTP().Transport().ICETransport().Stop() }, []error{ErrICEFailed}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			e := newEnv(t, rec, WithICETimeouts(300*time.Millisecond, 800*time.Millisecond))
			cl := newClient(t, webrtc.MimeTypeOpus, true)
			cl.dial(e, e.token().Token)
			call := <-rec.calls
			<-call.Connected()
			cl.sendTone(300)
			time.Sleep(300 * time.Millisecond) // mid-reply: the handler is writing
			start := time.Now()
			tc.leave(cl)
			select {
			case cause := <-rec.ended:
				ok := false
				for _, w := range tc.want {
					ok = ok || errors.Is(cause, w)
				}
				if !ok {
					t.Errorf("cause %v, want one of %v", cause, tc.want)
				}
				t.Logf("call ended %v after the peer left: %v", time.Since(start).Round(time.Millisecond), cause)
			case <-time.After(5 * time.Second):
				t.Fatal("call did not end after the peer left")
			}
			waitFor(t, 5*time.Second, "call released", func() bool { return e.srv.ActiveCalls() == 0 })
		})
	}
}

func TestConnectTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("creates pion peer connections; skipped with -short")
	}
	rec := newRecorder()
	e := newEnv(t, rec, WithConnectTimeout(500*time.Millisecond))
	cl := newClient(t, webrtc.MimeTypeOpus, true)
	// Offer, but never apply the answer: ICE can never complete.
	resp := e.do("POST", e.base+"/calls", "application/sdp", e.token().Token, []byte(cl.offer()))
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatal(resp.Status)
	}
	select {
	case cause := <-rec.ended:
		if !errors.Is(cause, ErrConnectTimeout) {
			t.Errorf("cause %v", cause)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("unconnected call did not end")
	}
}

func TestServerCloseEndsCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("real pion peers over loopback; skipped with -short")
	}
	rec := newRecorder()
	e := newEnv(t, rec)
	cl := newClient(t, webrtc.MimeTypeOpus, true)
	cl.dial(e, e.token().Token)
	<-rec.calls
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if cause := <-rec.ended; !errors.Is(cause, ErrServerClosed) {
		t.Fatalf("cause %v", cause)
	}
	_ = e.srv.Close() // idempotent
	offer := newClient(t, webrtc.MimeTypeOpus, true).offer()
	resp := e.do("POST", e.base+"/calls", "application/sdp", e.token().Token, []byte(offer))
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("offer after Close: %s", resp.Status)
	}
}
