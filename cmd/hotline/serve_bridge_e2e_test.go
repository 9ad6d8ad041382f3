package main

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	"gopkg.in/hraban/opus.v2"

	"github.com/hotline-ivr/hotline/calls"
	"github.com/hotline-ivr/hotline/internal/rtcclient"
)

// peer is one end of an in-app call as an app would run it: a pion
// PeerConnection with an Opus track (a tone, or silence) and, for the
// caller, the "events" data channel.
type peer struct {
	t      *testing.T
	pc     *webrtc.PeerConnection
	track  *webrtc.TrackLocalStaticSample
	dc     *webrtc.DataChannel
	events chan map[string]any
	hz     atomic.Uint64 // tone frequency sent (math.Float64bits); 0 = silence
	stop   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup

	mu   sync.Mutex
	recv []int16 // 48 kHz mono, as decoded
}

func newPeer(t *testing.T, events bool) *peer {
	t.Helper()
	var m webrtc.MediaEngine
	cp := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{PayloadType: 111, RTPCodecCapability: cp}, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	var ir interceptor.Registry
	if err := webrtc.RegisterDefaultInterceptors(&m, &ir); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(&m), webrtc.WithInterceptorRegistry(&ir), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{t: t, pc: pc, events: make(chan map[string]any, 256), stop: make(chan struct{})}
	if p.track, err = webrtc.NewTrackLocalStaticSample(cp, "audio", "app"); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(p.track); err != nil {
		t.Fatal(err)
	}
	if events {
		if p.dc, err = pc.CreateDataChannel("events", nil); err != nil {
			t.Fatal(err)
		}
		p.dc.OnMessage(func(msg webrtc.DataChannelMessage) {
			var ev map[string]any
			if json.Unmarshal(msg.Data, &ev) == nil {
				select {
				case p.events <- ev:
				default:
				}
			}
		})
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		dec, err := opus.NewDecoder(48000, 1)
		if err != nil {
			return
		}
		pcm := make([]int16, 5760)
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			n, err := dec.Decode(pkt.Payload, pcm)
			if err != nil {
				continue
			}
			p.mu.Lock()
			p.recv = append(p.recv, pcm[:n]...)
			p.mu.Unlock()
		}
	})
	p.wg.Add(1)
	go p.send()
	t.Cleanup(p.close)
	return p
}

// send paces 20 ms Opus frames: the tone set with tone, else silence.
func (p *peer) send() {
	defer p.wg.Done()
	if err := rtcclient.SendTone(p.track, p.stop, func() float64 { return math.Float64frombits(p.hz.Load()) }); err != nil {
		p.t.Error(err)
	}
}

func (p *peer) tone(hz float64) { p.hz.Store(math.Float64bits(hz)) }

// offer is a complete offer (candidates gathered).
func (p *peer) offer() string {
	p.t.Helper()
	gathered := webrtc.GatheringCompletePromise(p.pc)
	o, err := p.pc.CreateOffer(nil)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := p.pc.SetLocalDescription(o); err != nil {
		p.t.Fatal(err)
	}
	<-gathered
	return p.pc.LocalDescription().SDP
}

// dial posts the offer to url with a bearer token and applies the answer.
func (p *peer) dial(url, bearer string) (location string) {
	p.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(p.offer()))
	req.Header.Set("Content-Type", "application/sdp")
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		p.t.Fatalf("POST %s: %s %s", url, resp.Status, body)
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)}); err != nil {
		p.t.Fatal(err)
	}
	return resp.Header.Get("Location")
}

// mark is the number of samples received so far.
func (p *peer) mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.recv)
}

func (p *peer) since(mark int) []int16 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int16(nil), p.recv[min(mark, len(p.recv)):]...)
}

func (p *peer) waitEvent(typ string, d time.Duration) map[string]any {
	p.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev := <-p.events:
			if ev["type"] == typ {
				return ev
			}
		case <-deadline:
			p.t.Fatalf("no %q event within %v", typ, d)
			return nil
		}
	}
}

func (p *peer) close() {
	p.once.Do(func() { close(p.stop) })
	p.wg.Wait()
	_ = p.pc.GracefulClose()
}

// zeroHz estimates a tone's frequency from zero crossings (48 kHz).
func zeroHz(s []int16) float64 {
	if len(s) < 2 {
		return 0
	}
	n := 0
	for i := 1; i < len(s); i++ {
		if (s[i-1] < 0) != (s[i] < 0) {
			n++
		}
	}
	return float64(n) / 2 / (float64(len(s)) / 48000)
}

