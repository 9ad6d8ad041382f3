// Package festival is a speech synthesis engine on the Festival Speech
// Synthesis System (Debian festival): the SLT HTS voice for English
// (festvox-us-slt-hts) and the MSU Russian unit-selection voice
// (festvox-ru). Its voices sound more natural than eSpeak, and the SLT
// voice is the one a speech recogniser understands best (see the tts
// README for the measurement).
//
// The engine owns one long-lived `festival --server` process, started with
// the voices preloaded, and restarts it if it dies. Each sentence is one
// TCP connection; the server forks a child per connection, so sentences of
// different streams render in parallel on all cores without loading the
// voices again. Closing the connection abandons a sentence (barge-in).
package festival

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/tts"
)

// Voices installed by the Debian packages.
const (
	VoiceSLT = "cmu_us_slt_arctic_hts" // festvox-us-slt-hts, English, female
	VoiceRU  = "msu_ru_nsh_clunits"    // festvox-ru, Russian, male
	// VoiceKAL is festival's own small diphone voice, if installed.
	VoiceKAL = "kal_diphone"
)

// DefaultVoices are the voices used when a request names none.
var DefaultVoices = map[string]string{tts.LangEN: VoiceSLT, tts.LangRU: VoiceRU}

// DefaultVoiceDir is where Debian installs Festival voices.
const DefaultVoiceDir = "/usr/share/festival/voices"

var (
	_ tts.Synthesizer = (*Engine)(nil)
	_ tts.Renderer    = (*Engine)(nil)
)

type options struct {
	binary       string
	port         int
	voiceDir     string
	voices       map[string]string
	startTimeout time.Duration
	log          *slog.Logger
}

// Option configures an Engine.
type Option func(*options)

// WithBinary sets the festival executable (default: "festival" on PATH).
func WithBinary(path string) Option { return func(o *options) { o.binary = path } }

// WithPort sets the server's TCP port on 127.0.0.1; zero picks a free one.
func WithPort(p int) Option { return func(o *options) { o.port = p } }

// WithVoice sets the voice for a language.
func WithVoice(lang, voice string) Option { return func(o *options) { o.voices[lang] = voice } }

// WithVoiceDir sets where voices are looked up.
func WithVoiceDir(dir string) Option { return func(o *options) { o.voiceDir = dir } }

