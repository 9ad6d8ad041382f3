package voice

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/hotline-ivr/hotline/asr"
	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/bot"
)

// readerGrace bounds how long Run waits for a Conn.ReadFrame still
// blocked when the pipeline ends; the channel's hang-up releases it.
const readerGrace = 2 * time.Second

// sendTimeout bounds a bot input; the session reads inputs promptly
// unless it is stuck, and a partial is not worth waiting for.
const (
	sendTimeout    = 5 * time.Second
	partialTimeout = 50 * time.Millisecond
)

// Run runs the voice conversation of one call until the caller hangs up
// (conn.Done, or ReadFrame failing), the bot ends it, or ctx ends. It
// starts the bot session itself (greeting first) and, before returning,
// stops and waits for everything it started: recognition and synthesis
// streams, its goroutines and the session (its transcript is saved).
//
// The error is non-nil only when the pipeline could not start
// (ErrMissingDependency, the bot's errors) or ctx ended; a hang-up or
// the bot's goodbye or handoff is a nil error with Result.Reason set.
// The channel hangs up or transfers (Result.Handoff) afterwards.
func Run(ctx context.Context, conn Conn, deps Deps, cfg Config) (Result, error) {
	if conn == nil || deps.Synth == nil || deps.Recognizers == nil {
		return Result{}, fmt.Errorf("%w: a Conn, a Synth and Recognizers are required", ErrMissingDependency)
	}
	cfg.defaults()
	log := deps.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Bot.ID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		cfg.Bot.ID = hex.EncodeToString(b[:])
	}
	log = log.With("call_id", cfg.Bot.ID)
	bd := deps.Bot
	if bd.Log == nil {
		// The session logs its turns under the same call id.
		bd.Log = log.With("component", "bot")
	}
	sess, err := bot.New(bd, cfg.Bot)
	if err != nil {
		return Result{}, fmt.Errorf("voice: bot session: %w", err)
	}

	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	frames := make(chan audio.Frame, 8)
	readErr := make(chan error, 1)
	readerDone := make(chan struct{})
	var framesIn int
	go func() {
		defer close(readerDone)
		defer close(frames)
		for {
			f, err := conn.ReadFrame()
			if err != nil {
				readErr <- err
				return
			}
			framesIn++
			select {
			case frames <- f:
			case <-callCtx.Done():
				return
			}
		}
	}()

	heardC := make(chan heard, 16)
	playedC := make(chan played, 16)
	botC := make(chan bot.Event, 16)
	echo := &outLevel{}
	lis := &listener{log: log.With("component", "asr"), recs: deps.Recognizers, now: cfg.Now, frames: frames,
		langs: make(chan string, 1), out: heardC, confirm: cfg.BargeInConfirm, echo: echo, margin: cfg.EchoMargin,
		complete: deps.Completer, flushes: make(chan int, 1)}
	spk := &speaker{log: log.With("component", "tts"), conn: conn, synth: deps.Synth, now: cfg.Now, rate: cfg.Rate,
		voice: cfg.Voices, speed: cfg.Speed, queue: make(chan *item, 256), out: playedC, level: echo}
	listenLang, chosen := cfg.Bot.Lang, cfg.Bot.Lang != ""
	if !chosen {
		listenLang = cfg.ListenLang
	}

	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); lis.run(callCtx, listenLang, chosen) }()
	go func() { defer wg.Done(); spk.run(callCtx) }()
	go func() {
		// The session waits for its reader: this goroutine keeps reading
		// so that it never waits on the controller's own sends to it.
		defer wg.Done()
		defer close(botC)
		for ev := range sess.Events() {
			select {
			case botC <- ev:
			case <-callCtx.Done():
				return
			}
		}
	}()

	c := &controller{ctx: callCtx, cfg: cfg, log: log, sess: sess, lis: lis, spk: spk, echo: echo, lang: cfg.Bot.Lang,
		items: map[int]*item{}, pendingTurn: -1}
	c.res.ConversationID = sess.ID()
	log.Info("voice pipeline started", "rate", cfg.Rate, "listen", listenLang)
	runErr := c.loop(ctx, conn, readErr, heardC, playedC, botC)

	// Teardown: the hang-up reaches the bot first so that it records why
	// the call ended; then every goroutine is stopped and waited for.
	if c.res.Reason == ReasonHangup || c.res.Reason == ReasonCanceled {
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		_ = sess.Send(sctx, bot.Input{Kind: bot.InputHangup})
		scancel()
	}
	cancel()
	sess.Close()
	wg.Wait()
	select {
	case <-readerDone:
		c.res.FramesIn = framesIn
	case <-time.After(readerGrace):
		log.Error("Conn.ReadFrame still blocked after the pipeline ended; it is left to the channel's hang-up")
	}
	c.res.Transcript = sess.Transcript()
	if c.res.Reason == "" || c.res.Reason == bot.EndClosed && runErr != nil {
		c.res.Reason = ReasonCanceled
	}
	if cfg.OnEvent != nil {
		cfg.OnEvent(Event{Type: EventEnd, Reason: c.res.Reason})
	}
	log.Info("voice pipeline ended", "reason", c.res.Reason, "turns", len(c.res.Turns), "barge_ins", len(c.res.BargeIns))
	return c.res, runErr
}

