// Package media runs the RTP side of one call: a socket pair from a port
// range, a jitter buffer that turns the caller's packets into a regular
// 20 ms frame stream, a paced sender for the bot's audio, RFC 4733 DTMF both
// ways and RTCP sender/receiver reports. Packets are pion/rtp and pion/rtcp;
// nothing of them leaks out of this package: callers see audio.Frame and
// Digit.
//
// Every session has two goroutines of its own: the RTP reader (socket →
// jitter buffer, DTMF) and the RTCP reader. Its 20 ms work runs on a pacer
// shared by many sessions (a couple of loops per CPU, see pacer.go): the
// sender (WriteFrame queue → encoder → socket, DTMF events, RTCP reports
// every few seconds) and the playout (jitter buffer → decoder →
// ReadFrame). While nothing is queued the sender replays a recording of
// the encoder's own silence instead of encoding it. Close takes the
// session off its pacer and stops and waits for the readers.
//
// SRTP (RFC 3711) is optional per session (Config.SRTP, keys from SDES
// a=crypto lines, see srtp.go): packets are decrypted right after the
// socket read, before anything else looks at them (so a forged packet
// cannot move the symmetric-RTP latch), and encrypted right before the
// write. Packets that fail authentication are dropped and counted.
package media

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/telephony/codec"
)

// Direction is the media direction from our side (SDP a=sendrecv etc.).
type Direction string

const (
	SendRecv Direction = "sendrecv"
	SendOnly Direction = "sendonly"
	RecvOnly Direction = "recvonly"
	Inactive Direction = "inactive"
)

// Sends reports whether we transmit audio in this direction.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly || d == "" }

// Receives reports whether the peer is expected to send us audio.
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly || d == "" }

// Config describes one session. Codec and the two sockets are required;
// the session owns them from NewSession on and closes them in Close.
type Config struct {
	Codec           codec.Codec
	DTMFPayloadType uint8 // 0: telephone-event was not negotiated
	RTP, RTCP       *net.UDPConn
	Remote          netip.AddrPort // from the SDP offer; zero: wait for the first packet
	Logger          *slog.Logger
	JitterMin       time.Duration // default 40 ms
	JitterMax       time.Duration // default 120 ms
	RTCPInterval    time.Duration // default 5 s
	CNAME           string
	QueueFrames     int   // WriteFrame queue, default 10 (200 ms)
	SRTP            *SRTP // nil: plain RTP
}

// Stats are counters for one session (RFC 3550 receiver statistics plus
// what the jitter buffer did).
type Stats struct {
	PacketsReceived, PacketsSent uint64
	BytesReceived, BytesSent     uint64
	Lost                         int64 // RFC 3550 cumulative: expected - received
	Late, Duplicate              uint64
	Concealed, Dropped           uint64 // frames concealed (loss/underrun), dropped for drift
	Jitter                       time.Duration
	BufferDepth                  int // packets in the jitter buffer now
	Overflow                     uint64
	DTMFReceived, DTMFSent       uint64
	RemoteFractionLost           float64 // from the peer's last receiver report
	RemoteJitter                 time.Duration
	// SRTPDropped counts packets dropped by SRTP/SRTCP: failed
	// authentication (tampered, wrong key), replays, and packets that
	// are not SRTP at all (a peer's unencrypted keep-alives, garbage).
	SRTPDropped uint64
}

// Session is the media of one call.
//
// Its codec may change mid-call (SetCodec: a re-INVITE re-anchored media
// on another codec) but its PCM rate does not: ReadFrame keeps returning
// frames at the first codec's rate, converted from the new codec's. The
// switch happens on the pacer at a frame boundary. codec is written only
// there, under mu; the pacer reads it without the lock (it is the only
// writer), everyone else under mu.
type Session struct {
	cfg    Config
	log    *slog.Logger
	codec  codec.Codec
	rate   int // PCM rate of ReadFrame: fixed for the life of the session
	ssrc   uint32
	frameN int // samples per 20 ms at rate

	in    chan audio.Frame
	out   chan audio.Frame
	dtmfC chan Digit
	dtmfQ chan Digit

	closeOnce sync.Once
	done      chan struct{}
	wg        sync.WaitGroup

	mu         sync.Mutex // guards the fields below (shared by reader, playout, sender)
	clock      int        // RTP clock rate of codec
	pt         uint8      // payload type of codec: what the reader accepts as audio
	dtmfPT     uint8      // telephone-event payload type, 0: none
	next       *codecSwitch
	remote     netip.AddrPort
	remoteRTCP netip.AddrPort
	latched    bool
	dir        Direction
	jb         *jitterBuffer
	rx         rxStats
	dtmfRx     dtmfReceiver
	st         Stats
	lastSR     uint32    // middle 32 bits of the NTP time in the peer's last SR
	lastSRAt   time.Time // when it arrived

	lastPacket atomic.Int64 // unix nanos of the last RTP packet from the peer

	srtp        atomic.Pointer[srtpState] // nil: plain RTP; replaced on re-keying
	srtpDropped atomic.Uint64
	srtpWarned  atomic.Bool

	pacer *pacer       // drives playout and sending every 20 ms; nil: not paced (tests)
	po    playoutState // owned by the pacer
	tx    txState      // owned by the pacer

	// txRate is the rate WriteFrame converts to: the newest codec's, so
	// audio is resampled once, straight to what the encoder takes.
	txRate atomic.Int32

	wmu      sync.Mutex // guards WriteFrame's resampling state
	pending  []int16
	pendRate int // rate of pending
	resamp   *audio.Resampler
}

