package sipload

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/telephony/codec"
	"github.com/hotline-ivr/hotline/telephony/media"
)

// endpoint is the caller's RTP side. It is deliberately not a
// media.Session: a session hides packets behind its jitter buffer, and the
// measurements here are about packets (when each one left, when each one
// arrived). It is also cheaper, so hundreds of callers leave the CPU to the
// server under test. Two goroutines: a paced sender and a receiver.
type endpoint struct {
	conn, rtcp *net.UDPConn
	cd         codec.Codec
	dtmfPT     uint8
	remote     netip.AddrPort
	decode     bool // decode received audio to tell speech (voice-to-voice runs)
	silence    encoded

	mu    sync.Mutex // guards queue, sent, recv, lastSpeech
	queue []item
	sent  []Sent
	recv  []Received
	// lastSpeech is the arrival of the last received speech packet.
	lastSpeech time.Time

	done chan struct{}
	wg   sync.WaitGroup
}

// encoded is one 20 ms frame of caller audio, encoded once per run and
// shared by all calls: encoding per call would spend the load tool's CPU
// (G.722 is a C codec behind cgo) on what is the same audio every time,
// and that CPU is taken from the server under test on the same machine.
type encoded struct {
	payload []byte
	speech  bool // the frame's level was at least SpeechDBFS
}

// item is one 20 ms slot of what the caller sends: a frame, or one packet
// of a DTMF event.
type item struct {
	frame  encoded
	dtmf   bool
	code   uint8
	dur    uint16 // event duration so far, RTP clock units
	end    bool
	starts bool // first packet of the event: fixes its timestamp
}

func newEndpoint(ip, codecName string, silence encoded, decode bool) (*endpoint, error) {
	cd, err := codec.New(codecName)
	if err != nil {
		return nil, err
	}
	// RTCP goes to the next port (RFC 3550); bind the pair so the
	// server's reports land on a socket we own (and ignore).
	var conn, rtcp *net.UDPConn
	for range 20 {
		conn, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
		if err != nil {
			break
		}
		port := conn.LocalAddr().(*net.UDPAddr).Port
		if port%2 == 0 {
			rtcp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip), Port: port + 1})
			if err == nil {
				break
			}
		}
		conn.Close()
		conn = nil
	}
	if conn == nil || rtcp == nil {
		cd.Close()
		if err == nil {
			err = errors.New("sipload: no even RTP port with a free RTCP port")
		}
		return nil, err
	}
	return &endpoint{conn: conn, rtcp: rtcp, cd: cd, decode: decode,
		silence: silence,
		done:    make(chan struct{})}, nil
}

func (e *endpoint) port() int { return e.conn.LocalAddr().(*net.UDPAddr).Port }

func (e *endpoint) start(remote netip.AddrPort, dtmfPT uint8) {
	e.remote, e.dtmfPT = remote, dtmfPT
	e.wg.Add(2)
	go e.send()
	go e.receive()
}

// play queues frames after what is queued.
func (e *endpoint) play(frames []encoded) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, f := range frames {
		e.queue = append(e.queue, item{frame: f})
	}
}

// key queues a 100 ms RFC 4733 event (five packets) with the three
// end packets the RFC asks for, then 100 ms of silence between keys.
func (e *endpoint) key(k byte) error {
	code, err := media.EventCode(k)
	if err != nil {
		return err
	}
	step := uint16(e.cd.ClockRate() / 50)
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range 5 {
		e.queue = append(e.queue, item{dtmf: true, code: code, dur: step * uint16(i+1), starts: i == 0})
	}
	for range 3 {
		e.queue = append(e.queue, item{dtmf: true, code: code, dur: 5 * step, end: true})
	}
	for range 5 {
		e.queue = append(e.queue, item{frame: e.silence})
	}
	return nil
}

// queued is the number of 20 ms slots still to send.
func (e *endpoint) queued() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.queue)
}

func (e *endpoint) lastSpeechAt() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lastSpeech
}

