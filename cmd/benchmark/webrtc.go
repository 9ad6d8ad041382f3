package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/asr"
	"github.com/hotline-ivr/hotline/asr/sphinx"
	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/calls"
	"github.com/hotline-ivr/hotline/config"
	"github.com/hotline-ivr/hotline/internal/rtcclient"
	"github.com/hotline-ivr/hotline/internal/sipload"
	"github.com/hotline-ivr/hotline/telephony/webrtc"
	"github.com/hotline-ivr/hotline/voice"
)

// The in-app call section runs telephony/webrtc behind its HTTP routes in
// this process. Set-up and voice-to-voice use app-side peers in this
// process too (internal/rtcclient: pion, Opus at 48 kHz, the events data
// channel); the concurrency runs drive the server from cmd/rtcload, a
// separate process, so the CPU and memory measured are the server's.

const rtcBenchHeader = "X-Bench-Caller"

// serveRTC serves the call routes on a loopback port until stop.
func serveRTC(h webrtc.CallHandler) (base string, srv *webrtc.Server, stop func(), err error) {
	srv, err = webrtc.New(h, webrtc.WithLoopbackOnly(), webrtc.WithTokenSecret([]byte("bench-secret-0123456789abcdef")),
		webrtc.WithMaxCalls(200), webrtc.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return "", nil, nil, err
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	requireCaller := func(c *gin.Context) {
		if c.GetHeader(rtcBenchHeader) == "" {
			c.AbortWithStatus(http.StatusUnauthorized)
		}
	}
	webrtc.Register(r.Group("/api/v1"), srv, requireCaller, func(c *gin.Context) string { return c.GetHeader(rtcBenchHeader) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = srv.Close()
		return "", nil, nil, err
	}
	hs := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return "http://" + ln.Addr().String() + "/api/v1", srv, func() {
		_ = srv.Close()
		_ = hs.Close()
	}, nil
}

func rtcDial(ctx context.Context, base string, decode bool) (*rtcclient.Peer, error) {
	hdr := http.Header{}
	hdr.Set(rtcBenchHeader, "bench")
	return rtcclient.Dial(ctx, rtcclient.Options{Base: base, Header: hdr, Decode: decode})
}

// benchWebRTC: "In-app calls (WebRTC)".
func benchWebRTC(ctx context.Context, b *bench, w io.Writer) error {
	dir, err := os.MkdirTemp("", "hotline-bench-webrtc-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := rtcPipeline(ctx, b, w, dir); err != nil {
		fmt.Fprintf(w, "\n**Set-up and voice-to-voice not measured: %v**\n", err)
	}
	return rtcConcurrency(ctx, b, w, dir)
}

// rtcPipeline measures set-up and voice-to-voice through calls.Handler
// with the real engines (as benchSIPPipeline does for SIP).
func rtcPipeline(ctx context.Context, b *bench, w io.Writer, dir string) error {
	const questionText = "What are the operator hours?"
	q, err := renderQuestion(ctx, dir, questionText)
	if err != nil {
		return err
	}
	pcm, info, err := audio.ReadWAVFile(q.path)
	if err != nil {
		return err
	}
	if pcm, err = audio.Resample(pcm, info.Rate, audio.Rate48k); err != nil {
		return err
	}
	question, err := rtcclient.Encode(pcm)
	if err != nil {
		return err
	}
	// As hotline serve's defaults: the turn ends early at a short pause
	// when what was said is complete.
	vad := audio.DefaultVADConfig()
	vad.Pause = config.Default().ASR.VAD.EarlyEndpoint
	rec, err := sphinx.New(sphinx.WithMaxStreams(8), sphinx.WithStreamWait(30*time.Second), sphinx.WithVAD(vad))
	if err != nil {
		return err
	}
	defer rec.Close()
	// As cmd/hotline wires in-app calls: live events on the data
	// channel, typed text, no echo gate (the browser cancels echo).
	var active sync.Map
	tune := func(cfg *voice.Config) {
		v, ok := active.Load(cfg.Bot.ID)
		if !ok {
			return
		}
		c := v.(*webrtc.Call)
		cfg.EchoMargin = -1
		cfg.Text = c.Text()
		cfg.OnEvent = func(ev voice.Event) { _ = c.SendEvent(ev) }
	}
	stack, closeStack, err := newCallStack(ctx, dir, func() asr.Recognizer { return rec }, servedCompleter, calls.WithVoiceConfig(tune))
	if err != nil {
		return err
	}
	defer closeStack()
	h, callStore := stack.h, stack.store
	base, _, stop, err := serveRTC(webrtc.HandlerFunc(func(ctx context.Context, c *webrtc.Call) error {
		active.Store(c.ID, c)
		defer active.Delete(c.ID)
		return h.Handle(ctx, c, calls.CallInfo{ID: c.ID, Channel: "webrtc", Codec: c.Codec(), Rate: c.SampleRate()})
	}))
	if err != nil {
		return err
	}
	defer stop()

	// (a) Set-up: sequential calls, each hung up once the greeting is heard.
	n := 20
	if b.quick {
		n = 2
	}
	var ans, conn, first, speech []time.Duration
	var setupErr error
	for i := range n {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p, err := rtcDial(ctx, base, true)
		if err != nil {
			setupErr = err
			continue
		}
		deadline := time.Now().Add(10 * time.Second)
		for p.Timing().FirstSpeech == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		tm := p.Timing()
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_ = p.Hangup(hctx)
		cancel()
		if tm.FirstSpeech == 0 {
			setupErr = fmt.Errorf("call %d: no speech from the bot within 10 s", i)
			continue
		}
		ans, conn, first, speech = append(ans, tm.Answer), append(conn, tm.Connected), append(first, tm.FirstPacket), append(speech, tm.FirstSpeech)
	}
	pp := func(ds []time.Duration) string {
		return msOf(sipload.Percentile(ds, 50)) + " / " + msOf(sipload.Percentile(ds, 95))
	}
	fmt.Fprintf(w, "In-app calls through `telephony/webrtc` and its HTTP routes (WHIP-style: `POST /api/v1/calls` with the SDP offer, candidates trickled by `PATCH`), over 127.0.0.1, answered by `calls.Handler` as `hotline serve` wires it: PocketSphinx (English), eSpeak behind the TTS cache, the embedded nlu and knowledge base, appeals in SQLite. The app side is `internal/rtcclient` (pion, Opus 48 kHz, the `events` data channel) in this process.\n\n")
	fmt.Fprintf(w, "### Call set-up\n\n%d sequential calls (%d completed), each hung up once the bot's first speech arrived. Times are from sending the offer (`POST /calls`); the first packet is the server's first Opus packet (it sends silence from the moment DTLS is up), the first speech-level frame (decoded, ≥ %.0f dBFS) is the start of the recording notice, synthesised by eSpeak (cached after the first call).\n\n", n, len(speech), sipload.SpeechDBFS)
	fmt.Fprintf(w, "| offer → answer (201) p50 / p95 | offer → ICE+DTLS connected | offer → first audio packet | offer → first speech from the bot |\n|---|---|---|---|\n")
	fmt.Fprintf(w, "| %s | %s | %s | %s |\n", pp(ans), pp(conn), pp(first), pp(speech))
	if setupErr != nil {
		fmt.Fprintf(w, "\nFailed set-ups: %v\n", setupErr)
	}
	b.log.Info("webrtc setup", "calls", len(speech), "first_speech_p50", sipload.Percentile(speech, 50))

	// (b) Voice-to-voice.
	fmt.Fprintf(w, "\n### Voice-to-voice\n\nEach caller presses 2 (English) on the data channel (`{\"type\":\"dtmf\",\"digit\":\"2\"}`) as soon as it opens, waits until the bot has been quiet for 1 s, asks %q (rendered once with Festival SLT, %.1f s, sent as Opus at 48 kHz) and listens to the answer. Voice-to-voice has the SIP definition (`internal/sipload`): the arrival of the first speech-level reply packet (decoded Opus ≥ %.0f dBFS) minus the send time of the question's last speech-level packet, both taken by the caller in user space (pion's read, not the kernel's receive time). The breakdown is the server's per-turn record (`calls` store), p50 over the spoken turns.\n\n",
		questionText, q.dur.Seconds(), sipload.SpeechDBFS)
	fmt.Fprintf(w, "| concurrent calls | measured | voice-to-voice p50 / p95 (caller, packets) | server v2v p50 | endpointing | recognition | understanding | waiting | synthesis | recognised right |\n|---|---|---|---|---|---|---|---|---|---|\n")
	levels := []int{1, 5}
	if b.quick {
		levels = []int{2}
	}
	for _, n := range levels {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		since := time.Now()
		var mu sync.Mutex
		var v2v []time.Duration
		var firstErr error
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d, err := rtcAsk(ctx, base, question)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					if firstErr == nil {
						firstErr = fmt.Errorf("caller %d: %w", i, err)
					}
					return
				}
				v2v = append(v2v, d)
			}()
			time.Sleep(200 * time.Millisecond) // 5 calls/s, as in the SIP pipeline
		}
		wg.Wait()
		time.Sleep(500 * time.Millisecond) // records are written after the hang-up
		turns, right, err := spokenTurns(ctx, callStore, since)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "| %d | %d | %s / %s | %s | %d/%d |\n", n, len(v2v),
			msOf(sipload.Percentile(v2v, 50)), msOf(sipload.Percentile(v2v, 95)), turnColumns(turns),
			right, len(turns))
		if firstErr != nil {
			fmt.Fprintf(w, "\n%d of %d callers not measured: %v\n\n", n-len(v2v), n, firstErr)
		}
		b.log.Info("webrtc v2v", "calls", n, "measured", len(v2v), "p50", sipload.Percentile(v2v, 50), "err", firstErr)
	}
	fmt.Fprintf(w, "\nThe columns after the caller's number are as in \"Phone calls: full pipeline\". The caller's number adds Opus packetisation and pion's receive path on both legs; there is no jitter buffer on the client side here (a browser adds its own).\n")
	return nil
}