// codecSwitch is a SetCodec waiting for the pacer's next frame.
type codecSwitch struct {
	codec  codec.Codec // nil: keep the codec, change only dtmfPT
	dtmfPT uint8
}

// rxStats is RFC 3550 appendix A.1/A.8 bookkeeping.
type rxStats struct {
	init          bool
	ssrc          uint32
	baseSeq       uint32
	maxSeq        uint16
	cycles        uint32
	received      uint32
	expectedPrior uint32
	receivedPrior uint32
	transit       int64
	jitter        float64 // in clock units
}

// NewSession starts the media goroutines.
func NewSession(cfg Config) (*Session, error) { return newSession(cfg, true) }

// newSession with paced false leaves the 20 ms work (tick) to the caller.
func newSession(cfg Config, paced bool) (*Session, error) {
	if cfg.Codec == nil || cfg.RTP == nil || cfg.RTCP == nil {
		return nil, errors.New("media: codec and sockets are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.JitterMin <= 0 {
		cfg.JitterMin = 40 * time.Millisecond
	}
	if cfg.JitterMax < cfg.JitterMin {
		cfg.JitterMax = max(120*time.Millisecond, cfg.JitterMin)
	}
	if cfg.RTCPInterval <= 0 {
		cfg.RTCPInterval = 5 * time.Second
	}
	if cfg.QueueFrames <= 0 {
		cfg.QueueFrames = 10
	}
	if cfg.CNAME == "" {
		cfg.CNAME = "hotline"
	}
	var st *srtpState
	if cfg.SRTP != nil {
		var err error
		if st, err = newSRTPState(*cfg.SRTP, nil); err != nil {
			return nil, err
		}
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	s := &Session{
		cfg:    cfg,
		log:    cfg.Logger,
		codec:  cfg.Codec,
		clock:  cfg.Codec.ClockRate(),
		pt:     cfg.Codec.PayloadType(),
		dtmfPT: cfg.DTMFPayloadType,
		rate:   cfg.Codec.SampleRate(),
		ssrc:   binary.BigEndian.Uint32(b[:]),
		frameN: audio.SamplesPerFrame(cfg.Codec.SampleRate()),
		in:     make(chan audio.Frame, 50),
		out:    make(chan audio.Frame, cfg.QueueFrames),
		dtmfC:  make(chan Digit, 32),
		dtmfQ:  make(chan Digit, 32),
		done:   make(chan struct{}),
		dir:    SendRecv,
		jb: newJitterBuffer(int(cfg.JitterMin/audio.FrameDuration),
			int(cfg.JitterMax/audio.FrameDuration)),
	}
	s.dtmfRx.clock = s.clock
	s.txRate.Store(int32(s.rate))
	s.pendRate = s.rate
	s.srtp.Store(st)
	s.setRemoteLocked(cfg.Remote)
	s.lastPacket.Store(time.Now().UnixNano())
	s.initTx()
	s.wg.Add(2)
	go s.readRTP()
	go s.readRTCP()
	if paced {
		s.pacer = pacerFor()
		s.pacer.add(s)
	}
	return s, nil
}

// LocalPort is the RTP port (RTCP is the next one).
func (s *Session) LocalPort() int { return s.cfg.RTP.LocalAddr().(*net.UDPAddr).Port }

// SampleRate of the frames ReadFrame returns. It stays the first codec's
// when SetCodec changes the codec.
func (s *Session) SampleRate() int { return s.rate }

// Codec is the codec in use (after a SetCodec, once the switch is made).
func (s *Session) Codec() codec.Codec {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.codec
}

// SetCodec switches the media to another codec and telephone-event
// payload type (0: none), as a re-INVITE renegotiated them; c nil keeps
// the codec and changes only the DTMF payload type. The session takes c
// over. The switch is made by the pacer at the next frame boundary (after
// an RFC 4733 event that is playing has ended): payload type, RTP clock,
// timestamp step and DTMF payload type change together, the jitter buffer
// and the silence recording start over, and the old codec is closed.
// ReadFrame's rate does not change: decoded audio is resampled to it.
func (s *Session) SetCodec(c codec.Codec, dtmfPT uint8) error {
	s.mu.Lock()
	select {
	case <-s.done:
		s.mu.Unlock()
		if c != nil {
			c.Close()
		}
		return ErrClosed
	default:
	}
	if c == nil && s.next != nil {
		c, s.next.codec = s.next.codec, nil // a codec still waiting stays
	}
	if s.next != nil && s.next.codec != nil {
		s.next.codec.Close() // replaced before the pacer got to it
	}
	s.next = &codecSwitch{codec: c, dtmfPT: dtmfPT}
	s.mu.Unlock()
	if c != nil {
		s.txRate.Store(int32(c.SampleRate()))
	}
	return nil
}

// switchCodecLocked applies a pending switch to what the reader and the
// counters share (mu held, pacer goroutine). Packets of the old codec still
// in the jitter buffer would be decoded by the new one: they are dropped.
func (s *Session) switchCodecLocked(sw *codecSwitch) (old codec.Codec) {
	s.dtmfPT = sw.dtmfPT
	if sw.codec == nil {
		return nil
	}
	old, s.codec = s.codec, sw.codec
	if clock := sw.codec.ClockRate(); clock != s.clock {
		// Interarrival jitter is kept in clock units; the next transit
		// difference is a jump the jitter update ignores.
		s.rx.jitter = s.rx.jitter * float64(clock) / float64(s.clock)
		s.rx.transit = 0
		s.clock = clock
	}
	s.pt = sw.codec.PayloadType()
	s.dtmfRx.clock = s.clock
	s.jb.reset()
	return old
}

// switchCodecTx resets the pacer-owned sending and playout state for the
// new codec and closes the old one (pacer goroutine).
func (s *Session) switchCodecTx(old codec.Codec) {
	tx, po := &s.tx, &s.po
	c := s.codec
	rate := c.SampleRate()
	tx.step = uint32(s.clock / 50)
	tx.marker = true // the peer's decoder sees a new stream start
	tx.silence = audio.Frame{Rate: rate, Samples: make([]int16, audio.SamplesPerFrame(rate))}
	tx.snap, _ = c.(codec.EncoderSnapshotter)
	// The recording is of the old encoder's silence: record anew.
	tx.quiet, tx.recN, tx.useCached, tx.phase = 0, 0, false, 0
	tx.recStates, tx.recPays = nil, nil
	tx.conv = nil
	po.last, po.conceals, po.resamp = po.last[:0], 0, nil
	old.Close()
	s.log.Debug("rtp: codec switched", "from", old.Name(), "to", c.Name())
}

func (s *Session) setRemoteLocked(ap netip.AddrPort) {
	s.remote = ap
	s.latched = false
	if ap.IsValid() {
		s.remoteRTCP = netip.AddrPortFrom(ap.Addr(), ap.Port()+1)
	}
}

// SetRemote changes where we send (a re-INVITE moved the peer's media).
// Symmetric RTP latching starts over for the new address.
func (s *Session) SetRemote(ap netip.AddrPort) {
	s.mu.Lock()
	if ap != s.remote {
		s.setRemoteLocked(ap)
	}
	s.mu.Unlock()
}

// SetSRTP switches to new SRTP keys (a re-INVITE re-keyed), or turns
// SRTP on. A direction whose key is unchanged keeps its running context.
func (s *Session) SetSRTP(k SRTP) error {
	st, err := newSRTPState(k, s.srtp.Load())
	if err != nil {
		return err
	}
	s.srtp.Store(st)
	return nil
}

// SRTPSuite is the suite protecting the media, "" for plain RTP.
func (s *Session) SRTPSuite() Suite {
	if st := s.srtp.Load(); st != nil {
		return st.keys.Local.Suite
	}
	return ""
}

// srtpDrop counts a packet that failed SRTP; the first one per session is
// logged (a wrong key fails every packet: one line says it).
func (s *Session) srtpDrop(kind string, err error) {
	s.srtpDropped.Add(1)
	if s.srtpWarned.CompareAndSwap(false, true) {
		s.log.Warn("srtp: packet dropped (further ones are only counted in SRTPDropped)", "kind", kind, "err", err)
	}
}

// SetDirection applies a hold/unhold from a re-INVITE (our direction).
func (s *Session) SetDirection(d Direction) {
	s.mu.Lock()
	s.dir = d
	s.mu.Unlock()
	// Silence from a held peer is not a vanished peer.
	s.lastPacket.Store(time.Now().UnixNano())
}

// Direction is the current media direction from our side.
func (s *Session) Direction() Direction {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dir
}

// LastPacket is when the peer last sent RTP (or when the session started
// or the direction changed). The SIP layer uses it to end calls whose peer
// vanished.
func (s *Session) LastPacket() time.Time { return time.Unix(0, s.lastPacket.Load()) }

// ReadFrame returns the next 20 ms of the caller's audio at SampleRate.
// Frames arrive in real time, one per 20 ms, with concealment or silence
// where packets were lost or none arrive, so downstream timing is regular.
func (s *Session) ReadFrame() (audio.Frame, error) {
	select {
	case f := <-s.in:
		return f, nil
	case <-s.done:
		return audio.Frame{}, ErrClosed
	}
}

// ReadFrameContext is ReadFrame with a context.
func (s *Session) ReadFrameContext(ctx context.Context) (audio.Frame, error) {
	select {
	case f := <-s.in:
		return f, nil
	case <-s.done:
		return audio.Frame{}, ErrClosed
	case <-ctx.Done():
		return audio.Frame{}, ctx.Err()
	}
}

// WriteFrame queues audio for the caller. Any rate among 8/16/48 kHz and
// any length are accepted: the audio is converted to the codec's rate and
// cut into 20 ms packets. It blocks while the queue (200 ms by default) is
// full, so a producer faster than real time is paced by the sender. Call it
// from one goroutine.
func (s *Session) WriteFrame(f audio.Frame) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	select {
	case <-s.done:
		return ErrClosed
	default:
	}
	rate := s.writeRateLocked()
	samples := f.Samples
	if f.Rate != rate && len(samples) > 0 {
		if s.resamp == nil || s.resamp.From() != f.Rate || s.resamp.To() != rate {
			r, err := audio.NewResampler(f.Rate, rate)
			if err != nil {
				return err
			}
			s.resamp = r
		}
		samples = s.resamp.Process(samples)
	}
	s.pending = append(s.pending, samples...)
	return s.queueLocked()
}

// writeRateLocked is the rate to queue audio at. After a codec change the
// partial frame waiting is converted to it (wmu held).
func (s *Session) writeRateLocked() int {
	rate := int(s.txRate.Load())
	if rate == s.pendRate {
		return rate
	}
	if len(s.pending) > 0 {
		if conv, err := audio.Resample(s.pending, s.pendRate, rate); err == nil {
			s.pending = conv
		} else {
			s.pending = s.pending[:0]
		}
	}
	s.pendRate = rate
	return rate
}

// queueLocked moves whole 20 ms frames from pending to the send queue
// (wmu held).
func (s *Session) queueLocked() error {
	n := audio.SamplesPerFrame(s.pendRate)
	for len(s.pending) >= n {
		fr := audio.Frame{Rate: s.pendRate, Samples: append([]int16(nil), s.pending[:n]...)}
		s.pending = s.pending[n:]
		select {
		case s.out <- fr:
		case <-s.done:
			return ErrClosed
		}
	}
	if len(s.pending) == 0 {
		s.pending = s.pending[:0:0]
	}
	return nil
}

// Flush pads a partial trailing frame with silence and queues it, so the
// end of a prompt is played.
func (s *Session) Flush() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if len(s.pending) == 0 {
		return nil
	}
	select {
	case <-s.done:
		return ErrClosed
	default:
	}
	s.writeRateLocked()
	if n := len(s.pending); n > 0 {
		s.pending = append(s.pending, make([]int16, max(0, audio.SamplesPerFrame(s.pendRate)-n))...)
	}
	return s.queueLocked()
}