func rms(s []int16) float64 {
	if len(s) == 0 {
		return 0
	}
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(s)))
}

// toneWindows counts 100 ms windows of s (48 kHz) whose energy is mostly
// (over 60 %) at one of hzs: a tone, not speech or noise.
func toneWindows(s []int16, hzs ...float64) int {
	const w = 4800
	n := 0
	for i := 0; i+w <= len(s); i += w {
		win := s[i : i+w]
		var total float64
		for _, v := range win {
			total += float64(v) * float64(v)
		}
		if total/w < 200*200 {
			continue
		}
		for _, hz := range hzs {
			// Goertzel: the share of the window's energy at hz.
			k := 2 * math.Cos(2*math.Pi*hz/48000)
			var s1, s2 float64
			for _, v := range win {
				s1, s2 = float64(v)+k*s1-s2, s1
			}
			p := s1*s1 + s2*s2 - k*s1*s2
			if 2*p/(w*total) > 0.6 {
				n++
				break
			}
		}
	}
	return n
}

func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBridgeEndToEnd runs the real server in-process with the queues open
// around the clock: an in-app caller (a pion peer: call token, WHIP
// offer, Opus, events data channel) presses 0, gets the handoff event with
// the wait and hears the hold tone; the agent (bearer login, desk feed,
// ready) accepts the offer and joins with a second pion peer through POST
// /api/v1/handoffs/:id/media; tones cross both ways; the agent hangs up,
// the caller hears the goodbye and the call ends; the call record says
// bridged with the agent's segment; no goroutine is left behind.
func TestBridgeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("real server, espeak and pion peers: skipped with -short")
	}
	before := runtime.NumGoroutine()
	t.Run("call", func(t *testing.T) {
		const secret = "webhook-secret-0123456789"
		hookURL, _ := webhookReceiver(t, secret)
		dataDir := t.TempDir()
		cfgPath := deskConfig(t, hookURL, secret)
		addUser(t, cfgPath, dataDir, "anna", "agent")
		base, logs := startServe(t, "--config", cfgPath, "--data", dataDir)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf(format+"\nserver log:\n%s", append(args, logs)...)
		}
		anonymous := apiClient{t: t, base: base}
		var l struct{ Token string }
		if code := anonymous.do("POST", "/auth/login", map[string]any{"username": "anna", "password": deskPassword, "bearer": true}, &l); code != 200 {
			t.Fatalf("login: %d", code)
		}
		anna := apiClient{t: t, base: base, token: l.Token}

		// The agent's desk feed (her presence), then ready.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/v1/desk/ws",
			&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + l.Token}}})
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		offers := make(chan string, 8)
		go func() {
			for {
				var ev struct {
					Type    string `json:"type"`
					Handoff *struct {
						ID      string `json:"id"`
						Channel string `json:"channel"`
					} `json:"handoff"`
				}
				if err := wsjson.Read(ctx, ws, &ev); err != nil {
					return
				}
				if ev.Type == "offer" && ev.Handoff != nil {
					offers <- ev.Handoff.ID + " " + ev.Handoff.Channel
				}
			}
		}()
		// Connected but away: the caller is told the wait for busy operators.
		eventually(t, 5*time.Second, "anna's feed", func() bool {
			return anna.do("PUT", "/agents/me/state", map[string]any{"state": "away"}, nil) == http.StatusOK
		})

		// The caller.
		var tok struct {
			Token  string `json:"token"`
			CallID string `json:"call_id"`
		}
		if resp, body := post(t, base+"/api/v1/calls/token", "", "", ""); resp.StatusCode != http.StatusCreated ||
			json.Unmarshal([]byte(body), &tok) != nil || tok.Token == "" {
			t.Fatalf("call token: %s %s", resp.Status, body)
		}
		caller := newPeer(t, true)
		opened := make(chan struct{})
		caller.dc.OnOpen(func() { close(opened) })
		caller.dial(base+"/api/v1/calls", tok.Token)
		select {
		case <-opened:
		case <-time.After(15 * time.Second):
			fail("the events channel did not open")
		}
		caller.waitEvent("reply", 30*time.Second) // the greeting
		if err := caller.dc.SendText(`{"type":"dtmf","digit":"0"}`); err != nil {
			t.Fatal(err)
		}
		ho := caller.waitEvent("handoff", 30*time.Second)
		t.Logf("handoff event: %v", ho)
		if ho["queue"] == nil || ho["queue"] == "" {
			t.Errorf("handoff event without the queue: %v", ho)
		}
		if w, _ := ho["estimated_wait_seconds"].(float64); w <= 0 {
			t.Errorf("handoff event without the estimated wait: %v", ho)
		}
		holdMark := caller.mark()
		// The hold tone: C5 E5 G5 played to the caller.
		eventually(t, 30*time.Second, "the hold tone at the caller", func() bool {
			return toneWindows(caller.since(holdMark), 523.25, 659.25, 783.99) >= 5
		})
		t.Logf("hold tone heard: %d tone windows, rms %.0f", toneWindows(caller.since(holdMark), 523.25, 659.25, 783.99), rms(caller.since(holdMark)))
		if code := anna.do("PUT", "/agents/me/state", map[string]any{"state": "ready"}, nil); code != http.StatusOK {
			fail("ready: %d", code)
		}

		// The offer reaches anna's desk feed.
		var handoffID string
		select {
		case o := <-offers:
			handoffID, _, _ = strings.Cut(o, " ")
			if !strings.HasSuffix(o, " voice") {
				t.Errorf("offer %q: want a voice handoff", o)
			}
		case <-time.After(20 * time.Second):
			fail("no offer on the desk feed")
		}
		if code := anna.do("POST", "/handoffs/"+handoffID+"/accept", nil, nil); code != http.StatusOK {
			fail("accept: %d", code)
		}
		agent := newPeer(t, false)
		agent.tone(440)
		leg := agent.dial(base+"/api/v1/handoffs/"+handoffID+"/media", l.Token)
		if !strings.HasPrefix(leg, "/api/v1/handoffs/"+handoffID+"/media/") {
			t.Errorf("agent leg location %q", leg)
		}
		ag := caller.waitEvent("agent", 15*time.Second)
		if ag["text"] != "anna" {
			t.Errorf("agent event %v", ag)
		}
		caller.tone(1000)
		bridged := caller.mark()
		agentMark := agent.mark()
		eventually(t, 15*time.Second, "the agent's 440 Hz at the caller", func() bool {
			return toneWindows(caller.since(bridged), 440) >= 5
		})
		eventually(t, 15*time.Second, "the caller's 1 kHz at the agent", func() bool {
			return toneWindows(agent.since(agentMark), 1000) >= 5
		})
		t.Logf("bridged: caller got %d windows of 440 Hz, agent %d windows of 1 kHz",
			toneWindows(caller.since(bridged), 440), toneWindows(agent.since(agentMark), 1000))

		// The agent hangs up.
		agent.tone(0)
		caller.tone(0)
		req, _ := http.NewRequest(http.MethodDelete, base+leg, nil)
		req.Header.Set("Authorization", "Bearer "+l.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			fail("agent hang-up: %s", resp.Status)
		}
		hungUp := caller.mark()
		end := caller.waitEvent("end", 30*time.Second)
		goodbye := caller.since(hungUp)
		t.Logf("end event %v; goodbye: %.1f s of audio, rms %.0f", end, float64(len(goodbye))/48000, rms(goodbye))
		if len(goodbye) < 48000 || rms(goodbye) < 100 {
			t.Errorf("the caller heard no goodbye after the agent hung up: %d samples, rms %.0f", len(goodbye), rms(goodbye))
		}

		var rec calls.Call
		eventually(t, 10*time.Second, "the call record", func() bool {
			rec = calls.Call{}
			return anna.do("GET", "/calls/"+tok.CallID, nil, &rec) == http.StatusOK && rec.EndedAt != nil
		})
		if rec.Reason != calls.OutcomeBridged || rec.Handoff == nil || rec.Handoff.Outcome != calls.OutcomeBridged ||
			rec.Handoff.Agent == nil || rec.Handoff.Agent.Agent != "anna" || rec.Handoff.Agent.EndedBy != "agent" ||
			rec.Handoff.Agent.EndedAt == nil {
			b, _ := json.Marshal(rec)
			t.Errorf("call record: %s", b)
		}
		caller.close()
		agent.close()
		ws.Close(websocket.StatusNormalClosure, "")
		cancel()
	})
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(15 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(100 * time.Millisecond)
	}
}
