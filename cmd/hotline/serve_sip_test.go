package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/calls"
	"github.com/hotline-ivr/hotline/telephony/codec"
	"github.com/hotline-ivr/hotline/telephony/media"
	"github.com/hotline-ivr/hotline/tts"
	"github.com/hotline-ivr/hotline/tts/festival"
)

// festivalSpeech renders English text with Festival's SLT voice, the
// voice PocketSphinx recognises best.
func festivalSpeech(t *testing.T, text string, rate int) []int16 {
	t.Helper()
	e, err := festival.New()
	if err != nil {
		t.Skipf("festival is not available: %v", err)
	}
	defer e.Close()
	st, err := e.Synthesize(context.Background(), tts.Request{Text: text, Lang: "en", Rate: rate})
	if err != nil {
		t.Fatal(err)
	}
	pcm, _, err := tts.ReadAll(st)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// heardFrame is one 20 ms of the bot's audio and when it arrived.
type heardFrame struct {
	at  time.Time
	dbf float64
}

// sipCaller is a softphone in the test: a sipgo UAC and a media.Session
// sending G.722 (silence unless it is saying something) and recording
// what it hears.
type sipCaller struct {
	t      *testing.T
	ua     *sipgo.UserAgent
	dc     *sipgo.DialogClientCache
	dialog *sipgo.DialogClientSession
	sess   *media.Session
	byes   chan struct{}

	mu     sync.Mutex
	heard  []heardFrame
	speech [][]int16
	wg     sync.WaitGroup
	stop   chan struct{}
}

func dialBot(t *testing.T, sipAddr, user, codecName string) *sipCaller {
	t.Helper()
	c := &sipCaller{t: t, byes: make(chan struct{}, 1), stop: make(chan struct{})}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	c.ua, _ = sipgo.NewUA(sipgo.WithUserAgent("test-caller"), sipgo.WithUserAgentHostname("127.0.0.1"))
	srv, _ := sipgo.NewServer(c.ua)
	client, _ := sipgo.NewClient(c.ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(port))
	c.dc = sipgo.NewDialogClientCache(client, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "caller", Host: "127.0.0.1", Port: port}})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		select {
		case c.byes <- struct{}{}:
		default:
		}
		if err := c.dc.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "No dialog", nil))
		}
	})
	go srv.ServeUDP(conn)

	cd, err := codec.New(codecName)
	if err != nil {
		t.Fatal(err)
	}
	rtpC, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	rtcpC, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c.sess, err = media.NewSession(media.Config{Codec: cd, DTMFPayloadType: 101, RTP: rtpC, RTCP: rtcpC})
	if err != nil {
		t.Fatal(err)
	}
	offer := fmt.Sprintf("v=0\r\no=- 42 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP %d 101\r\na=rtpmap:%d %s/8000\r\n"+
		"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n",
		c.sess.LocalPort(), map[string]int{"G722": 9, "PCMU": 0, "PCMA": 8}[codecName], map[string]int{"G722": 9, "PCMU": 0, "PCMA": 8}[codecName], codecName)
	ap := netip.MustParseAddrPort(sipAddr)
	uri := sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: int(ap.Port())}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.dialog, err = c.dc.Invite(ctx, uri, []byte(offer), sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.dialog.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatalf("the bot did not answer: %v", err)
	}
	if err := c.dialog.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	c.sess.SetRemote(sdpRemote(t, c.dialog.InviteResponse.Body()))
	c.wg.Add(2)
	go c.listen()
	go c.talk()
	t.Cleanup(func() {
		c.hangup()
		c.ua.Close()
		conn.Close()
	})
	return c
}

// sdpRemote reads the answer's connection address and audio port.
func sdpRemote(t *testing.T, body []byte) netip.AddrPort {
	t.Helper()
	ip := regexp.MustCompile(`c=IN IP4 (\S+)`).FindSubmatch(body)
	port := regexp.MustCompile(`m=audio (\d+) `).FindSubmatch(body)
	if ip == nil || port == nil {
		t.Fatalf("SDP answer without address:\n%s", body)
	}
	p, _ := strconv.Atoi(string(port[1]))
	return netip.AddrPortFrom(netip.MustParseAddr(string(ip[1])), uint16(p))
}

func (c *sipCaller) listen() {
	defer c.wg.Done()
	for {
		f, err := c.sess.ReadFrame()
		if err != nil {
			return
		}
		c.mu.Lock()
		c.heard = append(c.heard, heardFrame{at: time.Now(), dbf: audio.RMSdBFS(f.Samples)})
		c.mu.Unlock()
	}
}