// ClearPlayback drops queued audio at once (barge-in) and reports how many
// frames were dropped.
func (s *Session) ClearPlayback() int {
	s.wmu.Lock()
	s.pending = s.pending[:0]
	s.wmu.Unlock()
	n := 0
	for {
		select {
		case <-s.out:
			n++
		default:
			return n
		}
	}
}

// Queued is the number of 20 ms frames waiting to be sent.
func (s *Session) Queued() int { return len(s.out) }

// DTMF delivers digits received as RFC 4733 events.
func (s *Session) DTMF() <-chan Digit { return s.dtmfC }

// SendDTMF queues an RFC 4733 event (duration 0 means 100 ms). Audio is
// paused while it plays.
func (s *Session) SendDTMF(key byte, dur time.Duration) error {
	s.mu.Lock()
	pt := s.dtmfPT
	s.mu.Unlock()
	if pt == 0 {
		return errors.New("media: telephone-event not negotiated")
	}
	code, err := EventCode(key)
	if err != nil {
		return err
	}
	if dur <= 0 {
		dur = 100 * time.Millisecond
	}
	select {
	case s.dtmfQ <- Digit{Key: dtmfKeys[code], Duration: dur}:
		return nil
	case <-s.done:
		return ErrClosed
	}
}

// Stats returns a snapshot of the counters.
func (s *Session) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	st.Lost = s.lostLocked()
	st.Late, st.Duplicate = s.jb.late, s.jb.dup
	st.Concealed, st.Dropped = s.jb.concealed, s.jb.dropped
	st.BufferDepth = s.jb.depth()
	st.Jitter = time.Duration(s.rx.jitter / float64(s.clock) * float64(time.Second))
	st.SRTPDropped = s.srtpDropped.Load()
	return st
}

