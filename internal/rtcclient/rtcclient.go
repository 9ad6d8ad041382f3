// Package rtcclient is an app-side WebRTC caller for benchmarks and load:
// a pion PeerConnection with one Opus track and the "events" data channel
// that places a call through the WHIP-style routes of telephony/webrtc
// (POST /calls/token, POST /calls, PATCH /calls/:id, DELETE /calls/:id).
//
// It paces Opus packets at 20 ms (silence when nothing is queued, as a
// browser does) and keeps a timeline of what it sent and received in the
// form internal/sipload measures, so voice-to-voice and stream loss are
// computed by the same code as for SIP calls.
package rtcclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"gopkg.in/hraban/opus.v2"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/internal/sipload"
)

// Frame is one encoded 20 ms Opus packet and whether its audio was at
// speech level (sipload.SpeechDBFS).
type Frame struct {
	Payload []byte
	Speech  bool
}

// Encode encodes 48 kHz mono PCM into 20 ms Opus frames (the last one
// zero-padded) with one encoder, as a browser would send it.
func Encode(pcm []int16) ([]Frame, error) {
	enc, err := opus.NewEncoder(audio.Rate48k, 1, opus.AppVoIP)
	if err != nil {
		return nil, err
	}
	_ = enc.SetBitrate(32000)
	n := audio.SamplesPerFrame(audio.Rate48k)
	buf := make([]byte, 1500)
	var out []Frame
	for i := 0; i < len(pcm); i += n {
		f := make([]int16, n)
		copy(f, pcm[i:min(i+n, len(pcm))])
		k, err := enc.Encode(f, buf)
		if err != nil {
			return nil, err
		}
		out = append(out, Frame{Payload: append([]byte(nil), buf[:k]...), Speech: audio.RMSdBFS(f) >= sipload.SpeechDBFS})
	}
	return out, nil
}

// Options configure a Peer.
type Options struct {
	// Base is the API root, e.g. http://127.0.0.1:8080/api/v1.
	Base string
	// Header is added to the token request (the caller's authentication).
	Header http.Header
	// Decode decodes received Opus to classify speech frames (needed for
	// voice-to-voice; loss and lateness need no decoding).
	Decode bool
	// HTTP is the client for the signalling (http.DefaultClient if nil).
	HTTP *http.Client
}

// Timing is one call's set-up as the app saw it. Offered is when the
// offer POST was sent; the others are durations from it (0: not seen).
type Timing struct {
	Offered     time.Time
	Answer      time.Duration // 201 with the SDP answer received
	Connected   time.Duration // ICE and DTLS up (PeerConnection connected)
	FirstPacket time.Duration // first RTP packet from the server arrived
	FirstSpeech time.Duration // first speech-level frame arrived (the greeting)
}

// Peer is one call.
type Peer struct {
	opts  Options
	pc    *webrtc.PeerConnection
	track *webrtc.TrackLocalStaticSample
	dc    *webrtc.DataChannel

	dcOpen    chan struct{}
	connected chan struct{}
	connOnce  sync.Once
	stop      chan struct{}
	stopOnce  sync.Once
	wg        sync.WaitGroup
	loc, tok  string
	silence   Frame

	mu     sync.Mutex
	queue  []Frame
	loop   []Frame
	loopAt int
	sent   []sipload.Sent
	recv   []sipload.Received
	timing Timing

	lastSpeech atomic.Int64 // unix ns of the last speech frame received
}

// Dial places a call: token, offer, answer, trickled candidates. It
// returns once the answer is applied; Connected reports ICE/DTLS.
func Dial(ctx context.Context, opts Options) (*Peer, error) {
	if opts.HTTP == nil {
		opts.HTTP = http.DefaultClient
	}
	silence, err := Encode(make([]int16, audio.SamplesPerFrame(audio.Rate48k)))
	if err != nil {
		return nil, err
	}
	p := &Peer{opts: opts, dcOpen: make(chan struct{}), connected: make(chan struct{}), stop: make(chan struct{}), silence: silence[0]}
	if err := p.setup(); err != nil {
		return nil, err
	}
	if err := p.dial(ctx); err != nil {
		_ = p.pc.Close()
		return nil, err
	}
	p.wg.Add(1)
	go p.send()
	return p, nil
}