// controller is Run's own goroutine: it alone touches the bot session's
// inputs, the play queue bookkeeping and the Result.
type controller struct {
	ctx  context.Context
	cfg  Config
	log  *slog.Logger
	sess *bot.Session
	lis  *listener
	spk  *speaker
	echo *outLevel
	res  Result

	lang    string // the conversation's language, "" until chosen
	gen     int    // newest recognition stream seen
	nextID  int
	items   map[int]*item // queued or playing
	playing *item

	inSpeech    bool // the recogniser is inside an utterance
	loud        bool // the confirmation VAD hears sustained speech
	toldBot     bool // SpeechStart went to the bot for this utterance
	overBot     bool // the utterance began while the bot was speaking
	bargedIn    bool // this utterance cut the bot off
	speechEnd   heard
	pendingBI   int // index in res.BargeIns waiting for its stop time, or -1
	awaitDone   bool
	ended       bool
	botClosed   bool
	keys        string
	lastKey     time.Time
	keyTimer    *time.Timer
	pendingTurn int // turn waiting for its first reply frame
}

func (c *controller) loop(ctx context.Context, conn Conn, readErr <-chan error, heardC <-chan heard,
	playedC <-chan played, botC <-chan bot.Event) error {
	c.pendingBI = -1
	defer func() {
		if c.keyTimer != nil {
			c.keyTimer.Stop()
		}
	}()
	dtmf := conn.DTMF()
	typed := c.cfg.Text
	for {
		if c.ended && len(c.items) == 0 {
			return nil
		}
		if c.botClosed && !c.ended {
			c.res.Reason = bot.EndClosed
			return nil
		}
		var keyC <-chan time.Time
		if c.keyTimer != nil {
			keyC = c.keyTimer.C
		}
		select {
		case <-ctx.Done():
			c.res.Reason = ReasonCanceled
			return ctx.Err()
		case <-conn.Done():
			c.res.Reason = ReasonHangup
			return nil
		case err := <-readErr:
			c.log.Info("caller audio ended", "err", err)
			c.res.Reason = ReasonHangup
			return nil
		case d, ok := <-dtmf:
			if !ok {
				dtmf = nil
				continue
			}
			c.onKey(d.Key)
		case <-keyC:
			c.keyTimer = nil
			c.sendKeys()
		case text, ok := <-typed:
			if !ok {
				typed = nil
				continue
			}
			c.onTyped(text)
		case h := <-heardC:
			c.onHeard(h)
		case p := <-playedC:
			c.onPlayed(p)
		case ev, ok := <-botC:
			if !ok {
				c.botClosed = true
				botC = nil
				continue
			}
			c.onBot(ev)
		}
	}
}