func (s *Session) lostLocked() int64 {
	if !s.rx.init {
		return 0
	}
	ext := s.rx.cycles + uint32(s.rx.maxSeq)
	expected := int64(ext) - int64(s.rx.baseSeq) + 1
	return expected - int64(s.rx.received)
}

// Close stops the goroutines, waits for them and closes the sockets and
// the codec. It is idempotent.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		if s.pacer != nil {
			s.pacer.remove(s) // no tick uses the sockets or the codec after this
		}
		s.cfg.RTP.Close()
		s.cfg.RTCP.Close()
		s.wg.Wait()
		s.mu.Lock()
		c, next := s.codec, s.next
		s.next = nil
		s.mu.Unlock()
		c.Close()
		if next != nil && next.codec != nil {
			next.codec.Close() // SetCodec'd but never switched to
		}
	})
	return nil
}

// Done is closed when the session is closed.
func (s *Session) Done() <-chan struct{} { return s.done }

func (s *Session) readRTP() {
	defer s.wg.Done()
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, src, err := s.cfg.RTP.ReadFromUDPAddrPort(buf)
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		data := buf[:n]
		if st := s.srtp.Load(); st != nil {
			if data, err = st.decryptRTP(data); err != nil {
				s.srtpDrop("rtp", err)
				continue
			}
		}
		if err := pkt.Unmarshal(data); err != nil || pkt.Version != 2 {
			continue // garbage on the media port must not hurt the call
		}
		s.receive(&pkt, src, n)
	}
}

