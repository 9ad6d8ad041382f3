package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/calls"
	"github.com/hotline-ivr/hotline/telephony/codec"
)

// pcapWriter writes RTP packets as a libpcap file (Ethernet, IPv4, UDP)
// for SIPp's play_pcap_audio, which replays them with their timing.
type pcapWriter struct {
	buf      bytes.Buffer
	at       time.Duration
	seq      uint16
	ts       uint32
	ssrc     uint32
	ipID     uint16
	srcPort  uint16
	dstPort  uint16
	pktEvery time.Duration
}

func newPcap() *pcapWriter {
	w := &pcapWriter{ssrc: 0x4e07, srcPort: 6000, dstPort: 6002, pktEvery: 20 * time.Millisecond}
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535)
	binary.LittleEndian.PutUint32(h[20:], 1) // Ethernet
	w.buf.Write(h[:])
	return w
}

// rtp appends one packet at the current time.
func (w *pcapWriter) rtp(pt uint8, marker bool, ts uint32, payload []byte) {
	r := make([]byte, 12+len(payload))
	r[0] = 0x80
	r[1] = pt
	if marker {
		r[1] |= 0x80
	}
	binary.BigEndian.PutUint16(r[2:], w.seq)
	binary.BigEndian.PutUint32(r[4:], ts)
	binary.BigEndian.PutUint32(r[8:], w.ssrc)
	copy(r[12:], payload)
	w.seq++

	udp := make([]byte, 8+len(r))
	binary.BigEndian.PutUint16(udp[0:], w.srcPort)
	binary.BigEndian.PutUint16(udp[2:], w.dstPort)
	binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
	copy(udp[8:], r)

	ip := make([]byte, 20+len(udp))
	ip[0], ip[8], ip[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
	binary.BigEndian.PutUint16(ip[4:], w.ipID)
	w.ipID++
	copy(ip[12:], net.IPv4(127, 0, 0, 1).To4())
	copy(ip[16:], net.IPv4(127, 0, 0, 1).To4())
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	copy(ip[20:], udp)

	frame := make([]byte, 14+len(ip))
	copy(frame[0:6], []byte{2, 0, 0, 0, 0, 2})
	copy(frame[6:12], []byte{2, 0, 0, 0, 0, 1})
	binary.BigEndian.PutUint16(frame[12:], 0x0800)
	copy(frame[14:], ip)

	var rec [16]byte
	binary.LittleEndian.PutUint32(rec[0:], uint32(w.at/time.Second))
	binary.LittleEndian.PutUint32(rec[4:], uint32(w.at%time.Second/time.Microsecond))
	binary.LittleEndian.PutUint32(rec[8:], uint32(len(frame)))
	binary.LittleEndian.PutUint32(rec[12:], uint32(len(frame)))
	w.buf.Write(rec[:])
	w.buf.Write(frame)
}

// audio appends 16 kHz speech as G.722 packets, 20 ms apart (G.722's RTP
// clock is 8 kHz: 160 ticks a packet).
func (w *pcapWriter) audio(t *testing.T, pcm []int16) {
	enc, err := codec.New("G722")
	if err != nil {
		t.Fatal(err)
	}
	n := audio.SamplesPerFrame(16000)
	for i := 0; i < len(pcm); i += n {
		f := make([]int16, n)
		copy(f, pcm[i:min(i+n, len(pcm))])
		w.rtp(9, i == 0, w.ts, enc.Encode(nil, audio.Frame{Rate: 16000, Samples: f}))
		w.ts += 160
		w.at += w.pktEvery
	}
}

// key appends an RFC 4733 key press of 100 ms (payload type 101).
func (w *pcapWriter) key(digit byte) {
	ev := map[byte]byte{'*': 10, '#': 11}[digit]
	if digit >= '0' && digit <= '9' {
		ev = digit - '0'
	}
	start := w.ts
	for i := 1; i <= 8; i++ {
		end := i >= 6 // the last three packets repeat the end
		dur := min(i, 5) * 160
		p := []byte{ev, 10, byte(dur >> 8), byte(dur)}
		if end {
			p[1] |= 0x80
		}
		w.rtp(101, i == 1, start, p)
		w.at += w.pktEvery
		w.ts += 160
	}
}

func (w *pcapWriter) silence(t *testing.T, d time.Duration) {
	w.audio(t, make([]int16, int(d/time.Millisecond)*16))
}

// TestSIPpAsksInEnglish: SIPp (a real, independent SIP stack) calls the
// running serve with G.722, plays key 2 and Festival speech as RTP from
// a pcap, waits and hangs up; the call's record shows the recognised
// question, the bot's answer and the audio it sent.
func TestSIPpAsksInEnglish(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy: SIPp call through speech recognition and synthesis")
	}
	bin, err := exec.LookPath("sipp")
	if err != nil {
		t.Skip("sipp not installed (Debian package sip-tester; scripts/setup.sh installs it)")
	}
	question := festivalSpeech(t, "What are the operator hours?", 16000)
	dir := t.TempDir()
	p := newPcap()
	p.silence(t, 600*time.Millisecond)
	p.key('2')
	// The greeting's recording notice plays whole, then the English
	// prompt: the question comes after both.
	p.silence(t, 9*time.Second)
	p.audio(t, question)
	p.silence(t, 1500*time.Millisecond)
	pcapPath := filepath.Join(dir, "question.pcap")
	if err := os.WriteFile(pcapPath, p.buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(filepath.Join("..", "..", "calls", "testdata", "sipp", "g722_question.xml"))
	if err != nil {
		t.Fatal(err)
	}
	waitMs := int((p.at + 6*time.Second) / time.Millisecond)
	scenario := strings.NewReplacer("[pcap]", pcapPath, "[wait_ms]", strconv.Itoa(waitMs)).Replace(string(tmpl))
	scenarioPath := filepath.Join(dir, "g722_question.xml")
	if err := os.WriteFile(scenarioPath, []byte(scenario), 0o644); err != nil {
		t.Fatal(err)
	}

	dataDir := t.TempDir()
	sipAddr := freeAddr(t)
	base, _ := startServe(t, "--data", dataDir, "--sip", sipAddr)
	s := loginAdmin(t, base, dataDir)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-sf", scenarioPath, "-s", "hotline", "-m", "1", "-l", "1",
		"-i", "127.0.0.1", "-p", strconv.Itoa(freeUDP(t)), "-mi", "127.0.0.1", "-mp", strconv.Itoa(freeUDP(t)),
		"-timeout", "80s", "-timeout_error", "-nostdin", "-trace_err", "-error_file", filepath.Join(dir, "errors.log"), sipAddr)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		errLog, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
		o := out.String()
		t.Fatalf("sipp: %v\n--- errors.log\n%s\n--- output (tail)\n%s", err, errLog, o[max(0, len(o)-3000):])
	}

	resp, err := s.hc.Get(base + "/api/v1/calls")
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ Calls []calls.Call }
	_ = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Calls) != 1 {
		t.Fatalf("calls = %+v", list)
	}
	rec := getCall(t, s, list.Calls[0].ID)
	logTurns(t, rec)
	if rec.Reason != "hangup" || rec.Codec != "G722" || rec.Lang != "en" {
		t.Errorf("call record: reason %q codec %q lang %q", rec.Reason, rec.Codec, rec.Lang)
	}
	if rec.Caller == "" || strings.Contains(rec.Caller, "9161234") {
		t.Errorf("caller %q: want the number masked", rec.Caller)
	}
	// SIPp cannot judge audio: the record counts what the bot sent.
	if rec.FramesOut < 100 || rec.PacketsOut < 500 {
		t.Errorf("the bot sent %d frames, %d packets", rec.FramesOut, rec.PacketsOut)
	}
	var keyed, asked bool
	var answer string
	for _, tr := range rec.Turns {
		low := strings.ToLower(tr.Text)
		switch {
		case tr.Speaker == "caller" && strings.Contains(low, "dtmf 2"):
			keyed = true
		case tr.Speaker == "caller" && (strings.Contains(low, "operator") || strings.Contains(low, "hours")):
			asked = true
		case asked && tr.Speaker == "bot" && answer == "":
			answer = tr.Text
		}
	}
	if !keyed || !asked || !strings.Contains(answer, "Monday to Friday") {
		t.Errorf("transcript: key 2 %v, question %v, answer %q", keyed, asked, answer)
	}
}

func freeUDP(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}