func (p *Peer) setup() error {
	var m webrtc.MediaEngine
	cp := webrtc.RTPCodecParameters{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}}
	if err := m.RegisterCodec(cp, webrtc.RTPCodecTypeAudio); err != nil {
		return err
	}
	var ir interceptor.Registry
	if err := webrtc.RegisterDefaultInterceptors(&m, &ir); err != nil {
		return err
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(n string) bool { return n == "lo" })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(&m), webrtc.WithInterceptorRegistry(&ir), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	p.pc = pc
	if p.track, err = webrtc.NewTrackLocalStaticSample(cp.RTPCodecCapability, "audio", "app"); err != nil {
		return err
	}
	if _, err := pc.AddTrack(p.track); err != nil {
		return err
	}
	if p.dc, err = pc.CreateDataChannel("events", nil); err != nil {
		return err
	}
	p.dc.OnOpen(func() { close(p.dcOpen) })
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			p.connOnce.Do(func() {
				p.mu.Lock()
				p.timing.Connected = time.Since(p.timing.Offered)
				p.mu.Unlock()
				close(p.connected)
			})
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { p.receive(tr) })
	return nil
}

func (p *Peer) do(ctx context.Context, method, url, ctype, token string, body []byte, hdr http.Header) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := p.opts.HTTP.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func (p *Peer) dial(ctx context.Context) error {
	resp, body, err := p.do(ctx, "POST", p.opts.Base+"/calls/token", "", "", nil, p.opts.Header)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("rtcclient: token: %s %s", resp.Status, body)
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil {
		return err
	}
	p.tok = tok.Token
	gathered := webrtc.GatheringCompletePromise(p.pc)
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	if err := p.pc.SetLocalDescription(offer); err != nil {
		return err
	}
	p.mu.Lock()
	p.timing.Offered = time.Now()
	p.mu.Unlock()
	resp, body, err = p.do(ctx, "POST", p.opts.Base+"/calls", "application/sdp", p.tok, []byte(offer.SDP), nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("rtcclient: offer: %s %s", resp.Status, body)
	}
	p.mu.Lock()
	p.timing.Answer = time.Since(p.timing.Offered)
	p.mu.Unlock()
	p.loc = resp.Header.Get("Location")
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)}); err != nil {
		return err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return ctx.Err()
	}
	var frag strings.Builder
	for _, line := range strings.Split(p.pc.LocalDescription().SDP, "\r\n") {
		if strings.HasPrefix(line, "a=mid:") || strings.HasPrefix(line, "a=candidate:") {
			frag.WriteString(line + "\r\n")
		}
	}
	frag.WriteString("a=end-of-candidates\r\n")
	resp, body, err = p.do(ctx, "PATCH", p.origin()+p.loc, "application/trickle-ice-sdpfrag", p.tok, []byte(frag.String()), nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("rtcclient: candidates: %s %s", resp.Status, body)
	}
	return nil
}

// origin is scheme://host of Base (Location is an absolute path).
func (p *Peer) origin() string {
	s := p.opts.Base
	if i := strings.Index(s, "://"); i >= 0 {
		if j := strings.Index(s[i+3:], "/"); j >= 0 {
			return s[:i+3+j]
		}
	}
	return s
}

// Connected is closed once ICE and DTLS are up.
func (p *Peer) Connected() <-chan struct{} { return p.connected }