// talk sends the queued speech, silence in between: a phone sends RTP
// all the time.
func (c *sipCaller) talk() {
	defer c.wg.Done()
	rate := c.sess.SampleRate()
	n := audio.SamplesPerFrame(rate)
	for {
		select {
		case <-c.stop:
			return
		default:
		}
		c.mu.Lock()
		var f []int16
		if len(c.speech) > 0 {
			f, c.speech = c.speech[0], c.speech[1:]
		}
		c.mu.Unlock()
		if f == nil {
			f = make([]int16, n)
		}
		if err := c.sess.WriteFrame(audio.Frame{Rate: rate, Samples: f}); err != nil {
			return
		}
	}
}

// say queues pcm (16 kHz) and returns when it has all been sent.
func (c *sipCaller) say(pcm []int16) {
	n := audio.SamplesPerFrame(16000)
	c.mu.Lock()
	for i := 0; i < len(pcm); i += n {
		f := make([]int16, n)
		copy(f, pcm[i:min(i+n, len(pcm))])
		c.speech = append(c.speech, f)
	}
	c.mu.Unlock()
	for {
		c.mu.Lock()
		left := len(c.speech)
		c.mu.Unlock()
		if left == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// loudSince counts frames at speech level heard after t.
func (c *sipCaller) loudSince(t time.Time) (frames, loud int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range c.heard {
		if h.at.After(t) {
			frames++
			if h.dbf > -40 {
				loud++
			}
		}
	}
	return
}

// waitSpeaking waits for the bot's voice after t.
func (c *sipCaller) waitSpeaking(t time.Time, timeout time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, loud := c.loudSince(t); loud >= 5 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatalf("the bot said nothing within %s", timeout)
}

// waitQuiet waits until the bot has been silent for gap.
func (c *sipCaller) waitQuiet(gap, timeout time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		if _, loud := c.loudSince(time.Now().Add(-gap)); loud == 0 {
			return
		}
	}
	c.t.Fatalf("the bot did not stop speaking within %s", timeout)
}

func (c *sipCaller) hangup() {
	select {
	case <-c.stop:
		return
	default:
	}
	close(c.stop)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.dialog.Bye(ctx)
	c.sess.Close()
	c.wg.Wait()
}

// getCall reads /api/v1/calls/:id until the call has ended.
func getCall(t *testing.T, s *session, id string) calls.Call {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := s.hc.Get(s.base + "/api/v1/calls/" + id)
		if err != nil {
			t.Fatal(err)
		}
		var c calls.Call
		err = json.NewDecoder(resp.Body).Decode(&c)
		resp.Body.Close()
		if resp.StatusCode == 200 && err == nil && c.EndedAt != nil {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("call %s: %d %v %+v", id, resp.StatusCode, err, c)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func logTurns(t *testing.T, c calls.Call) {
	for _, tr := range c.Turns {
		t.Logf("%-6s %q intent=%s v2v=%dms (endpointing %d, recognition %d, understanding %d, waiting %d, synthesis %d)",
			tr.Speaker, tr.Text, tr.Intent, tr.VoiceToVoiceMs, tr.EndpointingMs, tr.RecognitionMs, tr.UnderstandingMs,
			tr.WaitingMs, tr.SynthesisMs)
	}
}

// TestPhoneCallEndToEnd: a G.722 call to the real serve; the caller
// presses 2 for English during the greeting, asks a question spoken by
// Festival, hears the answer and hangs up in the middle of it. The call
// record has the recognised question, the answer and the turn's timings.
func TestPhoneCallEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy: real SIP call through speech recognition and synthesis")
	}
	question := festivalSpeech(t, "What are the operator hours?", 16000)
	dataDir := t.TempDir()
	sipAddr := freeAddr(t)
	base, logs := startServe(t, "--data", dataDir, "--sip", sipAddr)
	s := loginAdmin(t, base, dataDir)
	if code, body := getJSON(t, base+"/readyz"); code != 200 {
		t.Fatalf("/readyz = %d %v", code, body)
	}
	before := runtime.NumGoroutine()

	c := dialBot(t, sipAddr, "hotline", "G722")
	start := time.Now()
	c.waitSpeaking(start, 10*time.Second)
	time.Sleep(500 * time.Millisecond)
	if err := c.sess.SendDTMF('2', 0); err != nil {
		t.Fatal(err)
	}
	c.waitQuiet(800*time.Millisecond, 40*time.Second)
	asked := time.Now()
	c.say(question)
	said := time.Now()
	c.waitSpeaking(said, 15*time.Second)
	time.Sleep(1500 * time.Millisecond) // into the answer, then hang up
	frames, loud := c.loudSince(said)
	c.hangup()
	t.Logf("question %.1fs; reply audio so far: %d frames, %d at speech level", time.Since(asked).Seconds(), frames, loud)
	if loud < 20 {
		t.Errorf("reply audio: %d frames, %d at speech level", frames, loud)
	}

	rec := getCall(t, s, c.dialog.InviteRequest.CallID().Value())
	logTurns(t, rec)
	if rec.Reason != "hangup" || rec.Channel != "sip" || rec.Codec != "G722" || rec.Lang != "en" {
		t.Errorf("call record: reason %q channel %q codec %q lang %q", rec.Reason, rec.Channel, rec.Codec, rec.Lang)
	}
	if strings.Contains(rec.Caller, "9161234") {
		t.Errorf("caller number stored unmasked: %q", rec.Caller)
	}
	if rec.FramesOut < 100 || rec.PacketsOut < 100 || rec.PacketsIn < 100 {
		t.Errorf("media counts: frames out %d, packets in %d out %d", rec.FramesOut, rec.PacketsIn, rec.PacketsOut)
	}
	var q *calls.Turn
	var answer string
	for i, tr := range rec.Turns {
		low := strings.ToLower(tr.Text)
		if tr.Speaker == "caller" && (strings.Contains(low, "operator") || strings.Contains(low, "hours")) {
			q = &rec.Turns[i]
		}
		if q != nil && tr.Speaker == "bot" && answer == "" {
			answer = tr.Text
		}
	}
	if q == nil {
		t.Fatalf("the question is not in the transcript")
	}
	t.Logf("partial results of the question: %+v", q.Partials)
	if len(q.Partials) == 0 {
		t.Errorf("the question turn has no partial results")
	}
	if q.VoiceToVoiceMs <= 0 || q.EndpointingMs <= 0 || q.VoiceToVoiceMs > 5000 {
		t.Errorf("question turn timings: %+v", *q)
	}
	if !strings.Contains(answer, "Monday to Friday") {
		t.Errorf("the bot's answer %q is not the operator hours", answer)
	}
	// The list shows it too.
	resp, err := s.hc.Get(base + "/api/v1/calls?channel=sip")
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ Calls []calls.Call }
	_ = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Calls) != 1 || list.Calls[0].ID != rec.ID {
		t.Errorf("call list = %+v", list)
	}
	// Everything the call started has stopped.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+3 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+3 {
		t.Errorf("goroutines: %d before the call, %d after", before, n)
	}
	if !strings.Contains(logs.String(), `"msg":"call ended"`) {
		t.Errorf("no call-ended log line")
	}
}

