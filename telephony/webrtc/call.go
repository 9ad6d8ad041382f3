package webrtc

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/hotline-ivr/hotline/audio"
	tmedia "github.com/hotline-ivr/hotline/telephony/media"
)

// Digit is a DTMF-like choice from the app (a button in the call UI),
// the same type SIP calls deliver, so one pipeline serves both.
type Digit = tmedia.Digit

// CallHandler runs one call. The handler is the call's scope: when it
// returns, the PeerConnection is closed and everything the call started is
// stopped and waited for. ctx is cancelled, with a cause (ErrHangup,
// ErrICEFailed, ...), when the call ends from the outside.
type CallHandler interface {
	HandleCall(ctx context.Context, c *Call) error
}

// HandlerFunc adapts a function to CallHandler.
type HandlerFunc func(ctx context.Context, c *Call) error

func (f HandlerFunc) HandleCall(ctx context.Context, c *Call) error { return f(ctx, c) }

// Stats are a call's media counters.
type Stats struct {
	PacketsIn, PacketsLost, FramesDropped int64
	FramesSilent                          int64 // ReadFrame timed out on the network
	FramesOut, FramesCleared              int64
	EventsIn, EventsDropped               int64
}

// Call is one in-app call. Its methods are safe for concurrent use, but
// audio should be read by one goroutine and written by one.
type Call struct {
	// ID is the single-use call id from the token (also the resource id).
	ID string
	// Subject is the user or app the token was issued to.
	Subject string

	srv    *Server
	h      CallHandler // a leg started by Accept runs its own handler
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelCauseFunc
	pc     *webrtc.PeerConnection
	track  *webrtc.TrackLocalStaticSample
	codec  *voiceCodec
	start  time.Time

	in        chan audio.Frame // decoded caller audio, 20 ms each
	out       chan audio.Frame // playback queue at codec rate, 20 ms each
	dtmf      chan Digit
	text      chan string
	connected chan struct{}
	released  chan struct{} // closed once torn down and unregistered
	connOnce  sync.Once
	gotTrack  atomic.Bool

	wmu     sync.Mutex // WriteFrame state
	pending []int16
	rs      *audio.Resampler

	emu     sync.Mutex // events data channel
	dc      *webrtc.DataChannel
	dcOpen  bool
	dcDead  bool
	backlog [][]byte

	lmu     sync.Mutex // inbound rate limit; separate from emu so pion's
	limiter bucket     // read loop never waits behind a SendEvent

	gmu     sync.Mutex // goroutine ownership
	closing bool
	wg      sync.WaitGroup

	packetsIn, packetsLost, framesDropped atomic.Int64
	framesSilent                          atomic.Int64
	framesOut, framesCleared              atomic.Int64
	eventsIn, eventsDropped               atomic.Int64
}

// Codec is the negotiated codec: "opus" or "PCMU".
func (c *Call) Codec() string { return c.codec.name }

// SampleRate is the rate of ReadFrame's frames and the rate WriteFrame
// plays at (48000 for Opus, 8000 for PCMU). WriteFrame resamples other
// rates; speech recognition resamples ReadFrame's output at its edge.
func (c *Call) SampleRate() int { return c.codec.rate }

// Logger is the call's logger, with call_id.
func (c *Call) Logger() *slog.Logger { return c.log }

// Done is closed when the call is over.
func (c *Call) Done() <-chan struct{} { return c.ctx.Done() }

// Err is why the call ended (nil while it lasts).
func (c *Call) Err() error { return context.Cause(c.ctx) }

// Connected is closed once ICE and DTLS are up and media can flow.
func (c *Call) Connected() <-chan struct{} { return c.connected }

// Hangup ends the call from the server side.
func (c *Call) Hangup() { c.cancel(ErrHangup) }

// DTMF delivers choices the app sends as {"type":"dtmf","digit":"1"}.
func (c *Call) DTMF() <-chan Digit { return c.dtmf }

// Text delivers what the user typed ({"type":"text","text":"..."}).
func (c *Call) Text() <-chan string { return c.text }

// Stats returns the call's counters.
func (c *Call) Stats() Stats {
	return Stats{
		PacketsIn: c.packetsIn.Load(), PacketsLost: c.packetsLost.Load(), FramesDropped: c.framesDropped.Load(), FramesSilent: c.framesSilent.Load(),
		FramesOut: c.framesOut.Load(), FramesCleared: c.framesCleared.Load(),
		EventsIn: c.eventsIn.Load(), EventsDropped: c.eventsDropped.Load(),
	}
}

// maxLag is how many decoded frames may wait for ReadFrame before the
// oldest are dropped: latency the bot would otherwise carry for the rest
// of the call after a stall.
const maxLag = 10