// rtcAsk runs one caller's script and returns its voice-to-voice time.
func rtcAsk(ctx context.Context, base string, question []rtcclient.Frame) (time.Duration, error) {
	p, err := rtcDial(ctx, base, true)
	if err != nil {
		return 0, err
	}
	defer func() {
		hctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = p.Hangup(hctx)
		cancel()
	}()
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := p.WaitDataChannel(cctx); err != nil {
		return 0, fmt.Errorf("data channel: %w", err)
	}
	if err := p.Key("2"); err != nil {
		return 0, err
	}
	// Quiet for 1 s: the notice and the greeting are over.
	waitQuiet := func(limit time.Time) {
		start := time.Now()
		for time.Now().Before(limit) && ctx.Err() == nil {
			last := p.LastSpeech()
			if last.Before(start) {
				last = start
			}
			if time.Since(last) >= time.Second {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitQuiet(time.Now().Add(30 * time.Second))
	from := p.SentCount()
	p.Play(question)
	for p.Queued() > 0 && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	asked := time.Now()
	limit := asked.Add(30 * time.Second)
	for p.LastSpeech().Before(asked) && time.Now().Before(limit) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	waitQuiet(limit)
	sent, recv := p.Timeline()
	d, _, ok := sipload.VoiceToVoice(sent, from, recv)
	if !ok {
		return 0, errors.New("no reply heard after the question")
	}
	return d, nil
}

// rtcStats sums the server side's counters over the plumbing calls.
type rtcStats struct {
	mu                        sync.Mutex
	calls                     int
	in, lost, dropped, silent int64
	out                       int64
}

func (s *rtcStats) add(st webrtc.Stats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.in += st.PacketsIn
	s.lost += st.PacketsLost
	s.dropped += st.FramesDropped
	s.silent += st.FramesSilent
	s.out += st.FramesOut
}

func (s *rtcStats) snapshot() rtcStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return rtcStats{calls: s.calls, in: s.in, lost: s.lost, dropped: s.dropped, silent: s.silent, out: s.out}
}

// rtcPlumbing is the media-only handler for in-app calls: the receive
// path before recognition (Opus decoding in the call, 48 → 16 kHz, VAD)
// and a tone played back for the whole call (Opus encoding in the call).
func rtcPlumbing(st *rtcStats) webrtc.CallHandler {
	return webrtc.HandlerFunc(func(ctx context.Context, c *webrtc.Call) error {
		defer func() { st.add(c.Stats()) }()
		rs, err := audio.NewResampler(c.SampleRate(), audio.Rate16k)
		if err != nil {
			return err
		}
		vad := audio.NewVAD(audio.DefaultVADConfig())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			tone := toneFrames(c.SampleRate(), 50)
			for i := 0; ; i++ {
				if c.WriteFrame(tone[i%len(tone)]) != nil {
					return
				}
			}
		}()
		defer wg.Wait()
		var buf []int16
		for {
			f, err := c.ReadFrame()
			if err != nil {
				return nil
			}
			buf = rs.ProcessTo(buf[:0], f.Samples)
			vad.Process(audio.Frame{Rate: audio.Rate16k, Samples: buf})
		}
	})
}

// rtcLoadReport mirrors cmd/rtcload's Report.
type rtcLoadReport struct {
	Calls, Answered, Connected, Failed int
	FirstErr                           string
	ConnectP50, ConnectP95             time.Duration
	Rx                                 sipload.RxStats
	Sent                               int
	Wall                               time.Duration
}

func rtcConcurrency(ctx context.Context, b *bench, w io.Writer, dir string) error {
	bin := filepath.Join(dir, "rtcload")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/rtcload").CombinedOutput(); err != nil {
		return fmt.Errorf("building cmd/rtcload: %v\n%s", err, out)
	}
	loop, err := callerLoop(dir)
	if err != nil {
		return err
	}
	var st rtcStats
	base, srv, stop, err := serveRTC(rtcPlumbing(&st))
	if err != nil {
		return err
	}
	defer stop()
	const rate = 20.0
	const window = 8 * time.Second
	fmt.Fprintf(w, "\n### Concurrent calls\n\nConcurrent in-app calls with audio both ways: the server's handler runs the audio path the pipeline runs before recognition (SRTP, Opus decoding at 48 kHz in the call, resampling to 16 kHz, VAD) and plays a tone back (Opus encoding, paced at 20 ms). The callers (`cmd/rtcload`, a separate process: pion peers sending recorded speech as Opus in a loop, set up at %.0f/s) hold each call for the ramp plus 12 s; the server's CPU and memory are sampled over %v with all calls up and are the benchmark process's own. Late: more than %v between consecutive packets at the caller.\n\n", rate, window, sipload.LateGap)
	fmt.Fprintf(w, "| concurrent calls | connected | connect p50 / p95 (offer → DTLS) | server CPU (of 1 core) | CPU per call | calls per core | RSS per call | goroutines per call | server→caller received / lost / late (max gap) | caller→server lost / dropped / silent frames | load tool CPU | load average (1 min) |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	levels := []int{25, 50, 100}
	if b.quick {
		levels = []int{5}
	}
	for _, n := range levels {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		ramp := time.Duration(float64(n) / rate * float64(time.Second))
		// Each caller holds from its own connection: all n are up from
		// the end of the ramp until the first one hangs up.
		hold := ramp + 12*time.Second
		if b.quick {
			hold = ramp + 6*time.Second
		}
		before := sampleProc(true)
		st0 := st.snapshot()
		type win struct {
			a, z    procSample
			up, up2 int
		}
		winC := make(chan win, 1)
		go func() {
			t := time.NewTimer(ramp + 2*time.Second)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				winC <- win{}
				return
			}
			a, up := sampleProc(false), srv.ActiveCalls()
			d := window
			if b.quick {
				d = 2 * time.Second
			}
			time.Sleep(d)
			winC <- win{a, sampleProc(false), up, srv.ActiveCalls()}
		}()
		out := filepath.Join(dir, "rtcload.json")
		os.Remove(out)
		cmd := exec.CommandContext(ctx, bin, "-base", base, "-header", rtcBenchHeader+": load", "-calls", strconv.Itoa(n),
			"-rate", fmt.Sprint(rate), "-hold", hold.String(), "-loop", loop, "-json", out, "-max-duration", "2m")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		start := time.Now()
		runErr := cmd.Run()
		wall := time.Since(start)
		wn := <-winC
		var rep rtcLoadReport
		raw, rerr := os.ReadFile(out)
		if rerr == nil {
			rerr = json.Unmarshal(raw, &rep)
		}
		if rerr != nil {
			fmt.Fprintf(w, "| %d | failed: %v %v %s | | | | | | | | | | |\n", n, runErr, rerr, strings.TrimSpace(stderr.String()))
			continue
		}
		var loadCPU time.Duration
		if cmd.ProcessState != nil {
			loadCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
		time.Sleep(2 * time.Second) // the last calls' teardown
		s := st.snapshot()
		upN := float64(max(min(wn.up, wn.up2), 1))
		cpu := cpuPct(wn.a, wn.z)
		perCall := cpu / upN
		fmt.Fprintf(w, "| %d | %d | %s / %s | %.0f%% | %.2f%% | %.0f | %s | %.1f | %d / %d / %d (%s) | %d / %d / %d | %.0f%% | %s |\n",
			n, rep.Connected, msOf(rep.ConnectP50), msOf(rep.ConnectP95), cpu, perCall, 100/perCall,
			kib(uint64(max(0, int64(wn.a.rss)-int64(before.rss)))/uint64(upN)),
			float64(wn.a.goroutines-before.goroutines)/upN,
			rep.Rx.Received, rep.Rx.Lost, rep.Rx.Late, msOf(rep.Rx.MaxGap),
			s.lost-st0.lost, s.dropped-st0.dropped, s.silent-st0.silent,
			100*float64(loadCPU)/float64(wall), loadAvg())
		if min(wn.up, wn.up2) < n {
			fmt.Fprintf(w, "\nAt %d: only %d–%d calls were up during the window (per-call numbers divide by the smaller).\n\n", n, min(wn.up, wn.up2), max(wn.up, wn.up2))
		}
		if rep.Failed > 0 {
			fmt.Fprintf(w, "\n%d calls failed at %d concurrent: %s\n\n", rep.Failed, n, rep.FirstErr)
		}
		b.log.Info("webrtc load", "calls", n, "up", wn.up, "cpu%", int(cpu), "late_rx", rep.Rx.Late, "lost_rx", rep.Rx.Lost, "err", rep.FirstErr)
	}
	fmt.Fprintf(w, "\nCalls per core is 100%% divided by the CPU per call (one core's worth of this audio path). RSS per call is the growth of the server's resident memory with all calls up, divided by the calls up. The load tool runs on the same cores and competes with the server for them; its CPU is per wall second of its run. The load average is the machine's at the end of the level: above 2 (the cores), other work competed with the server, and its late frames and per-call numbers are pessimistic; a level where fewer calls than asked were up during the window was starved (calls still connecting or already hung up) and its calls per core is not meaningful.\n")
	return nil
}

// loadAvg is the machine's 1-minute load average (other work included).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}