// emit passes an event to Config.OnEvent.
func (c *controller) emit(ev Event) {
	if c.cfg.OnEvent != nil {
		c.cfg.OnEvent(ev)
	}
}

// onTyped sends typed text to the bot as a turn of its own.
func (c *controller) onTyped(text string) {
	text = strings.TrimSpace(text)
	if text == "" {
		return
	}
	c.bargeIn("text")
	c.emit(Event{Type: EventFinal, Text: text, Typed: true})
	c.addTurn(Turn{Input: text, sent: c.cfg.Now()})
	c.send(bot.Input{Kind: bot.InputText, Text: text})
}

func (c *controller) send(in bot.Input) {
	timeout := sendTimeout
	if in.Kind == bot.InputPartial {
		timeout = partialTimeout
	}
	ctx, cancel := context.WithTimeout(c.ctx, timeout)
	defer cancel()
	if err := c.sess.Send(ctx, in); err != nil && in.Kind != bot.InputPartial {
		c.log.Warn("bot input lost", "kind", in.Kind.String(), "err", err)
	}
}

// onBot handles what the bot says and does.
func (c *controller) onBot(ev bot.Event) {
	switch ev.Kind {
	case bot.EventReply:
		if strings.TrimSpace(ev.Text) == "" {
			return
		}
		now := c.cfg.Now()
		c.nextID++
		ictx, icancel := context.WithCancel(c.ctx)
		it := &item{id: c.nextID, turn: -1, text: ev.Text, lang: ev.Lang, queued: now,
			interruptible: !ev.NoBargeIn && !c.cfg.NoBargeIn, ctx: ictx, cancel: icancel}
		if it.lang == "" {
			it.lang = c.langOr()
		}
		c.emit(Event{Type: EventReply, Text: ev.Text, Lang: it.lang, ArticleID: ev.ArticleID})
		if t := c.pendingTurn; t >= 0 && c.res.Turns[t].Reply == "" {
			c.res.Turns[t].Reply = ev.Text
			c.res.Turns[t].Understanding = now.Sub(c.res.Turns[t].sentAt())
			it.turn = t
		}
		c.items[it.id] = it
		select {
		case c.spk.queue <- it:
		case <-c.ctx.Done():
		}
	case bot.EventReplyEnd:
		c.lis.setExpect(ev.Expect)
		c.awaitDone = true
		if ev.Lang != "" && ev.Lang != c.lang {
			c.lang = ev.Lang
			c.resetSpeech()
			c.lis.setLang(ev.Lang)
		}
		c.checkReplyDone()
	case bot.EventHandoff:
		h := &Handoff{AppealNumber: ev.AppealNumber, Lang: ev.Lang, Mode: c.cfg.Transfer}
		if d := ev.Handoff; d != nil {
			h.Queue, h.HandoffID, h.EstimatedWait = d.Queue, d.HandoffID, d.EstimatedWait
		}
		c.res.Handoff = h
		c.emit(Event{Type: EventHandoff, Lang: h.Lang, Queue: h.Queue, AppealNumber: h.AppealNumber,
			EstimatedWaitSeconds: int(h.EstimatedWait.Round(time.Second) / time.Second)})
		c.log.Info("handoff", "queue", h.Queue, "appeal", h.AppealNumber, "mode", h.Mode)
	case bot.EventEnd:
		c.ended = true
		c.res.Reason = ev.Reason
	}
}

func (c *controller) langOr() string {
	if c.lang == "" {
		return "ru"
	}
	return c.lang
}

// checkReplyDone tells the bot its turn has been heard to the end (or
// cut off), so that its silence timer runs from now.
func (c *controller) checkReplyDone() {
	if c.awaitDone && len(c.items) == 0 && !c.ended {
		c.awaitDone = false
		c.send(bot.Input{Kind: bot.InputReplyDone})
	}
}