func (s *Session) receive(pkt *rtp.Packet, src netip.AddrPort, n int) {
	pt := pkt.PayloadType
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	now := time.Now()
	s.mu.Lock()
	isDTMF := s.dtmfPT != 0 && pt == s.dtmfPT
	if pt != s.pt && !isDTMF {
		s.mu.Unlock()
		return // another codec (e.g. the old one around a switch) or garbage
	}
	if !s.latched {
		// Symmetric RTP (RFC 4961): answer to where the caller's
		// packets come from, which behind NAT is not the SDP address.
		if src != s.remote {
			s.log.Debug("rtp: latched remote address", "from", s.remote.String(), "to", src.String())
		}
		s.remote, s.latched = src, true
		s.remoteRTCP = netip.AddrPortFrom(src.Addr(), src.Port()+1)
	} else if src != s.remote {
		s.mu.Unlock()
		return // not our peer: ignore injected packets
	}
	s.updateRxLocked(pkt, now)
	s.st.PacketsReceived++
	s.st.BytesReceived += uint64(n)
	var digit Digit
	var gotDigit bool
	if isDTMF {
		digit, gotDigit = s.dtmfRx.receive(pkt.Timestamp, pkt.Payload)
		s.jb.push(pkt.SequenceNumber, kindFiller, nil)
		if gotDigit {
			s.st.DTMFReceived++
		}
	} else {
		s.jb.push(pkt.SequenceNumber, kindAudio, pkt.Payload)
		// Depth follows the jitter: three times the mean deviation
		// covers nearly all arrivals, plus one frame of margin.
		jit := s.rx.jitter / float64(s.clock) * 1000 // ms
		s.jb.setJitterTarget(1 + int(math.Ceil(3*jit/20)))
	}
	s.mu.Unlock()
	s.lastPacket.Store(now.UnixNano())
	if gotDigit {
		select {
		case s.dtmfC <- digit:
		default:
			s.log.Warn("rtp: dtmf channel full, digit dropped")
		}
	}
}

func (s *Session) updateRxLocked(pkt *rtp.Packet, now time.Time) {
	r := &s.rx
	seq := pkt.SequenceNumber
	if !r.init || r.ssrc != pkt.SSRC {
		if r.init {
			s.jb.reset() // a new source (e.g. after a transfer or PBX re-anchoring)
		}
		*r = rxStats{init: true, ssrc: pkt.SSRC, baseSeq: uint32(seq), maxSeq: seq}
	} else if d := seqDiff(seq, r.maxSeq); d > 0 {
		if seq < r.maxSeq {
			r.cycles += 1 << 16
		}
		r.maxSeq = seq
	}
	r.received++
	// Interarrival jitter (RFC 3550 A.8) in RTP clock units.
	arrival := now.UnixNano() * int64(s.clock) / int64(time.Second)
	transit := arrival - int64(pkt.Timestamp)
	if r.received > 1 && pkt.PayloadType == s.pt {
		d := transit - r.transit
		if d < 0 {
			d = -d
		}
		if d < int64(s.clock) { // ignore timestamp jumps (DTMF, DTX, new talk spurt)
			r.jitter += (float64(d) - r.jitter) / 16
		}
	}
	r.transit = transit
}

// playoutState is the playout's state between ticks (pacer goroutine only).
type playoutState struct {
	last     []int16
	conceals int
	pcm      []int16
	payload  []byte
	resamp   *audio.Resampler // codec rate → the session's rate, after a codec switch
}

// txState is the sender's state between ticks (pacer goroutine only).
type txState struct {
	seq      uint16
	ts       uint32
	step     uint32
	marker   bool
	buf      []byte
	pktBuf   []byte
	silence  audio.Frame
	nextRTCP time.Time
	conv     *audio.Resampler // queued frames at another rate than the codec's (around a switch)

	dtmf      *Digit
	dtmfPT    uint8 // of the event playing: a codec switch waits for its end
	dtmfTS    uint32
	dtmfDur   uint32
	dtmfTotal uint32
	dtmfEnds  int

	// Cached silence: while nothing is queued the sender replays a
	// recorded stretch of the encoder's own silence instead of running
	// the encoder (see encodeAudio).
	snap      codec.EncoderSnapshotter // nil: always encode
	quiet     int                      // silent frames encoded live since the last speech
	recStates [][]byte                 // encoder state before each recorded silent frame
	recPays   [][]byte                 // the recorded frames' payloads
	recN      int                      // frames recorded so far
	useCached bool                     // replaying the recording
	phase     int                      // next recorded frame to replay
}

