package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/appeal/sqlitestore"
	"github.com/hotline-ivr/hotline/asr"
	"github.com/hotline-ivr/hotline/asr/sphinx"
	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/bot"
	"github.com/hotline-ivr/hotline/bot/adapters"
	"github.com/hotline-ivr/hotline/calls"
	"github.com/hotline-ivr/hotline/config"
	"github.com/hotline-ivr/hotline/internal/sipload"
	"github.com/hotline-ivr/hotline/nlu"
	"github.com/hotline-ivr/hotline/store"
	"github.com/hotline-ivr/hotline/telephony/sip"
	"github.com/hotline-ivr/hotline/tts"
	"github.com/hotline-ivr/hotline/tts/espeak"
	"github.com/hotline-ivr/hotline/tts/festival"
)

// The phone-call sections run a SIP server in this process and drive it
// with cmd/sipload as a separate process, so the CPU time and memory
// measured here are the server's alone (the load generator's own CPU is
// reported beside them). Everything goes over 127.0.0.1.

// loadTool builds cmd/sipload into dir.
func loadTool(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "sipload")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/sipload")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building cmd/sipload: %v\n%s", err, out)
	}
	return bin, nil
}

// loadRun is one sipload run: its report and the CPU it used itself.
type loadRun struct {
	rep sipload.Report
	cpu time.Duration
}