func (e *endpoint) sentCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.sent)
}

// send paces one packet per 20 ms against absolute deadlines (no drift),
// silence when nothing is queued, as a phone does.
func (e *endpoint) send() {
	defer e.wg.Done()
	var b [4]byte
	_, _ = rand.Read(b[:])
	ssrc := binary.BigEndian.Uint32(b[:])
	seq, ts := uint16(ssrc>>9), ssrc*7
	step := uint32(e.cd.ClockRate() / 50)
	var (
		payload []byte
		dtmfBuf []byte
		pkt     = make([]byte, 1500)
		eventTS uint32
		marker  = true
	)
	timer := time.NewTimer(audio.FrameDuration)
	defer timer.Stop()
	next := time.Now()
	for {
		next = next.Add(audio.FrameDuration)
		if late := time.Since(next); late > 10*audio.FrameDuration {
			next = time.Now() // stalled (overloaded box): do not burst
		}
		timer.Reset(time.Until(next))
		select {
		case <-e.done:
			return
		case <-timer.C:
		}
		e.mu.Lock()
		it := item{frame: e.silence}
		if len(e.queue) > 0 {
			it = e.queue[0]
			e.queue = e.queue[1:]
		}
		e.mu.Unlock()

		hdr := rtp.Header{Version: 2, SequenceNumber: seq, SSRC: ssrc, Marker: marker}
		speech := false
		if it.dtmf {
			if it.starts {
				eventTS = ts
			}
			hdr.PayloadType, hdr.Timestamp, hdr.Marker = e.dtmfPT, eventTS, it.starts
			var flags byte = 10 // volume -10 dBm0
			if it.end {
				flags |= 0x80
			}
			dtmfBuf = append(dtmfBuf[:0], it.code, flags, byte(it.dur>>8), byte(it.dur))
			payload = dtmfBuf
		} else {
			hdr.PayloadType, hdr.Timestamp = e.cd.PayloadType(), ts
			payload, speech = it.frame.payload, it.frame.speech
			marker = false
		}
		ts += step
		seq++
		p := rtp.Packet{Header: hdr, Payload: payload}
		n, err := p.MarshalTo(pkt)
		if err != nil {
			continue
		}
		now := time.Now()
		if _, err := e.conn.WriteToUDPAddrPort(pkt[:n], e.remote); err != nil {
			continue
		}
		if !it.dtmf {
			e.mu.Lock()
			e.sent = append(e.sent, Sent{At: now, Speech: speech})
			e.mu.Unlock()
		}
	}
}

func (e *endpoint) receive() {
	defer e.wg.Done()
	buf := make([]byte, 1500)
	oob := make([]byte, oobSize)
	stamps := enableKernelStamps(e.conn)
	var pcm []int16
	var p rtp.Packet
	for {
		n, oobn, _, _, err := e.conn.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			return // closed
		}
		at := time.Now()
		if stamps {
			at = kernelStamp(oob[:oobn], at)
		}
		if p.Unmarshal(buf[:n]) != nil || p.Version != 2 {
			continue
		}
		r := Received{At: at, Seq: p.SequenceNumber, Audio: p.PayloadType == e.cd.PayloadType()}
		if r.Audio && e.decode {
			f := e.cd.Decode(pcm[:0], p.Payload)
			pcm = f.Samples
			r.Speech = audio.RMSdBFS(f.Samples) >= SpeechDBFS
		}
		e.mu.Lock()
		e.recv = append(e.recv, r)
		if r.Speech {
			e.lastSpeech = at
		}
		e.mu.Unlock()
	}
}

// close stops both goroutines and returns what was sent and received.
func (e *endpoint) close() ([]Sent, []Received) {
	select {
	case <-e.done:
	default:
		close(e.done)
	}
	e.conn.Close() // unblocks the receiver
	e.rtcp.Close()
	e.wg.Wait()
	e.cd.Close()
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sent, e.recv
}