// WithStartTimeout bounds the server start (loading the voices).
func WithStartTimeout(d time.Duration) Option { return func(o *options) { o.startTimeout = d } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Engine synthesises speech with a Festival server it owns.
type Engine struct {
	opt       options
	installed map[string]bool // voice name → present
	dir       string          // temporary folder with the init script

	mu      sync.Mutex
	port    int
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the current server process ended
	ready   chan struct{} // closed when the current server accepts connections
	closed  bool
	quit    chan struct{}
	stopped chan struct{} // the supervisor ended
}

// New checks the installation, starts the server and waits until it
// accepts connections.
func New(opts ...Option) (*Engine, error) {
	o := options{binary: "festival", voiceDir: DefaultVoiceDir, voices: map[string]string{}, startTimeout: 30 * time.Second}
	for l, v := range DefaultVoices {
		o.voices[l] = v
	}
	for _, f := range opts {
		f(&o)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	bin, err := exec.LookPath(o.binary)
	if err != nil {
		return nil, fmt.Errorf("%w: %v (install the Debian package festival)", ErrNotInstalled, err)
	}
	o.binary = bin
	e := &Engine{opt: o, installed: installedVoices(o.voiceDir), quit: make(chan struct{}), stopped: make(chan struct{})}
	for l, v := range o.voices {
		if !e.installed[v] {
			return nil, fmt.Errorf("%w: voice %s for %s not found in %s (install festvox-us-slt-hts / festvox-ru)", ErrNotInstalled, v, l, o.voiceDir)
		}
	}
	if e.dir, err = os.MkdirTemp("", "hotline-festival-"); err != nil {
		return nil, err
	}
	if err := e.start(); err != nil {
		os.RemoveAll(e.dir)
		return nil, err
	}
	if err := e.waitReady(context.Background(), o.startTimeout); err != nil {
		e.stopServer()
		os.RemoveAll(e.dir)
		return nil, err
	}
	go e.supervise()
	return e, nil
}

// installedVoices lists voice folders: <dir>/<language>/<voice>.
func installedVoices(dir string) map[string]bool {
	out := map[string]bool{}
	langs, _ := os.ReadDir(dir)
	for _, l := range langs {
		vs, _ := os.ReadDir(filepath.Join(dir, l.Name()))
		for _, v := range vs {
			if v.IsDir() {
				out[v.Name()] = true
			}
		}
	}
	return out
}

// start launches a server process. Festival's init script loads the
// configured voices once; forked children inherit them.
func (e *Engine) start() error {
	port := e.opt.port
	if port == 0 {
		var err error
		if port, err = freePort(); err != nil {
			return err
		}
	}
	var init strings.Builder
	init.WriteString("(set! server_access_list '(\"localhost\" \"127.0.0.1\" \"localhost.localdomain\"))\n")
	fmt.Fprintf(&init, "(set! server_port %d)\n", port)
	init.WriteString("(Parameter.set 'Wavefiletype 'riff)\n")
	seen := map[string]bool{}
	for _, v := range e.opt.voices {
		if !seen[v] {
			fmt.Fprintf(&init, "(voice_%s)\n", v)
			seen[v] = true
		}
	}
	script := filepath.Join(e.dir, "init.scm")
	if err := os.WriteFile(script, []byte(init.String()), 0o600); err != nil {
		return err
	}
	cmd := exec.Command(e.opt.binary, "--server", script)
	cmd.Dir = e.dir
	// Its own process group, so Close also ends the per-connection
	// children.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var logBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%w: start festival: %v", ErrServer, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	e.mu.Lock()
	e.cmd, e.port, e.exited, e.ready = cmd, port, exited, make(chan struct{})
	e.mu.Unlock()
	e.opt.log.Info("festival server started", "pid", cmd.Process.Pid, "port", port)
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls until the current server accepts a connection.
func (e *Engine) waitReady(ctx context.Context, timeout time.Duration) error {
	e.mu.Lock()
	port, exited, ready := e.port, e.exited, e.ready
	e.mu.Unlock()
	select {
	case <-ready:
		return nil
	default:
	}
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			c.Close()
			e.mu.Lock()
			if e.ready == ready {
				select {
				case <-ready:
				default:
					close(ready)
				}
			}
			e.mu.Unlock()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("%w: festival exited while starting (port %d in use, or a voice failed to load)", ErrServer, port)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: festival did not accept connections within %v", ErrServer, timeout)
		}
	}
}

// supervise restarts the server when it dies, with a pause that grows
// while it keeps dying.
func (e *Engine) supervise() {
	defer close(e.stopped)
	backoff := 100 * time.Millisecond
	for {
		e.mu.Lock()
		exited := e.exited
		e.mu.Unlock()
		select {
		case <-e.quit:
			return
		case <-exited:
		}
		e.opt.log.Warn("festival server exited; restarting", "backoff", backoff)
		select {
		case <-e.quit:
			return
		case <-time.After(backoff):
		}
		if err := e.start(); err != nil {
			e.opt.log.Error("festival restart failed", "err", err)
			backoff = min(2*backoff, 10*time.Second)
			continue
		}
		if err := e.waitReady(context.Background(), e.opt.startTimeout); err != nil {
			e.opt.log.Error("festival restart failed", "err", err)
			backoff = min(2*backoff, 10*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
	}
}

// Close stops the server and its children and waits. It is idempotent.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.mu.Unlock()
	close(e.quit)
	<-e.stopped
	e.stopServer()
	os.RemoveAll(e.dir)
	return nil
}

func (e *Engine) stopServer() {
	e.mu.Lock()
	cmd, exited := e.cmd, e.exited
	e.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
}

// Kill ends the server process as if it had crashed; for tests of the
// restart.
func (e *Engine) Kill() {
	e.mu.Lock()
	cmd := e.cmd
	e.mu.Unlock()
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}

// Synthesize implements tts.Synthesizer.
func (e *Engine) Synthesize(ctx context.Context, req tts.Request) (tts.Stream, error) {
	req, err := req.Normalize()
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return nil, tts.ErrClosed
	}
	if req.Voice == "" {
		req.Voice = e.opt.voices[req.Lang]
	}
	if !e.installed[req.Voice] || strings.ContainsAny(req.Voice, "() \"'") {
		return nil, fmt.Errorf("%w: Festival has no voice %q", tts.ErrUnknownVoice, req.Voice)
	}
	if !voiceSpeaks(req.Voice, req.Lang) {
		return nil, fmt.Errorf("%w: Festival voice %q does not speak %q", tts.ErrUnknownVoice, req.Voice, req.Lang)
	}
	// Festival returns a sentence only when it is fully rendered, so the
	// first clause goes alone to start playing sooner.
	return tts.NewStream(ctx, e, req, tts.StreamOptions{SplitFirstClause: true})
}

// voiceSpeaks guesses a voice's language from the Festvox naming scheme
// (institution_language_speaker_method).
func voiceSpeaks(voice, lang string) bool {
	parts := strings.Split(voice, "_")
	if len(parts) < 2 {
		return lang == tts.LangEN // kal_diphone, rab_diphone, ...
	}
	switch parts[1] {
	case "ru":
		return lang == tts.LangRU
	case "us", "uk", "en":
		return lang == tts.LangEN
	}
	return lang == tts.LangEN && parts[1] == "diphone"
}

// Render implements tts.Renderer: one connection, one sentence.
func (e *Engine) Render(ctx context.Context, s tts.Sentence, emit func([]int16, int) error) error {
	wav, err := e.renderWAV(ctx, s)
	// The server may have died: the supervisor restarts it, so retry
	// while connections fail, within the start timeout.
	deadline := time.Now().Add(e.opt.startTimeout)
	for err != nil && ctx.Err() == nil && isConnErr(err) && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
		case <-e.quit:
			return tts.ErrClosed
		case <-time.After(50 * time.Millisecond):
		}
		wav, err = e.renderWAV(ctx, s)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	samples, info, err := audio.ReadWAV(bytes.NewReader(wav))
	if err != nil {
		return fmt.Errorf("%w: festival sent a bad WAV: %v", tts.ErrEngine, err)
	}
	return emit(samples, info.Rate)
}