func runLoad(ctx context.Context, bin, dir string, args ...string) (loadRun, error) {
	out := filepath.Join(dir, "sipload.json")
	os.Remove(out)
	cmd := exec.CommandContext(ctx, bin, append(args, "-json", out, "-max-duration", "3m")...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	err := cmd.Run()
	var lr loadRun
	if cmd.ProcessState != nil {
		lr.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	b, rerr := os.ReadFile(out)
	if rerr != nil {
		return lr, fmt.Errorf("sipload %s: %v (%v)", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return lr, json.Unmarshal(b, &lr.rep)
}

// serveSIP runs a SIP server on loopback with handler h until the
// returned stop is called.
func serveSIP(ctx context.Context, h sip.CallHandler, log *slog.Logger) (addr string, stop func(), err error) {
	srv, err := sip.NewServer(h, sip.WithListen("udp", "127.0.0.1:0"), sip.WithRTP("127.0.0.1", 20000, 29999),
		sip.WithLogger(log), sip.WithShutdownGrace(2*time.Second))
	if err != nil {
		return "", nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(sctx)
	}()
	for range 200 {
		if a, ok := srv.Addr("udp").(*net.UDPAddr); ok && a != nil {
			return a.String(), func() { cancel(); <-done }, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	return "", nil, errors.New("sip server did not start")
}

// serverStats sums the server side's media counters over calls: what it
// received from the callers (loss, late packets, concealment).
type serverStats struct {
	mu                    sync.Mutex
	calls                 int
	received, sent        uint64
	lost                  int64
	late, concealed, drop uint64
}

func (s *serverStats) add(st sip.Stats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.received += st.PacketsReceived
	s.sent += st.PacketsSent
	s.lost += st.Lost
	s.late += st.Late
	s.concealed += st.Concealed
	s.drop += st.Dropped
}

func (s *serverStats) snapshot() serverStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return serverStats{calls: s.calls, received: s.received, sent: s.sent, lost: s.lost, late: s.late,
		concealed: s.concealed, drop: s.drop}
}

// plumbing is the media-only handler: it runs the receive path the voice
// pipeline runs before recognition (jitter buffer and decoding in the
// call, resampling to the recogniser's 16 kHz, VAD) and plays a tone back
// for the whole call, so RTP flows both ways.
type plumbing struct{ st serverStats }

func (p *plumbing) HandleCall(ctx context.Context, c *sip.Call) error {
	defer func() { p.st.add(c.Stats()) }()
	rate := c.SampleRate()
	var rs *audio.Resampler
	if rate != audio.Rate16k {
		var err error
		if rs, err = audio.NewResampler(rate, audio.Rate16k); err != nil {
			return err
		}
	}
	vad := audio.NewVAD(audio.DefaultVADConfig())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tone := toneFrames(rate, 50)
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
		if rs != nil {
			buf = rs.ProcessTo(buf[:0], f.Samples)
			f = audio.Frame{Rate: audio.Rate16k, Samples: buf}
		}
		vad.Process(f)
	}
}

func toneFrames(rate, frames int) []audio.Frame {
	s := make([]int16, frames*audio.SamplesPerFrame(rate))
	for i := range s {
		s[i] = int16(6000 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
	}
	return audio.Split(s, rate)
}

// procSample is this process's footprint at one moment.
type procSample struct {
	at         time.Time
	cpu        time.Duration
	goroutines int
	fds        int
	heap, rss  uint64
}

func sampleProc(gc bool) procSample {
	s := procSample{at: time.Now(), cpu: cpuTime(), goroutines: runtime.NumGoroutine(), fds: openFDs()}
	if gc {
		s.heap, s.rss = memNow()
	} else {
		s.rss = uint64(rssKB()) << 10
	}
	return s
}

func openFDs() int {
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(es)
}

func cpuPct(a, b procSample) float64 {
	return 100 * float64(b.cpu-a.cpu) / float64(b.at.Sub(a.at))
}

// benchSIPPlumbing: "Phone calls: media plumbing".
func benchSIPPlumbing(ctx context.Context, b *bench, w io.Writer) error {
	dir, bin, cleanup, err := loadToolDir(ctx, "hotline-bench-sip-")
	if err != nil {
		return err
	}
	defer cleanup()
	loop, err := callerLoop(dir)
	if err != nil {
		return err
	}
	p := &plumbing{}
	addr, stop, err := serveSIP(ctx, p, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer stop()

	fmt.Fprintf(w, "Concurrent SIP calls with RTP both ways through `telephony/sip`: the server's handler runs the audio path the pipeline runs before recognition (jitter buffer, decoding, resampling to 16 kHz, VAD) and plays a tone back; the callers (`cmd/sipload`, a separate process, audio encoded once and shared) stream recorded speech in a loop. Calls are set up at 50/s and held so that all of them are up together for about 9 s; CPU and memory are sampled over that window and are the server process's alone. Late: more than %v between consecutive packets at the caller; on the server, packets the jitter buffer got too late to play.\n\n", sipload.LateGap)
	fmt.Fprintf(w, "| concurrent calls | codec | answered | set-up p50 / p95 | server CPU (of 1 core) | CPU per call | RSS per call | goroutines per call | server→caller lost / late (max gap) | caller→server lost / late / concealed | load tool CPU |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	type level struct {
		n     int
		codec string
	}
	// G.722 is what trunks offering it get (and what the server
	// prefers); PCMU shows the same load without the C codec's cost.
	levels := []level{{100, "g722"}, {250, "g722"}, {500, "g722"}, {500, "pcmu"}}
	if b.quick {
		levels = []level{{20, "g722"}}
	}
	const rate = 50.0
	for _, lv := range levels {
		n := lv.n
		if ctx.Err() != nil {
			return ctx.Err()
		}
		ramp := time.Duration(float64(n) / rate * float64(time.Second))
		hold := ramp + 10*time.Second
		before := sampleProc(true)
		st0 := p.st.snapshot()
		type window struct{ a, b procSample }
		winC := make(chan window, 1)
		go func() {
			// All n calls are up from ramp until the first one ends.
			t := time.NewTimer(ramp + 1500*time.Millisecond)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				winC <- window{}
				return
			}
			a := sampleProc(false)
			time.Sleep(7 * time.Second)
			winC <- window{a, sampleProc(false)}
		}()
		lr, err := runLoad(ctx, bin, dir, "-target", addr, "-calls", strconv.Itoa(n), "-total", strconv.Itoa(n),
			"-rate", fmt.Sprint(rate), "-codec", lv.codec, "-hold", hold.String(), "-loop", loop)
		win := <-winC
		if err != nil {
			fmt.Fprintf(w, "| %d | %s | failed: %v | | | | | | | | |\n", n, lv.codec, err)
			continue
		}
		st := p.st.snapshot()
		s := lr.rep.Summary
		active := float64(s.Answered)
		cpu := cpuPct(win.a, win.b)
		fmt.Fprintf(w, "| %d | %s | %d | %s / %s | %.0f%% | %.2f%% | %s | %.1f | %d / %d (%s) | %d / %d / %d | %.0f%% |\n",
			n, strings.ToUpper(lv.codec), s.Answered, msOf(s.SetupP50), msOf(s.SetupP95), cpu, cpu/max(active, 1),
			kib(uint64(max(0, int64(win.a.rss)-int64(before.rss)))/uint64(max(s.Answered, 1))),
			float64(win.a.goroutines-before.goroutines)/max(active, 1),
			s.Rx.Lost, s.Rx.Late, msOf(s.Rx.MaxGap),
			st.lost-st0.lost, st.late-st0.late, st.concealed-st0.concealed,
			100*float64(lr.cpu)/float64(lr.rep.Wall))
		b.log.Info("plumbing", "calls", n, "codec", lv.codec, "answered", s.Answered, "cpu%", int(cpu), "late_rx", s.Rx.Late, "err", s.FirstErr)
		if s.Failed > 0 {
			fmt.Fprintf(w, "\n%d calls failed at %d concurrent: %s\n\n", s.Failed, n, s.FirstErr)
		}
		time.Sleep(2 * time.Second) // let the last calls' teardown finish
	}
	fmt.Fprintf(w, "\nRSS per call is the growth of the server's resident memory with all calls up, divided by the calls. The load tool runs on the same two cores and competes with the server for them.\n")
	if err := sippRow(ctx, w, addr); err != nil {
		fmt.Fprintf(w, "\nSIPp: not measured: %v\n", err)
	}
	return nil
}

// callerLoop is what the callers stream: a few seconds of speech (eSpeak;
// any speech-like audio exercises the VAD the same way), as a WAV file.
func callerLoop(dir string) (string, error) {
	e, err := espeak.New()
	if err != nil {
		return "", err
	}
	defer e.Close()
	st, err := e.Synthesize(context.Background(), tts.Request{Text: "I would like to know the status of my application, please.", Lang: "en", Rate: audio.Rate16k})
	if err != nil {
		return "", err
	}
	pcm, _, err := tts.ReadAll(st)
	if err != nil {
		return "", err
	}
	pcm = append(pcm, make([]int16, audio.Rate16k/2)...) // a pause between sentences
	path := filepath.Join(dir, "loop.wav")
	return path, audio.WriteWAVFile(path, pcm, audio.Rate16k)
}

// sippRow sets up calls with SIPp's built-in uac scenario: signalling
// only (SIPp's default scenario sends no RTP; the server still sends its
// RTP to SIPp's media port for each call).
func sippRow(ctx context.Context, w io.Writer, addr string) error {
	path, err := exec.LookPath("sipp")
	if err != nil {
		return errors.New("sipp is not installed (Debian sip-tester)")
	}
	dir, err := os.MkdirTemp("", "hotline-bench-sipp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	port, err := freeUDPPort()
	if err != nil {
		return err
	}
	mport, err := freeUDPPort()
	if err != nil {
		return err
	}
	const total, rate, limit = 600, 100, 300
	stat := filepath.Join(dir, "stat.csv")
	before := sampleProc(false)
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, path, "-sn", "uac", addr, "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-mp", strconv.Itoa(mport),
		"-r", strconv.Itoa(rate), "-l", strconv.Itoa(limit), "-m", strconv.Itoa(total), "-d", "2000",
		"-timeout", "50", "-timeout_error", "-trace_stat", "-stf", stat, "-fd", "1", "-nostdin")
	cmd.Dir = dir
	start := time.Now()
	// SIPp exits non-zero when any call failed: the counts say how many.
	out, runErr := cmd.CombinedOutput()
	ok, failed := sippCounts(stat)
	if ok+failed == 0 {
		return fmt.Errorf("sipp: %v: %s", runErr, lastLine(out))
	}
	after := sampleProc(false)
	el := time.Since(start)
	fmt.Fprintf(w, "\nSIPp (`sipp -sn uac -r %d -l %d -m %d -d 2000`, signalling only: its default scenario sends no RTP): %d calls completed, %d failed in %s; server CPU %.0f%% of one core during the run.\n",
		rate, limit, total, ok, failed, el.Round(100*time.Millisecond), cpuPct(before, after))
	return nil
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

func sippCounts(statFile string) (ok, failed int) {
	b, err := os.ReadFile(statFile)
	if err != nil {
		return 0, 0
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		return 0, 0
	}
	head := strings.Split(lines[0], ";")
	last := strings.Split(lines[len(lines)-1], ";")
	for i, h := range head {
		if i >= len(last) {
			break
		}
		v, _ := strconv.Atoi(strings.TrimSpace(last[i]))
		switch h {
		case "SuccessfulCall(C)":
			ok = v
		case "FailedCall(C)":
			failed = v
		}
	}
	return ok, failed
}

func freeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

func msOf(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/1e6) }

// benchSIPPipeline: "Phone calls: full pipeline". Real engines behind
// calls.Handler as `hotline serve` wires them: PocketSphinx (English),
// eSpeak behind the TTS cache, the embedded nlu and knowledge base,
// appeals in SQLite, the handoff center.
func benchSIPPipeline(ctx context.Context, b *bench, w io.Writer) error {
	dir, bin, cleanup, err := loadToolDir(ctx, "hotline-bench-sipfull-")
	if err != nil {
		return err
	}
	defer cleanup()
	const questionText = "What are the operator hours?"
	question, err := renderQuestion(ctx, dir, questionText)
	if err != nil {
		return err
	}
	// rate is calls set up per second: at 5/s all callers ask within
	// two seconds of each other (the worst case for the recogniser); at
	// 1/s the questions are a second apart, as independent callers' are.
	// A shorter VAD hangover shows what endpointing costs; early is the
	// semantic endpoint (asr.vad.early_endpoint): the turn ends at that
	// short pause when the nlu finds the question complete.
	type level struct {
		n        int
		rate     string
		hangover time.Duration
		early    time.Duration
	}
	type vadKey struct{ hangover, early time.Duration }
	def := audio.DefaultVADConfig().Hangover
	// The first three are hotline serve's defaults (early endpoint on);
	// the last two show what the hangover alone costs.
	early := config.Default().ASR.VAD.EarlyEndpoint
	levels := []level{{1, "5", def, early}, {10, "5", def, early}, {10, "1", def, early},
		{10, "1", def, 0}, {10, "1", 300 * time.Millisecond, 0}}
	if b.quick {
		levels = levels[:1]
	}
	recs := map[vadKey]*sphinx.Engine{}
	for _, lv := range levels {
		k := vadKey{lv.hangover, lv.early}
		if recs[k] != nil {
			continue
		}
		vad := audio.DefaultVADConfig()
		vad.Hangover, vad.Pause = lv.hangover, lv.early
		rec, err := sphinx.New(sphinx.WithMaxStreams(24), sphinx.WithStreamWait(30*time.Second), sphinx.WithVAD(vad))
		if err != nil {
			return err
		}
		defer rec.Close()
		recs[k] = rec
	}
	var active atomic.Pointer[sphinx.Engine]
	// As hotline serve wires it: only engines with a VAD Pause end turns early.
	stack, closeStack, err := newCallStack(ctx, dir, func() asr.Recognizer { return active.Load() }, servedCompleter)
	if err != nil {
		return err
	}
	defer closeStack()
	h, callStore := stack.h, stack.store
	var st serverStats
	inner := calls.SIPHandler(h)
	handler := sip.HandlerFunc(func(ctx context.Context, c *sip.Call) error {
		defer func() { st.add(c.Stats()) }()
		return inner.HandleCall(ctx, c)
	})
	addr, stop, err := serveSIP(ctx, handler, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer stop()

	fmt.Fprintf(w, "Whole calls over SIP with G.722, through `calls.Handler` as `hotline serve` runs them: PocketSphinx (English), eSpeak behind the TTS cache, the embedded nlu and knowledge base, appeals in SQLite. Each caller (`cmd/sipload`, a separate process) presses 2 (English) during the recording notice, waits until the bot has been quiet for 1 s, asks %q (rendered once with Festival SLT, %.1f s) and listens to the answer.\n\n",
		questionText, question.dur.Seconds())
	fmt.Fprintf(w, "Voice-to-voice is measured by the caller from packet timestamps: the arrival of the first reply packet at speech level (decoded frame ≥ %.0f dBFS) minus the send time of the question's last speech-level packet. The breakdown is the server's per-turn record (`voice.Result.Turns`, stored by `calls`), p50 over the spoken turns.\n\n", sipload.SpeechDBFS)
	var slowest []string
	fmt.Fprintf(w, "| concurrent calls | set-up rate | VAD hangover | answered | voice-to-voice p50 / p95 (caller, packets) | server v2v p50 | endpointing | recognition | understanding | waiting | synthesis | recognised right | server CPU per call (call average) | caller→server concealed / dropped frames |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, lv := range levels {
		n := lv.n
		if ctx.Err() != nil {
			return ctx.Err()
		}
		active.Store(recs[vadKey{lv.hangover, lv.early}])
		endpoint := msOf(lv.hangover)
		if lv.early > 0 {
			endpoint += ", early " + msOf(lv.early)
		}
		st0 := st.snapshot()
		since := time.Now()
		a := sampleProc(false)
		lr, err := runLoad(ctx, bin, dir, "-target", addr, "-calls", strconv.Itoa(n), "-total", strconv.Itoa(n),
			"-rate", lv.rate, "-codec", "g722", "-audio", question.path, "-dtmf", "2", "-reply-timeout", "30s")
		z := sampleProc(false)
		if err != nil {
			fmt.Fprintf(w, "| %d | %s/s | %s | failed: %v | | | | | | | | | | |\n", n, lv.rate, endpoint, err)
			continue
		}
		time.Sleep(500 * time.Millisecond) // the handlers' records are written after the hang-up
		turns, right, err := spokenTurns(ctx, callStore, since)
		if err != nil {
			return err
		}
		s := lr.rep.Summary
		stn := st.snapshot()
		// CPU per call over the time calls were up (the run's wall time).
		cpu := 100 * float64(z.cpu-a.cpu) / float64(z.at.Sub(a.at)) / float64(max(s.Answered, 1))
		fmt.Fprintf(w, "| %d | %s/s | %s | %d | %s / %s | %s | %d/%d | %.0f%% | %d / %d |\n",
			n, lv.rate, endpoint, s.Answered, msOf(s.V2VP50), msOf(s.V2VP95), turnColumns(turns),
			right, len(turns), cpu, stn.concealed-st0.concealed, stn.drop-st0.drop)
		slow := slowestTurn(turns)
		slowest = append(slowest, fmt.Sprintf("- %d calls at %s/s, %s: %s", n, lv.rate, endpoint, slow))
		b.log.Info("pipeline", "calls", n, "rate", lv.rate, "hangover", lv.hangover, "early", lv.early, "answered", s.Answered, "v2v_p50", s.V2VP50, "v2v_p95", s.V2VP95, "slowest_turn", slow, "err", s.FirstErr)
		if s.Failed > 0 {
			fmt.Fprintf(w, "\n%d of %d calls failed: %s\n\n", s.Failed, n, s.FirstErr)
		}
	}
	fmt.Fprintf(w, "\nEndpointing is the recogniser's VAD hangover (silence needed to end the utterance), or with \"early\" that short pause when the nlu finds what was said complete (`asr.vad.early_endpoint`; a pause mid-number or after \"and\" still waits for the hangover); recognition is from that decision to the final result; understanding is nlu and the knowledge base until the bot's first reply; waiting is the reply queued behind audio still playing; synthesis is until eSpeak's first audio. The caller's number adds the jitter buffer and packetisation on both legs. \"Recognised right\" counts spoken turns whose text has \"operator\" or \"hours\".\n")
	fmt.Fprintf(w, "\nThe slowest turn of each level by the server's voice-to-voice, where its time went (ms):\n\n%s\n", strings.Join(slowest, "\n"))
	return nil
}

type renderedQuestion struct {
	path string
	dur  time.Duration
}

// renderQuestion speaks text with Festival SLT (the voice PocketSphinx
// recognises best) into a 16 kHz WAV file in dir.
func renderQuestion(ctx context.Context, dir, text string) (renderedQuestion, error) {
	f, err := festival.New()
	if err != nil {
		return renderedQuestion{}, fmt.Errorf("festival (the caller's voice): %w", err)
	}
	defer f.Close()
	st, err := f.Synthesize(ctx, tts.Request{Text: text, Lang: "en", Rate: audio.Rate16k})
	if err != nil {
		return renderedQuestion{}, err
	}
	pcm, _, err := tts.ReadAll(st)
	if err != nil {
		return renderedQuestion{}, err
	}
	path := filepath.Join(dir, "question.wav")
	return renderedQuestion{path: path, dur: time.Duration(len(pcm)) * time.Second / audio.Rate16k},
		audio.WriteWAVFile(path, pcm, audio.Rate16k)
}

// benchBotDeps is the real bot: embedded nlu and knowledge, appeals in a
// temporary SQLite, the default queues open around the clock.
func benchBotDeps(ctx context.Context, dir string) (bot.Deps, func(), error) {
	emb, err := nlu.OpenEmbedded(ctx, nil, nlu.WithAppealValidator(func(s string) bool { return appeal.ValidNumber(s) == nil }))
	if err != nil {
		return bot.Deps{}, nil, err
	}
	db, err := store.Open(filepath.Join(dir, "appeals.db"))
	if err != nil {
		return bot.Deps{}, nil, err
	}
	repo, err := sqlitestore.New(ctx, db)
	if err != nil {
		db.Close()
		return bot.Deps{}, nil, err
	}
	keys, err := appeal.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{9}, 32)}, nil)
	if err != nil {
		db.Close()
		return bot.Deps{}, nil, err
	}
	svc, err := appeal.NewService(repo, keys)
	if err != nil {
		db.Close()
		return bot.Deps{}, nil, err
	}
	center, err := benchCenter()
	if err != nil {
		db.Close()
		return bot.Deps{}, nil, err
	}
	return bot.Deps{
			Understander: adapters.Understander{P: emb.Parser}, Answerer: adapters.Answerer{S: emb.KB},
			Appeals: adapters.Appeals{S: svc}, Router: adapters.Router{C: center},
		}, func() {
			center.Close()
			db.Close()
			emb.Close()
		}, nil
}

// spokenTurns returns the recorded English spoken turns of calls started
// since t, and how many of them recognised the question's key words.
func spokenTurns(ctx context.Context, s *calls.Store, since time.Time) ([]calls.Turn, int, error) {
	list, err := s.List(ctx, calls.Filter{Since: since, Limit: 500})
	if err != nil {
		return nil, 0, err
	}
	var out []calls.Turn
	right := 0
	for _, c := range list {
		full, err := s.Get(ctx, c.ID)
		if err != nil {
			return nil, 0, err
		}
		for _, t := range full.Turns {
			if t.Speaker != bot.SpeakerCaller || t.Lang != "en" || t.VoiceToVoiceMs == 0 {
				continue
			}
			out = append(out, t)
			if low := strings.ToLower(t.Text); strings.Contains(low, "operator") || strings.Contains(low, "hours") {
				right++
			}
		}
	}
	return out, right, nil
}

// benchSIPSoak: "Phone calls: soak". Short calls through the media
// server at a steady rate; the process's goroutines, descriptors and
// memory before, in the middle and after show whether calls leak.
func benchSIPSoak(ctx context.Context, b *bench, w io.Writer) error {
	dir, bin, cleanup, err := loadToolDir(ctx, "hotline-bench-soak-")
	if err != nil {
		return err
	}
	defer cleanup()
	p := &plumbing{}
	addr, stop, err := serveSIP(ctx, p, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer stop()
	total, rate := 300, 5.0
	if b.quick {
		total = 30
	}
	// Warm up first (pools, timers, the sipgo transaction layer), so the
	// baseline is a server that has taken calls, as a running one has.
	if _, err := runLoad(ctx, bin, dir, "-target", addr, "-calls", "10", "-total", "10", "-rate", "20", "-hold", "1s"); err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	// Two halves with an idle sample after each: a leak grows in both,
	// a cache or pool warming up only in the first.
	half := func() (sipload.Summary, time.Duration, procSample, error) {
		lr, err := runLoad(ctx, bin, dir, "-target", addr, "-calls", "20", "-total", strconv.Itoa(total/2),
			"-rate", fmt.Sprint(rate), "-codec", "g722", "-hold", "2s")
		if err != nil {
			return sipload.Summary{}, 0, procSample{}, err
		}
		// Calls end with the caller's BYE; the server's teardown follows.
		time.Sleep(3 * time.Second)
		return lr.rep.Summary, lr.rep.Wall, sampleProc(true), nil
	}
	start := sampleProc(true)
	s1, wall1, mid, err := half()
	if err != nil {
		return err
	}
	s2, wall2, end, err := half()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%d calls of 2 s (G.722 both ways, the media-plumbing handler) at %.0f calls/s, up to 20 at once, in two halves of %s and %s: %d answered, %d failed, %d late and %d lost of %d packets at the callers. The hotline's expected busy hour is a few hundred calls per node, so this is about an hour of call set-ups and teardowns compressed into a minute. All samples are taken with no call up, after a GC: at the start (after a warm-up of 10 calls), after the first half and after the second. A leak grows in both halves; a pool or cache warming up only in the first.\n\n",
		total, rate, wall1.Round(time.Second), wall2.Round(time.Second), s1.Answered+s2.Answered, s1.Failed+s2.Failed,
		s1.Rx.Late+s2.Rx.Late, s1.Rx.Lost+s2.Rx.Lost, s1.Rx.Received+s2.Rx.Received)
	fmt.Fprintf(w, "| | start | after %d calls | after %d calls | growth, first half | growth, second half |\n|---|---|---|---|---|---|\n", total/2, total)
	fmt.Fprintf(w, "| goroutines | %d | %d | %d | %+d | %+d |\n", start.goroutines, mid.goroutines, end.goroutines, mid.goroutines-start.goroutines, end.goroutines-mid.goroutines)
	fmt.Fprintf(w, "| open file descriptors | %d | %d | %d | %+d | %+d |\n", start.fds, mid.fds, end.fds, mid.fds-start.fds, end.fds-mid.fds)
	dm := func(a, b uint64) string { return fmt.Sprintf("%+.2f MiB", (float64(b)-float64(a))/(1<<20)) }
	fmt.Fprintf(w, "| Go heap in use | %s | %s | %s | %s | %s |\n", mib(start.heap), mib(mid.heap), mib(end.heap), dm(start.heap, mid.heap), dm(mid.heap, end.heap))
	fmt.Fprintf(w, "| RSS | %s | %s | %s | %s | %s |\n", mib(start.rss), mib(mid.rss), mib(end.rss), dm(start.rss, mid.rss), dm(mid.rss, end.rss))
	fmt.Fprintf(w, "\nRSS includes whatever earlier sections of this run left in the process (engines, models); the growth columns are what matter.\n")
	s := s1
	b.log.Info("soak", "answered", s.Answered, "goroutines", end.goroutines-start.goroutines, "fds", end.fds-start.fds)
	return nil
}