// readTimeout is how long ReadFrame waits for the network before it
// returns silence: a pipeline must keep its 20 ms pace (VAD endpointing,
// its own shutdown) even when the app's packets stall.
const readTimeout = 3 * audio.FrameDuration

// ReadFrame returns the caller's next 20 ms of audio at SampleRate. Lost
// packets are concealed; when nothing arrives for 60 ms a frame of
// silence is returned instead. It returns ErrCallEnded once the call is
// over.
func (c *Call) ReadFrame() (audio.Frame, error) {
	// Frames still queued when the call ends are not the caller's any
	// more: select would hand them out at random before the end.
	if c.ctx.Err() != nil {
		return audio.Frame{}, ErrCallEnded
	}
	t := time.NewTimer(readTimeout)
	defer t.Stop()
	select {
	case f := <-c.in:
		for len(c.in) > maxLag {
			select {
			case f = <-c.in:
				c.framesDropped.Add(1)
			default:
			}
		}
		return f, nil
	case <-t.C:
		c.framesSilent.Add(1)
		return audio.Frame{Rate: c.codec.rate, Samples: make([]int16, audio.SamplesPerFrame(c.codec.rate))}, nil
	case <-c.ctx.Done():
		return audio.Frame{}, ErrCallEnded
	}
}

// WriteFrame queues audio for the caller. Any rate the resampler knows is
// accepted. It blocks while the playback buffer is full, so a writer runs
// at most a few frames ahead of real time and ClearPlayback stops speech
// promptly.
func (c *Call) WriteFrame(f audio.Frame) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.ctx.Err() != nil {
		return ErrCallEnded
	}
	samples := f.Samples
	if f.Rate != c.codec.rate {
		if c.rs == nil || c.rs.From() != f.Rate {
			rs, err := audio.NewResampler(f.Rate, c.codec.rate)
			if err != nil {
				return err
			}
			c.rs = rs
		}
		samples = c.rs.Process(samples)
	}
	c.pending = append(c.pending, samples...)
	n := audio.SamplesPerFrame(c.codec.rate)
	for len(c.pending) >= n {
		fr := audio.Frame{Rate: c.codec.rate, Samples: append([]int16(nil), c.pending[:n]...)}
		c.pending = c.pending[n:]
		select {
		case c.out <- fr:
		case <-c.ctx.Done():
			return ErrCallEnded
		}
	}
	return nil
}

// Flush pads and queues a partial last frame, so the end of a reply is
// played without waiting for more audio.
func (c *Call) Flush() error {
	c.wmu.Lock()
	k := len(c.pending)
	c.wmu.Unlock()
	if k == 0 {
		return nil
	}
	n := audio.SamplesPerFrame(c.codec.rate)
	return c.WriteFrame(audio.Frame{Rate: c.codec.rate, Samples: make([]int16, n-k)})
}

// ClearPlayback drops queued audio (barge-in) and returns how many frames
// were dropped. A WriteFrame blocked at that moment may still queue one.
func (c *Call) ClearPlayback() int {
	n := 0
	for {
		select {
		case <-c.out:
			n++
		default:
			c.framesCleared.Add(int64(n))
			return n
		}
	}
}

// Queued is the number of frames waiting to be played.
func (c *Call) Queued() int { return len(c.out) }

// Event is a message on the "events" data channel. Outbound types:
// partial, final (transcripts), reply (bot text), handoff (State), appeal
// (Number), end. Inbound types: text (Text), dtmf (Digit).
type Event struct {
	Type   string `json:"type"`
	Text   string `json:"text,omitempty"`
	Digit  string `json:"digit,omitempty"`
	Lang   string `json:"lang,omitempty"`
	State  string `json:"state,omitempty"`
	Number string `json:"number,omitempty"`
}

// maxBacklog bounds events queued before the app opened the channel.
const maxBacklog = 64

// maxBuffered is how much unsent event data is tolerated before SendEvent
// refuses: a peer that stopped reading must not grow our memory.
const maxBuffered = 1 << 20

// SendEvent sends v (an Event or any JSON value) to the app. Events sent
// before the app's data channel opens are held (up to a limit).
func (c *Call) SendEvent(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.emu.Lock()
	defer c.emu.Unlock()
	switch {
	case c.ctx.Err() != nil:
		return ErrCallEnded
	case c.dcDead:
		return ErrEventsClosed
	case !c.dcOpen:
		if len(c.backlog) >= maxBacklog {
			return ErrEventsBackpressure
		}
		c.backlog = append(c.backlog, b)
		return nil
	case c.dc.BufferedAmount() > maxBuffered:
		return ErrEventsBackpressure
	}
	return c.dc.SendText(string(b))
}