// WaitDataChannel waits until the events channel is open.
func (p *Peer) WaitDataChannel(ctx context.Context) error {
	select {
	case <-p.dcOpen:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Key sends a choice as the call UI does: {"type":"dtmf","digit":d}.
func (p *Peer) Key(d string) error {
	b, _ := json.Marshal(map[string]string{"type": "dtmf", "digit": d})
	return p.dc.SendText(string(b))
}

// Play queues frames after what is queued; SentCount before the call
// marks where they start in the sent timeline.
func (p *Peer) Play(fs []Frame) {
	p.mu.Lock()
	p.queue = append(p.queue, fs...)
	p.mu.Unlock()
}

// Loop makes the caller talk fs in a loop whenever nothing is queued.
func (p *Peer) Loop(fs []Frame, offset int) {
	p.mu.Lock()
	p.loop, p.loopAt = fs, offset%max(len(fs), 1)
	p.mu.Unlock()
}

// Queued is the number of frames not yet sent.
func (p *Peer) Queued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queue)
}

// SentCount is the number of packets sent so far.
func (p *Peer) SentCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sent)
}

// LastSpeech is when the last speech-level frame arrived (zero: none;
// only with Options.Decode).
func (p *Peer) LastSpeech() time.Time {
	if ns := p.lastSpeech.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// send paces one packet per 20 ms from connection on, as a browser does.
func (p *Peer) send() {
	defer p.wg.Done()
	select {
	case <-p.connected:
	case <-p.stop:
		return
	}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		p.mu.Lock()
		f := p.silence
		switch {
		case len(p.queue) > 0:
			f, p.queue = p.queue[0], p.queue[1:]
		case len(p.loop) > 0:
			f = p.loop[p.loopAt]
			p.loopAt = (p.loopAt + 1) % len(p.loop)
		}
		p.sent = append(p.sent, sipload.Sent{At: time.Now(), Speech: f.Speech})
		p.mu.Unlock()
		_ = p.track.WriteSample(media.Sample{Data: f.Payload, Duration: 20 * time.Millisecond})
	}
}

func (p *Peer) receive(tr *webrtc.TrackRemote) {
	var dec *opus.Decoder
	if p.opts.Decode {
		dec, _ = opus.NewDecoder(audio.Rate48k, 1)
	}
	pcm := make([]int16, 5760)
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		r := sipload.Received{At: time.Now(), Seq: pkt.SequenceNumber, Audio: true}
		if dec != nil {
			if n, err := dec.Decode(pkt.Payload, pcm); err == nil {
				r.Speech = audio.RMSdBFS(pcm[:n]) >= sipload.SpeechDBFS
			}
		}
		p.mu.Lock()
		if p.timing.FirstPacket == 0 {
			p.timing.FirstPacket = r.At.Sub(p.timing.Offered)
		}
		if r.Speech {
			if p.timing.FirstSpeech == 0 {
				p.timing.FirstSpeech = r.At.Sub(p.timing.Offered)
			}
			p.lastSpeech.Store(r.At.UnixNano())
		}
		p.recv = append(p.recv, r)
		p.mu.Unlock()
	}
}

// Timing returns the set-up times seen so far.
func (p *Peer) Timing() Timing {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.timing
}

// Timeline returns copies of the sent and received packet timelines.
func (p *Peer) Timeline() ([]sipload.Sent, []sipload.Received) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]sipload.Sent(nil), p.sent...), append([]sipload.Received(nil), p.recv...)
}

// Hangup deletes the call on the server (when ctx allows) and closes the
// peer. It is safe to call more than once.
func (p *Peer) Hangup(ctx context.Context) error {
	p.stopOnce.Do(func() { close(p.stop) })
	p.wg.Wait()
	var err error
	if p.loc != "" {
		resp, body, derr := p.do(ctx, "DELETE", p.origin()+p.loc, "", p.tok, nil, nil)
		switch {
		case derr != nil:
			err = derr
		case resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusGone:
			err = fmt.Errorf("rtcclient: hang-up: %s %s", resp.Status, body)
		}
		p.loc = ""
	}
	return errors.Join(err, p.pc.Close())
}
