package webrtc

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	"gopkg.in/hraban/opus.v2"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/internal/rtcclient"
)

// env is a Server behind an httptest server with the routes registered.
type env struct {
	t    *testing.T
	srv  *Server
	http *httptest.Server
	base string
}

func newEnv(t *testing.T, h CallHandler, opts ...Option) *env {
	t.Helper()
	opts = append([]Option{WithLoopbackOnly(), WithTokenSecret([]byte("test-secret-0123456789"))}, opts...)
	srv, err := New(h, opts...)
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.TestMode)
	r := gin.New()
	requireCaller := func(c *gin.Context) {
		if c.GetHeader("X-Test-User") == "" {
			c.AbortWithStatus(http.StatusUnauthorized)
		}
	}
	Register(r.Group("/api/v1"), srv, requireCaller, func(c *gin.Context) string { return c.GetHeader("X-Test-User") })
	hs := httptest.NewServer(r)
	e := &env{t: t, srv: srv, http: hs, base: hs.URL + "/api/v1"}
	t.Cleanup(func() {
		_ = srv.Close()
		hs.Close()
		http.DefaultClient.CloseIdleConnections()
	})
	return e
}

func (e *env) do(method, url, ctype, token string, body []byte) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("X-Test-User", "user-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

func (e *env) token() CallToken {
	e.t.Helper()
	resp := e.do("POST", e.base+"/calls/token", "", "", nil)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("token: %s", resp.Status)
	}
	var tok CallToken
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// client is the app side: a pion PeerConnection with an Opus (or PCMU)
// track and the events data channel.
type client struct {
	t        *testing.T
	pc       *webrtc.PeerConnection
	track    *webrtc.TrackLocalStaticSample
	dc       *webrtc.DataChannel
	events   chan Event
	dcOpen   chan struct{}
	dcClosed chan struct{}
	loc      string
	token    string
	wg       sync.WaitGroup
	stop     chan struct{}
	stopOnce sync.Once

	mu       sync.Mutex
	received []int16
}

func newClient(t *testing.T, mime string, withAudio bool) *client {
	t.Helper()
	var m webrtc.MediaEngine
	cp := webrtc.RTPCodecParameters{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}}
	if mime == webrtc.MimeTypePCMU {
		cp = webrtc.RTPCodecParameters{PayloadType: 0, RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}}
	}
	if err := m.RegisterCodec(cp, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	var ir interceptor.Registry
	if err := webrtc.RegisterDefaultInterceptors(&m, &ir); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(n string) bool { return n == "lo" })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(&m), webrtc.WithInterceptorRegistry(&ir), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, pc: pc, events: make(chan Event, 100), dcOpen: make(chan struct{}),
		dcClosed: make(chan struct{}), stop: make(chan struct{})}
	if withAudio {
		c.track, err = webrtc.NewTrackLocalStaticSample(cp.RTPCodecCapability, "audio", "app")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pc.AddTrack(c.track); err != nil {
			t.Fatal(err)
		}
	}
	c.dc, err = pc.CreateDataChannel(EventsLabel, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.dc.OnOpen(func() { close(c.dcOpen) })
	c.dc.OnClose(func() { close(c.dcClosed) })
	c.dc.OnMessage(func(msg webrtc.DataChannelMessage) {
		var ev Event
		if json.Unmarshal(msg.Data, &ev) == nil {
			select {
			case c.events <- ev:
			default:
			}
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		var dec *opus.Decoder
		if tr.Codec().MimeType == webrtc.MimeTypeOpus {
			dec, _ = opus.NewDecoder(48000, 1)
		}
		pcm := make([]int16, 5760)
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			var s []int16
			if dec != nil {
				n, err := dec.Decode(p.Payload, pcm)
				if err != nil {
					continue
				}
				s = pcm[:n]
			} else {
				s = audio.DecodeMulaw(nil, p.Payload)
			}
			c.mu.Lock()
			c.received = append(c.received, s...)
			c.mu.Unlock()
		}
	})
	t.Cleanup(c.close)
	return c
}

// offer creates an offer without candidates: they follow by PATCH.
func (c *client) offer() string {
	c.t.Helper()
	o, err := c.pc.CreateOffer(nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.pc.SetLocalDescription(o); err != nil {
		c.t.Fatal(err)
	}
	return o.SDP
}

// dial does the WHIP exchange with trickle ICE.
func (c *client) dial(e *env, token string) {
	c.t.Helper()
	gathered := webrtc.GatheringCompletePromise(c.pc)
	offer := c.offer()
	resp := e.do("POST", e.base+"/calls", "application/sdp", token, []byte(offer))
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		c.t.Fatalf("POST /calls: %s %s", resp.Status, body)
	}
	c.loc, c.token = resp.Header.Get("Location"), token
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)}); err != nil {
		c.t.Fatal(err)
	}
	<-gathered
	var frag strings.Builder
	for _, line := range strings.Split(c.pc.LocalDescription().SDP, "\r\n") {
		if strings.HasPrefix(line, "a=mid:") || strings.HasPrefix(line, "a=candidate:") {
			frag.WriteString(line + "\r\n")
		}
	}
	frag.WriteString("a=end-of-candidates\r\n")
	resp = e.do("PATCH", e.http.URL+c.loc, "application/trickle-ice-sdpfrag", token, []byte(frag.String()))
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		c.t.Fatalf("PATCH: %s", resp.Status)
	}
}

// sendTone sends a sine tone as Opus packets paced at 20 ms until stopped.
func (c *client) sendTone(hz float64) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if err := rtcclient.SendTone(c.track, c.stop, func() float64 { return hz }); err != nil {
			c.t.Error(err)
		}
	}()
}

func (c *client) send(ev Event) {
	b, _ := json.Marshal(ev)
	if err := c.dc.SendText(string(b)); err != nil {
		c.t.Errorf("send %v: %v", ev, err)
	}
}

func (c *client) waitEvent(typ string, d time.Duration) Event {
	c.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev := <-c.events:
			if ev.Type == typ {
				return ev
			}
		case <-deadline:
			c.t.Fatalf("no %q event within %v", typ, d)
		}
	}
}

func (c *client) samples() []int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int16(nil), c.received...)
}

func (c *client) close() {
	c.stopOnce.Do(func() { close(c.stop) })
	c.wg.Wait()
	_ = c.pc.GracefulClose()
}

// dominantHz estimates a tone's frequency from zero crossings.
func dominantHz(s []int16, rate int) float64 {
	if len(s) < 2 {
		return 0
	}
	n := 0
	for i := 1; i < len(s); i++ {
		if (s[i-1] < 0) != (s[i] < 0) {
			n++
		}
	}
	return float64(n) / 2 / (float64(len(s)) / float64(rate))
}

// settleGoroutines waits for the goroutine count to come back down; pion
// stops some of its goroutines shortly after Close returns.
func settleGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var _ = context.Background