// spawn runs fn as a goroutine owned by the call, unless the call is
// already being torn down (pion callbacks can arrive late).
func (c *Call) spawn(fn func()) bool {
	c.gmu.Lock()
	defer c.gmu.Unlock()
	if c.closing {
		return false
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		fn()
	}()
	return true
}

// teardown closes the PeerConnection and waits for every goroutine.
func (c *Call) teardown() {
	c.gmu.Lock()
	c.closing = true
	c.gmu.Unlock()
	c.drainEvents(time.Second)
	if err := c.pc.GracefulClose(); err != nil {
		c.log.Debug("close peer connection", "err", err)
	}
	c.wg.Wait()
	_ = c.codec.close()
}

// drainEvents gives events already queued on the data channel (the last is
// usually "end") up to d to leave before the connection closes: closing at
// once can drop them under load, and the app would never learn how the call
// ended.
func (c *Call) drainEvents(d time.Duration) {
	c.emu.Lock()
	dc, open := c.dc, c.dcOpen && !c.dcDead
	c.emu.Unlock()
	if !open || dc == nil {
		return
	}
	for deadline := time.Now().Add(d); dc.BufferedAmount() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
}

func (c *Call) setConnected() { c.connOnce.Do(func() { close(c.connected) }) }

// onState ends the call when connectivity is gone for good. Disconnected
// is not final (a Wi-Fi hiccup); ICE turns it into failed after the
// configured timeout.
func (c *Call) onState(st webrtc.PeerConnectionState) {
	c.log.Debug("peer connection state", "state", st.String())
	switch st {
	case webrtc.PeerConnectionStateConnected:
		c.setConnected()
	case webrtc.PeerConnectionStateFailed:
		c.cancel(ErrICEFailed)
	case webrtc.PeerConnectionStateClosed:
		c.cancel(ErrPeerClosed)
	}
}

// watchConnect ends a call whose peer never connects.
func (c *Call) watchConnect(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.connected:
	case <-c.ctx.Done():
	case <-t.C:
		c.cancel(ErrConnectTimeout)
	}
}

// receive decodes the caller's track into 20 ms frames. Packets that
// arrive late or twice are dropped; short gaps are concealed so the
// frames keep real-time length for VAD and ASR.
func (c *Call) receive(tr *webrtc.TrackRemote) {
	const maxConceal = 10 // 200 ms; longer gaps are silence, not loss
	n := audio.SamplesPerFrame(c.codec.rate)
	var last uint16
	first := true
	var pkt rtp.Packet
	buf := make([]byte, 1500)
	for {
		k, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		if pkt.Unmarshal(buf[:k]) != nil {
			continue
		}
		c.packetsIn.Add(1)
		if !first {
			d := int16(pkt.SequenceNumber - last)
			if d <= 0 {
				continue
			}
			if d > 1 {
				c.packetsLost.Add(int64(d - 1))
				for range min(int(d-1), maxConceal) {
					c.deliver(c.codec.conceal(), n)
				}
			}
		}
		first, last = false, pkt.SequenceNumber
		pcm, err := c.codec.decode(pkt.Payload)
		if err != nil {
			pcm = c.codec.conceal()
		}
		c.deliver(pcm, n)
	}
}

// deliver splits pcm into 20 ms frames; when the reader is behind, new
// frames are dropped rather than blocking the network reader.
func (c *Call) deliver(pcm []int16, n int) {
	for len(pcm) > 0 {
		k := min(n, len(pcm))
		f := audio.Frame{Rate: c.codec.rate, Samples: append([]int16(nil), pcm[:k]...)}
		pcm = pcm[k:]
		select {
		case c.in <- f:
		default:
			c.framesDropped.Add(1)
		}
	}
}

// play sends one encoded frame per 20 ms once connected; silence when
// nothing is queued, so the RTP clock keeps pace with real time and the
// browser's jitter buffer stays calm.
func (c *Call) play() {
	select {
	case <-c.connected:
	case <-c.ctx.Done():
		return
	}
	silence := audio.Frame{Rate: c.codec.rate, Samples: make([]int16, audio.SamplesPerFrame(c.codec.rate))}
	var payload []byte
	t := time.NewTicker(audio.FrameDuration)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		f := silence
		select {
		case f = <-c.out:
			c.framesOut.Add(1)
		default:
		}
		payload = c.codec.encode(payload[:0], f)
		if err := c.track.WriteSample(media.Sample{Data: payload, Duration: audio.FrameDuration}); err != nil &&
			!errors.Is(err, context.Canceled) {
			c.log.Debug("write sample", "err", err)
		}
	}
}

// drainRTCP reads the sender's RTCP so interceptors (reports, NACK) run.
func drainRTCP(s *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := s.Read(buf); err != nil {
			return
		}
	}
}