const (
	// silenceWarmup is how many silent frames the encoder runs live after
	// speech before recording: G.722's adaptive step sizes decay to their
	// floor in a few frames, so the recording is of settled idle noise.
	silenceWarmup = 5
	// silenceLoop is how many silent frames are recorded and replayed in
	// a loop (G.722 has no short cycle on silence; G.711 needs one frame).
	silenceLoop = 16
)

func (s *Session) initTx() {
	tx := &s.tx
	tx.seq = uint16(s.ssrc >> 7)
	tx.ts = s.ssrc * 3
	tx.step = uint32(s.clock / 50)
	tx.marker = true
	tx.pktBuf = make([]byte, 1500)
	tx.silence = audio.Frame{Rate: s.rate, Samples: make([]int16, s.frameN)}
	tx.nextRTCP = time.Now().Add(s.cfg.RTCPInterval / 2)
	tx.snap, _ = s.codec.(codec.EncoderSnapshotter)
}

// encodeAudio appends the payload for f, or for silence when f is nil.
//
// After a few frames of silence the encoder's output is recorded for
// silenceLoop frames together with its state before each, and from then on
// the recording is replayed in a loop. When speech resumes at recorded
// frame k, the encoder is put back into the state it had before frame k:
// the state the peer's decoder, which has just decoded the recording up to
// k once more, is nearly in, so speech resumes without a click or a
// mismatch for the decoder to adapt away. Stateless codecs (G.711) record
// one frame without warm-up.
func (tx *txState) encodeAudio(c codec.Codec, dst []byte, f *audio.Frame) []byte {
	if f != nil {
		if tx.useCached {
			tx.snap.RestoreEncoder(tx.recStates[tx.phase])
			tx.useCached = false
		}
		tx.quiet, tx.recN = 0, 0
		return c.Encode(dst, *f)
	}
	if tx.useCached {
		dst = append(dst, tx.recPays[tx.phase]...)
		tx.phase = (tx.phase + 1) % len(tx.recPays)
		return dst
	}
	if tx.snap == nil {
		return c.Encode(dst, tx.silence)
	}
	tx.quiet++
	var state []byte
	if tx.recN < len(tx.recStates) {
		state = tx.recStates[tx.recN][:0]
	}
	state = tx.snap.SaveEncoder(state)
	if tx.recPays == nil {
		n := silenceLoop
		if len(state) == 0 {
			n = 1 // stateless
		}
		tx.recStates, tx.recPays = make([][]byte, n), make([][]byte, n)
	}
	start := len(dst)
	dst = c.Encode(dst, tx.silence)
	if len(state) != 0 && tx.quiet <= silenceWarmup {
		return dst
	}
	tx.recStates[tx.recN] = state
	tx.recPays[tx.recN] = append(tx.recPays[tx.recN][:0], dst[start:]...)
	tx.recN++
	if tx.recN == len(tx.recPays) {
		tx.useCached, tx.phase = true, 0
	}
	return dst
}

// tick runs n frame periods of the session: n frames of playout, n packets
// (or RFC 4733 event packets) sent, and an RTCP report when one is due.
// The pacer does the same in its own order; tick, sendFrame, playoutFrame
// and rtcpTick are never called concurrently for one session.
func (s *Session) tick(now time.Time, n int) {
	for range n {
		s.sendFrame()
		s.playoutFrame()
	}
	s.rtcpTick(now)
}

// rtcpTick sends an RTCP report when one is due.
func (s *Session) rtcpTick(now time.Time) {
	if now.After(s.tx.nextRTCP) {
		s.tx.nextRTCP = now.Add(s.cfg.RTCPInterval)
		s.sendRTCP(now, s.tx.ts)
	}
}

// playoutFrame moves one frame from the jitter buffer through the decoder
// to ReadFrame, with concealment or silence where there is no packet.
func (s *Session) playoutFrame() {
	po := &s.po
	s.mu.Lock()
	slot, st := s.jb.pop()
	kind := slotKind(0)
	if st == popPlay {
		kind = slot.kind
		po.payload = append(po.payload[:0], slot.payload...)
	}
	s.mu.Unlock()
	var f audio.Frame
	switch {
	case st == popPlay && kind == kindAudio:
		f = s.codec.Decode(po.pcm, po.payload)
		po.pcm = f.Samples
		if f.Rate != s.rate {
			f = po.convert(f, s.rate, s.frameN)
		} else {
			f = f.Clone()
		}
		po.last = append(po.last[:0], f.Samples...)
		po.conceals = 0
	case st == popConceal && po.conceals < 3 && len(po.last) > 0:
		// Packet loss concealment: repeat the last frame, fading, then
		// fall back to silence.
		po.conceals++
		f = audio.Frame{Rate: s.rate, Samples: make([]int16, len(po.last))}
		for i, v := range po.last {
			f.Samples[i] = int16(int32(v) >> po.conceals)
		}
	default:
		f = audio.Frame{Rate: s.rate, Samples: make([]int16, s.frameN)}
	}
	select {
	case s.in <- f:
		return
	default:
	}
	// The reader is not keeping up: drop the oldest frame rather than
	// fall behind real time.
	select {
	case <-s.in:
	default:
	}
	select {
	case s.in <- f:
	default:
	}
	s.mu.Lock()
	s.st.Overflow++
	s.mu.Unlock()
}