func isConnErr(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

func (e *Engine) renderWAV(ctx context.Context, s tts.Sentence) ([]byte, error) {
	e.mu.Lock()
	port := e.port
	e.mu.Unlock()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return nil, err
	}
	// Closing the connection is how a sentence is abandoned: the forked
	// child dies on its next write.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer func() {
		stop()
		conn.Close()
	}()
	stretch := 1.0
	if s.Speed > 0 {
		stretch = 1 / s.Speed
	}
	cmds := fmt.Sprintf("(voice_%s)\n(Parameter.set 'Duration_Stretch %.3f)\n(utt.send.wave.client (utt.synth (Utterance Text \"%s\")))\n",
		s.Voice, stretch, escape(undash(s.Text)))
	if _, err := io.WriteString(conn, cmds); err != nil {
		return nil, err
	}
	return readReplies(bufio.NewReader(conn), 3)
}

// undash turns dashes, which textprep keeps as pauses ("1 — статус"), into
// commas: the Russian voice fails the whole sentence on a dash.
func undash(s string) string {
	s = dashRe.ReplaceAllStringFunc(s, func(m string) string {
		if strings.IndexByte(".,!?;:", m[0]) >= 0 { // after punctuation: that pause is enough
			return m[:1] + " "
		}
		return ", "
	})
	return strings.TrimLeft(s, ", ")
}

var dashRe = regexp.MustCompile(`[.,!?;:]?\s*[—–]\s*`)

// escape quotes text for a Scheme string literal.
func escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// key ends every data block of the Festival server protocol.
const key = "ft_StUfF_key"

// readReplies reads the answers to n commands: each is any number of "WV\n"
// (a waveform) or "LP\n" (a Lisp value) blocks ending with the key, then
// "OK\n", or "ER\n" on an error. It returns the waveform.
func readReplies(r *bufio.Reader, n int) ([]byte, error) {
	var wav []byte
	for n > 0 {
		tag := make([]byte, 3)
		if _, err := io.ReadFull(r, tag); err != nil {
			return nil, err
		}
		switch string(tag) {
		case "OK\n":
			n--
		case "ER\n":
			return nil, fmt.Errorf("%w: festival reported an error for the sentence", tts.ErrEngine)
		case "WV\n", "LP\n":
			data, err := readBlock(r)
			if err != nil {
				return nil, err
			}
			if string(tag) == "WV\n" {
				wav = data
			}
		default:
			return nil, fmt.Errorf("%w: unexpected reply %q", ErrServer, tag)
		}
	}
	if wav == nil {
		return nil, fmt.Errorf("%w: festival sent no waveform", tts.ErrEngine)
	}
	return wav, nil
}

// readBlock reads data up to the key. The server escapes a key inside the
// data by sending "X" after it, so a key followed by X is data.
func readBlock(r *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		b, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		buf = append(buf, b)
		if b == key[len(key)-1] && bytes.HasSuffix(buf, []byte(key)) {
			next, err := r.Peek(1)
			if err == nil && next[0] == 'X' {
				r.ReadByte()
				continue
			}
			return buf[:len(buf)-len(key)], nil
		}
	}
}