func (c *controller) onPlayed(p played) {
	it := c.items[p.id]
	if it == nil {
		return
	}
	if p.first {
		c.playing = it
		if t := it.turn; t >= 0 {
			tr := &c.res.Turns[t]
			tr.Waiting = p.started.Sub(it.queued)
			tr.Synthesis = p.firstRead.Sub(p.started)
			if !tr.EndOfSpeech.IsZero() {
				tr.VoiceToVoice = p.firstWritten.Sub(tr.EndOfSpeech)
			}
			if c.pendingTurn == t {
				c.pendingTurn = -1
			}
			c.log.Info("turn latency", "input", tr.Input, "voice_to_voice_ms", tr.VoiceToVoice.Milliseconds(),
				"endpointing_ms", tr.Endpointing.Milliseconds(), "recognition_ms", tr.Recognition.Milliseconds(),
				"understanding_ms", tr.Understanding.Milliseconds(), "waiting_ms", tr.Waiting.Milliseconds(),
				"synthesis_ms", tr.Synthesis.Milliseconds())
		}
		return
	}
	c.res.FramesOut += p.frames
	delete(c.items, p.id)
	if c.playing == it {
		c.playing = nil
	}
	if p.interrupted && !p.stopped.IsZero() && c.pendingBI >= 0 {
		c.res.BargeIns[c.pendingBI].Stopped = p.stopped
		c.log.Info("barge-in", "by", c.res.BargeIns[c.pendingBI].By, "stop_ms", c.res.BargeIns[c.pendingBI].Latency().Milliseconds())
		c.pendingBI = -1
	}
	c.checkReplyDone()
}

// bargeIn cancels every interruptible reply queued or playing; the
// speaker cuts the one playing within a frame and clears the Conn.
func (c *controller) bargeIn(by string) bool {
	cut := false
	for _, it := range c.items {
		if it.interruptible && it.ctx.Err() == nil {
			it.cancel()
			cut = true
		}
	}
	if !cut {
		return false
	}
	c.res.BargeIns = append(c.res.BargeIns, BargeIn{Confirmed: c.cfg.Now(), By: by})
	c.pendingBI = len(c.res.BargeIns) - 1
	if c.playing == nil || !c.playing.interruptible {
		// Only queued replies were dropped: nothing to stop audibly.
		c.res.BargeIns[c.pendingBI].Stopped = c.res.BargeIns[c.pendingBI].Confirmed
		c.pendingBI = -1
	}
	return true
}

// botAudible reports whether the bot's voice may be on the line now:
// a reply is playing, or one ended so recently that the Conn's queue or
// its echo still sounds (also between two replies of a turn).
func (c *controller) botAudible() bool {
	return c.playing != nil || c.echo.since(c.cfg.Now().Add(-echoWindow))
}

func (c *controller) resetSpeech() {
	c.inSpeech, c.loud, c.toldBot, c.bargedIn, c.overBot = false, false, false, false, false
	c.speechEnd = heard{}
}

// confirmed: the caller is really speaking. An interruptible reply stops
// and the bot hears that the caller started.
func (c *controller) confirmed(by string) {
	if c.toldBot {
		return
	}
	c.toldBot = true
	if c.bargeIn(by) {
		c.bargedIn = true
	}
	c.send(bot.Input{Kind: bot.InputSpeechStart})
}