// convert resamples a decoded frame of a codec switched to mid-call to
// the session's rate, exactly one frame long.
func (po *playoutState) convert(f audio.Frame, rate, n int) audio.Frame {
	if po.resamp == nil || po.resamp.From() != f.Rate {
		r, err := audio.NewResampler(f.Rate, rate)
		if err != nil {
			return audio.Frame{Rate: rate, Samples: make([]int16, n)}
		}
		po.resamp = r
	}
	out := po.resamp.ProcessTo(make([]int16, 0, n), f.Samples)
	return audio.Frame{Rate: rate, Samples: fitFrame(out, n)}
}

// fitFrame pads with silence or cuts to n samples.
func fitFrame(s []int16, n int) []int16 {
	if len(s) >= n {
		return s[:n]
	}
	return append(s, make([]int16, n-len(s))...)
}

// sendFrame sends the next 20 ms: a DTMF event packet while one plays, else
// the next queued frame, else silence. The RTP timestamp advances every
// frame whether or not a packet goes out; the sequence number with every
// packet sent. A codec switch (SetCodec) is made here, before the frame,
// so this frame's packet and playout are both the new codec's.
func (s *Session) sendFrame() {
	tx := &s.tx
	var old codec.Codec
	switched := false
	s.mu.Lock()
	if s.next != nil && tx.dtmf == nil {
		old, switched = s.switchCodecLocked(s.next), true
		s.next = nil
	}
	dir, remote, dtmfPT := s.dir, s.remote, s.dtmfPT
	s.mu.Unlock()
	if old != nil {
		s.switchCodecTx(old)
	} else if switched {
		s.log.Debug("rtp: telephone-event payload type changed", "pt", dtmfPT)
	}
	sending := dir.Sends() && remote.IsValid()

	if tx.dtmf == nil && dtmfPT != 0 {
		select {
		case d := <-s.dtmfQ:
			tx.dtmf = &d
			tx.dtmfPT = dtmfPT
			tx.dtmfTS, tx.dtmfDur, tx.dtmfEnds = tx.ts, 0, 0
			tx.dtmfTotal = uint32(d.Duration.Seconds() * float64(s.clock))
		default:
		}
	}
	var hdr rtp.Header
	if tx.dtmf != nil {
		// RFC 4733: one timestamp for the event, growing duration, three
		// end packets for reliability.
		code, _ := EventCode(tx.dtmf.Key)
		first := tx.dtmfDur == 0
		if tx.dtmfEnds == 0 {
			tx.dtmfDur = min(tx.dtmfDur+tx.step, max(tx.dtmfTotal, tx.step))
		}
		ev := dtmfEvent{Code: code, Volume: 10, Duration: uint16(min(tx.dtmfDur, 0xffff))}
		if tx.dtmfDur >= tx.dtmfTotal {
			ev.End = true
			tx.dtmfEnds++
		}
		tx.buf = ev.marshal(tx.buf[:0])
		hdr = rtp.Header{Version: 2, PayloadType: tx.dtmfPT, SequenceNumber: tx.seq,
			Timestamp: tx.dtmfTS, SSRC: s.ssrc, Marker: first}
		if tx.dtmfEnds >= 3 {
			tx.dtmf = nil
			s.mu.Lock()
			s.st.DTMFSent++
			s.mu.Unlock()
		}
	} else {
		var f *audio.Frame
		select {
		case fr := <-s.out:
			if r := s.codec.SampleRate(); fr.Rate != r {
				fr = tx.convert(fr, r)
			}
			f = &fr
		default:
		}
		if !sending {
			tx.buf = tx.buf[:0] // nothing goes out: skip the encoder
		} else {
			tx.buf = tx.encodeAudio(s.codec, tx.buf[:0], f)
		}
		hdr = rtp.Header{Version: 2, PayloadType: s.codec.PayloadType(), SequenceNumber: tx.seq,
			Timestamp: tx.ts, SSRC: s.ssrc, Marker: tx.marker}
	}
	tx.ts += tx.step
	if !sending {
		tx.marker = true // next talk spurt starts with a marker
		return
	}
	pkt := rtp.Packet{Header: hdr, Payload: tx.buf}
	n, err := pkt.MarshalTo(tx.pktBuf)
	if err != nil {
		return
	}
	tx.seq++
	if hdr.PayloadType == s.codec.PayloadType() {
		tx.marker = false
	}
	out := tx.pktBuf[:n]
	if st := s.srtp.Load(); st != nil {
		if out, err = st.encryptRTP(out); err != nil {
			s.log.Warn("srtp: encrypt failed", "err", err)
			return
		}
	}
	if _, err := s.cfg.RTP.WriteToUDPAddrPort(out, remote); err == nil {
		s.mu.Lock()
		s.st.PacketsSent++
		s.st.BytesSent += uint64(len(tx.buf))
		s.mu.Unlock()
	}
}