// TestPhoneCallKeysPCMU: a PCMU caller with no speech at all: 1 picks
// Russian (no Russian recogniser here, so keys only), * repeats the
// bot's last prompt; the bot's audio is checked by timing and level,
// the record by its key turns.
func TestPhoneCallKeysPCMU(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy: real SIP call")
	}
	dataDir := t.TempDir()
	sipAddr := freeAddr(t)
	base, _ := startServe(t, "--data", dataDir, "--sip", sipAddr)
	s := loginAdmin(t, base, dataDir)

	c := dialBot(t, sipAddr, "8800", "PCMU")
	start := time.Now()
	c.waitSpeaking(start, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	if err := c.sess.SendDTMF('1', 0); err != nil {
		t.Fatal(err)
	}
	c.waitQuiet(800*time.Millisecond, 40*time.Second)
	pressed := time.Now()
	if err := c.sess.SendDTMF('*', 0); err != nil {
		t.Fatal(err)
	}
	c.waitSpeaking(pressed, 5*time.Second)
	c.waitQuiet(800*time.Millisecond, 40*time.Second)
	frames, loud := c.loudSince(pressed)
	c.hangup()
	t.Logf("after *: %d frames, %d at speech level", frames, loud)
	if loud < 50 {
		t.Errorf("the repeat was %d loud frames", loud)
	}
	rec := getCall(t, s, c.dialog.InviteRequest.CallID().Value())
	logTurns(t, rec)
	var keys []string
	for _, tr := range rec.Turns {
		if tr.Speaker == "caller" {
			keys = append(keys, tr.Text)
		}
	}
	if rec.Codec != "PCMU" || rec.Lang != "ru" || rec.Reason != "hangup" || strings.Join(keys, ",") != "[DTMF 1],[DTMF *]" {
		t.Errorf("record: codec %q lang %q reason %q caller turns %q", rec.Codec, rec.Lang, rec.Reason, keys)
	}
}