func (c *controller) onHeard(h heard) {
	switch {
	case h.loud:
		c.loud = true
		if c.inSpeech {
			c.confirmed("speech")
		}
		return
	case h.quiet:
		c.loud = false
		return
	}
	if h.gen < c.gen {
		return // a result of a stream replaced by a language switch
	}
	if h.gen > c.gen {
		c.gen = h.gen
		c.resetSpeech()
	}
	r := h.res
	switch r.Kind {
	case asr.SpeechStart:
		c.inSpeech = true
		// The echo of a reply's end comes back after the reply has been
		// written: recent output counts as the bot speaking.
		c.overBot = c.playing != nil || c.echo.since(h.audioAt.Add(-echoWindow)) || c.botAudible()
		if c.loud {
			c.confirmed("speech")
		}
	case asr.Partial:
		if strings.TrimSpace(r.Text) == "" {
			return
		}
		// While the bot speaks a partial may be its own echo recognised:
		// only the echo-gated detector confirms then.
		if !c.botAudible() {
			c.confirmed("partial")
		}
		c.emit(Event{Type: EventPartial, Text: r.Text, Lang: h.lang})
		c.send(bot.Input{Kind: bot.InputPartial, Text: r.Text})
	case asr.SpeechEnd, asr.Pause:
		// A Pause comes only when the listener ended the turn at it
		// (early endpointing): speech ended there, the final follows.
		c.speechEnd = h
	case asr.Final:
		text := strings.TrimSpace(r.Text)
		told, barged, end := c.toldBot, c.bargedIn, c.speechEnd
		c.inSpeech, c.toldBot, c.bargedIn, c.speechEnd = false, false, false, heard{}
		over := c.overBot
		c.overBot = false
		if !told && (text == "" || over && c.cfg.EchoMargin >= 0) {
			// Unconfirmed: noise that recognised as nothing, or sound
			// over the bot's reply that never rose above its echo. The
			// bot never heard of it and keeps its silence timer.
			if text != "" {
				c.log.Info("unconfirmed speech over the bot ignored (echo?)", "text", text)
			}
			return
		}
		// The bot is about to answer: replies still queued from before
		// are stale (a non-interruptible one finishes first).
		c.bargeIn("final")
		tr := Turn{Input: text, Lang: h.lang, BargeIn: barged, sent: c.cfg.Now()}
		if !end.at.IsZero() {
			tr.EndedBy = EndedByHangover
			if end.res.Kind == asr.Pause {
				tr.EndedBy = EndedByEarly
			}
			tr.EndOfSpeech = end.audioAt
			tr.Endpointing = end.at.Sub(end.audioAt)
			tr.Recognition = h.at.Sub(end.at)
		} else {
			tr.EndOfSpeech = h.audioAt
			tr.Recognition = h.at.Sub(h.audioAt)
		}
		c.addTurn(tr)
		c.emit(Event{Type: EventFinal, Text: text, Lang: h.lang})
		c.send(bot.Input{Kind: bot.InputFinal, Text: text})
	}
}

func (c *controller) addTurn(t Turn) {
	c.res.Turns = append(c.res.Turns, t)
	c.pendingTurn = len(c.res.Turns) - 1
}

// onKey gathers keys into an entry; any key stops an interruptible reply.
func (c *controller) onKey(k byte) {
	if c.keys == "" {
		c.bargeIn("dtmf")
	}
	c.keys += string(k)
	c.lastKey = c.cfg.Now()
	if c.keyTimer != nil {
		c.keyTimer.Stop()
		c.keyTimer = nil
	}
	if k == '#' || k == '*' && len(c.keys) == 1 {
		c.sendKeys()
		return
	}
	c.keyTimer = time.NewTimer(c.cfg.DTMFGap)
}

func (c *controller) sendKeys() {
	keys := c.keys
	c.keys = ""
	if len(keys) > 1 {
		keys = strings.TrimSuffix(keys, "#")
	}
	if keys == "" {
		return
	}
	// The entry ended with the last key; the wait for another key is
	// its endpointing.
	now := c.cfg.Now()
	c.addTurn(Turn{Input: "[DTMF " + keys + "]", EndOfSpeech: c.lastKey, Endpointing: now.Sub(c.lastKey), sent: now})
	c.send(bot.Input{Kind: bot.InputDTMF, Digits: keys})
}