// convert resamples a frame queued before a codec switch to the new
// codec's rate.
func (tx *txState) convert(f audio.Frame, rate int) audio.Frame {
	n := audio.SamplesPerFrame(rate)
	if tx.conv == nil || tx.conv.From() != f.Rate || tx.conv.To() != rate {
		r, err := audio.NewResampler(f.Rate, rate)
		if err != nil {
			return audio.Frame{Rate: rate, Samples: make([]int16, n)}
		}
		tx.conv = r
	}
	return audio.Frame{Rate: rate, Samples: fitFrame(tx.conv.ProcessTo(make([]int16, 0, n), f.Samples), n)}
}

// ntpTime converts t to the 64-bit NTP format of RTCP.
func ntpTime(t time.Time) uint64 {
	secs := uint64(t.Unix()) + 2208988800
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}

func (s *Session) sendRTCP(now time.Time, rtpTS uint32) {
	s.mu.Lock()
	dst := s.remoteRTCP
	var reports []rtcp.ReceptionReport
	if s.rx.init {
		r := &s.rx
		ext := r.cycles + uint32(r.maxSeq)
		expected := ext - r.baseSeq + 1
		expInt := expected - r.expectedPrior
		recvInt := r.received - r.receivedPrior
		r.expectedPrior, r.receivedPrior = expected, r.received
		var frac uint8
		if lostInt := int64(expInt) - int64(recvInt); expInt > 0 && lostInt > 0 {
			frac = uint8(lostInt << 8 / int64(expInt))
		}
		lost := s.lostLocked()
		lost = max(min(lost, 0x7fffff), -0x800000)
		rr := rtcp.ReceptionReport{SSRC: r.ssrc, FractionLost: frac, TotalLost: uint32(lost) & 0xffffff,
			LastSequenceNumber: ext, Jitter: uint32(r.jitter), LastSenderReport: s.lastSR}
		if !s.lastSRAt.IsZero() {
			rr.Delay = uint32(now.Sub(s.lastSRAt).Seconds() * 65536)
		}
		reports = append(reports, rr)
	}
	sent, octets := s.st.PacketsSent, s.st.BytesSent
	s.mu.Unlock()
	if !dst.IsValid() {
		return
	}
	var first rtcp.Packet
	if sent > 0 {
		first = &rtcp.SenderReport{SSRC: s.ssrc, NTPTime: ntpTime(now), RTPTime: rtpTS,
			PacketCount: uint32(sent), OctetCount: uint32(octets), Reports: reports}
	} else {
		first = &rtcp.ReceiverReport{SSRC: s.ssrc, Reports: reports}
	}
	b, err := rtcp.Marshal([]rtcp.Packet{first, rtcp.NewCNAMESourceDescription(s.ssrc, s.cfg.CNAME)})
	if err != nil {
		return
	}
	if st := s.srtp.Load(); st != nil {
		if b, err = st.encryptRTCP(b); err != nil {
			return
		}
	}
	_, _ = s.cfg.RTCP.WriteToUDPAddrPort(b, dst)
}

func (s *Session) readRTCP() {
	defer s.wg.Done()
	buf := make([]byte, 1500)
	dec := make([]byte, 1500) // SRTCP plaintext
	for {
		n, src, err := s.cfg.RTCP.ReadFromUDPAddrPort(buf)
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		data := buf[:n]
		if st := s.srtp.Load(); st != nil {
			if data, err = st.decryptRTCP(dec, data); err != nil {
				s.srtpDrop("rtcp", err)
				continue
			}
		}
		pkts, err := rtcp.Unmarshal(data)
		if err != nil {
			continue
		}
		now := time.Now()
		s.mu.Lock()
		if s.remote.IsValid() && src.Addr().Unmap() == s.remote.Addr() {
			s.remoteRTCP = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
		}
		for _, p := range pkts {
			var rr []rtcp.ReceptionReport
			switch p := p.(type) {
			case *rtcp.SenderReport:
				s.lastSR = uint32(p.NTPTime >> 16)
				s.lastSRAt = now
				rr = p.Reports
			case *rtcp.ReceiverReport:
				rr = p.Reports
			}
			for _, r := range rr {
				if r.SSRC == s.ssrc {
					s.st.RemoteFractionLost = float64(r.FractionLost) / 256
					s.st.RemoteJitter = time.Duration(float64(r.Jitter) / float64(s.clock) * float64(time.Second))
				}
			}
		}
		s.mu.Unlock()
	}
}
