package calls

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/hotline-ivr/hotline/bot"
	"github.com/hotline-ivr/hotline/internal/redact"
	"github.com/hotline-ivr/hotline/tts"
	"github.com/hotline-ivr/hotline/voice"
)

// CallInfo is what the channel knows about a call.
type CallInfo struct {
	ID      string // the channel's call id (SIP Call-ID)
	Channel string // "sip", "webrtc"
	From    string // caller number; masked before it is logged or stored
	To      string // dialled user part
	Codec   string
	// Rate is the sample rate of the Conn's frames (16000 for G.722).
	Rate int
	// Lang preselects the conversation's language ("ru", "en"); empty
	// asks the caller (DTMF 1/2 or speech).
	Lang string
	// User is who placed an in-app call (the call token's subject: a
	// username, an app, or "anonymous:…"); empty for SIP.
	User string
}

// Transferer is a call that can be handed over blindly (SIP REFER);
// *sip.Call is one.
type Transferer interface {
	Transfer(ctx context.Context, referTo string, headers map[string]string) error
}

// Hanger is a call the handler can hang up itself.
type Hanger interface {
	Hangup(ctx context.Context) error
}

// PacketStats is a call that counts its RTP packets.
type PacketStats interface {
	Packets() (in, out uint64)
}

// EndReasoner is a call that knows why it ended on its side: "hangup"
// (the caller's BYE), "rtp_timeout", "session_expired" (no RFC 4028
// refresh), "shutdown"; "" while it is up.
type EndReasoner interface {
	EndReason() string
}

// Callbacks registers a callback request when a caller the bot handed
// over could not reach a person: cmd/hotline creates a callback appeal
// and queues it (and withdraws the live handoff).
type Callbacks interface {
	RequestCallback(ctx context.Context, h voice.Handoff, callerPhone string) (number string, err error)
}

// CallbackRequest is a callback request with what the call knows: an
// in-app caller may have no phone number (Phone ""), and is then answered
// through the app or portal from the appeal, which carries the call's
// transcript and the user.
type CallbackRequest struct {
	Handoff    voice.Handoff
	Phone      string // the caller id, else the number the bot collected; may be ""
	Channel    string // CallInfo.Channel
	User       string // CallInfo.User
	Transcript []bot.Turn
}

// TransferListener is a Callbacks told when a live call left for a queue's SIP
// address (the PBX's queue has the caller now), so the same caller is not
// also offered to agents in the desk: cmd/hotline withdraws the desk
// handoff.
type TransferListener interface {
	Transferred(ctx context.Context, h voice.Handoff, referTo string) error
}

// CallbackRequester is a Callbacks that takes the whole request; the
// handler prefers it to RequestCallback.
type CallbackRequester interface {
	RequestCallbackFor(ctx context.Context, r CallbackRequest) (number string, err error)
}

// EventCallback tells the caller's screen a callback appeal was
// registered (AppealNumber) after no operator could be reached.
const EventCallback = "callback"

// AppealHeader carries the appeal number on a REFER (and, embedded in
// the Refer-To URI, on the caller's INVITE to the queue).
const AppealHeader = "X-Hotline-Appeal"

// Outcomes of a handoff (HandoffRecord.Outcome) and the call reasons
// they give.
const (
	OutcomeTransferred    = "transferred"
	OutcomeTransferFailed = "transfer_failed"
	OutcomeCallback       = "callback"
	OutcomeLeftQueued     = "left_queued" // no way to reach a person and no callback service
)

// Handler runs calls. It is safe for concurrent calls.
type Handler struct {
	deps            voice.Deps
	botConfig       func(callID, phone string) bot.Config
	store           *Store
	log             *slog.Logger
	referURI        func(queue string) string
	callbacks       Callbacks
	metrics         *Metrics
	tune            func(*voice.Config)
	transferTimeout time.Duration
	now             func() time.Time
	bridges         *Bridges
	queue           Queue
	maxHold         time.Duration
	holdEvery       time.Duration
	onEnd           func(Call)
	handoffPhone    func(handoffID string) string
}

// WithHandoffPhone gives the phone number the bot collected during a
// call (the handoff's "phone" slot; "" when none), used for a callback
// when the channel has no caller id (in-app calls).
func WithHandoffPhone(f func(handoffID string) string) Option {
	return func(h *Handler) { h.handoffPhone = f }
}

// WithBridges keeps callers handed to a queue without a REFER address on
// hold (music and the estimated wait from q every holdEvery, default
// 30 s) until an agent's leg joins through b, for at most maxHold
// (default 10 min; then the callback as without bridges).
func WithBridges(b *Bridges, q Queue, maxHold, holdEvery time.Duration) Option {
	return func(h *Handler) {
		h.bridges, h.queue = b, q
		if maxHold > 0 {
			h.maxHold = maxHold
		}
		if holdEvery > 0 {
			h.holdEvery = holdEvery
		}
	}
}

// WithOnEnd calls f with every finished call's record (the call-end
// webhook).
func WithOnEnd(f func(Call)) Option { return func(h *Handler) { h.onEnd = f } }

// Option configures a Handler.
type Option func(*Handler)

// WithStore records calls in s.
func WithStore(s *Store) Option { return func(h *Handler) { h.store = s } }

// WithLogger sets the logger (call_id is added per call).
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// WithReferURI gives the SIP address a queue's calls are transferred to
// ("" when the queue has none: the caller gets a callback instead).
func WithReferURI(f func(queue string) string) Option { return func(h *Handler) { h.referURI = f } }

// WithCallbacks sets where callback requests go when a handoff fails.
func WithCallbacks(c Callbacks) Option { return func(h *Handler) { h.callbacks = c } }

// WithMetrics counts calls.
func WithMetrics(m *Metrics) Option { return func(h *Handler) { h.metrics = m } }

// WithVoiceConfig adjusts each call's voice.Config (voices, speed, ...).
func WithVoiceConfig(f func(*voice.Config)) Option { return func(h *Handler) { h.tune = f } }

// WithTransferTimeout bounds a transfer (REFER until the target answers).
// Default 30 s.
func WithTransferTimeout(d time.Duration) Option { return func(h *Handler) { h.transferTimeout = d } }

// New returns a handler running the voice pipeline with deps and the bot
// configured per call by botConfig (cmd/hotline's botStack.VoiceConfig).
func New(deps voice.Deps, botConfig func(callID, phone string) bot.Config, opts ...Option) (*Handler, error) {
	if deps.Synth == nil || deps.Recognizers == nil || botConfig == nil {
		return nil, fmt.Errorf("%w: voice deps (synthesizer, recognisers) and a bot configuration", ErrMissingDependency)
	}
	h := &Handler{deps: deps, botConfig: botConfig, log: slog.New(slog.DiscardHandler),
		referURI: func(string) string { return "" }, transferTimeout: 30 * time.Second, now: time.Now,
		maxHold: 10 * time.Minute, holdEvery: 30 * time.Second}
	for _, o := range opts {
		o(h)
	}
	return h, nil
}

// Handle runs one answered call until it ends and records it. It returns
// after everything it started has stopped; the channel hangs up after.
// The error is non-nil when the pipeline could not start.
func (h *Handler) Handle(ctx context.Context, conn voice.Conn, info CallInfo) error {
	log := h.log.With("call_id", info.ID, "channel", info.Channel)
	rec := Call{ID: info.ID, Channel: info.Channel, StartedAt: h.now(), Caller: redact.Digits(info.From),
		Codec: info.Codec, Lang: info.Lang}
	if h.store != nil {
		// A failed insert is logged: the call matters more than its record.
		if err := h.store.Start(ctx, rec); err != nil {
			log.Error("recording call start", "error", err)
		}
	}
	h.metrics.started(info.Channel)
	log.Info("call started", "from", rec.Caller, "codec", info.Codec, "lang", info.Lang)

	cfg := voice.Config{Bot: h.botConfig(info.ID, info.From), Rate: info.Rate}
	if info.Lang != "" {
		cfg.Bot.Lang = info.Lang
	}
	if h.tune != nil {
		h.tune(&cfg)
	}
	// Partial results go into the record with their times. OnEvent runs
	// in Run's loop, and Run has returned before they are read.
	parts := &partialLog{now: h.now}
	next := cfg.OnEvent
	emit := func(ev voice.Event) {
		if next != nil {
			next(ev)
		}
	}
	var endEv *voice.Event
	cfg.OnEvent = func(ev voice.Event) {
		parts.add(ev)
		if ev.Type == voice.EventEnd {
			// Held back until the handoff is over: the caller's screen
			// must not hang up while they wait for an agent.
			endEv = &ev
			return
		}
		emit(ev)
	}
	deps := h.deps
	deps.Log = log
	res, err := voice.Run(ctx, conn, deps, cfg)
	if err != nil && res.Reason == "" {
		rec.Reason, rec.Error = "error", err.Error()
	} else {
		rec.Reason = res.Reason
	}
	if ec, ok := conn.(EndReasoner); ok && rec.Reason == voice.ReasonCanceled {
		// The channel's hang-up cancels ctx too: say which it was.
		if r := ec.EndReason(); r != "" {
			rec.Reason = r
		}
	}
	if res.Handoff != nil {
		rec.Handoff = h.handoffWith(ctx, conn, info, cfg, *res.Handoff, res.Transcript, emit, log)
		rec.Reason = rec.Handoff.Outcome
		rec.AppealNumber = res.Handoff.AppealNumber
	}
	if endEv != nil {
		if rec.Handoff != nil {
			endEv.Reason = rec.Reason
		}
		emit(*endEv)
	}
	h.finish(&rec, conn, res, cfg.Bot.Lang, parts)
	h.metrics.ended(info.Channel, rec.Reason, res.Turns)
	log.Info("call ended", "reason", rec.Reason, "turns", len(res.Turns), "frames_in", rec.FramesIn, "frames_out", rec.FramesOut)
	if h.store != nil {
		// The call's ctx may be over already (hang-up): the record is still written.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if serr := h.store.Finish(sctx, rec); serr != nil {
			log.Error("recording call", "error", serr)
		}
	}
	if h.onEnd != nil {
		h.onEnd(rec)
	}
	if err != nil && res.Reason == "" {
		return fmt.Errorf("calls: %w", err)
	}
	return nil
}

// handoff hands the caller over as configured. The wait message has
// been played by the bot already.
func (h *Handler) handoff(ctx context.Context, conn voice.Conn, info CallInfo, cfg voice.Config, ho voice.Handoff,
	emit func(voice.Event), log *slog.Logger) *HandoffRecord {
	return h.handoffWith(ctx, conn, info, cfg, ho, nil, emit, log)
}

// handoffWith is handoff with the call's transcript for a callback
// appeal.
func (h *Handler) handoffWith(ctx context.Context, conn voice.Conn, info CallInfo, cfg voice.Config, ho voice.Handoff,
	transcript []bot.Turn, emit func(voice.Event), log *slog.Logger) *HandoffRecord {
	// The number the bot collected is read now: after a long hold the
	// handoff may have left the queue.
	phone := info.From
	if phone == "" && h.handoffPhone != nil && ho.HandoffID != "" {
		phone = h.handoffPhone(ho.HandoffID)
	}
	r := &HandoffRecord{Queue: ho.Queue, Mode: ho.Mode, HandoffID: ho.HandoffID, EstimatedWaitS: int(ho.EstimatedWait / time.Second)}
	if emit == nil {
		emit = func(voice.Event) {}
	}
	lang := cmpOr(ho.Lang, cfg.Bot.Lang, "ru")
	tr, canTransfer := conn.(Transferer)
	uri := h.referURI(ho.Queue)
	if ho.Mode == voice.TransferRefer && uri != "" && canTransfer {
		r.ReferTo = uri
		headers := map[string]string{}
		if ho.AppealNumber != "" {
			headers[AppealHeader] = ho.AppealNumber
		}
		tctx, cancel := context.WithTimeout(ctx, h.transferTimeout)
		err := tr.Transfer(tctx, uri, headers)
		cancel()
		if err == nil {
			log.Info("call transferred", "queue", ho.Queue, "appeal", ho.AppealNumber)
			r.Outcome = OutcomeTransferred
			if tl, ok := h.callbacks.(TransferListener); ok {
				if err := tl.Transferred(context.WithoutCancel(ctx), ho, uri); err != nil {
					log.Warn("withdrawing the desk handoff of a transferred call", "handoff", ho.HandoffID, "error", err)
				}
			}
			return r
		}
		log.Warn("transfer failed: the bot takes the call back and registers a callback", "queue", ho.Queue, "error", err)
		r.Outcome = OutcomeTransferFailed
	} else if h.bridges != nil && h.queue != nil && ho.HandoffID != "" && !isDone(conn) && ctx.Err() == nil {
		// No REFER address (or bridge mode): the caller holds for an
		// agent who joins from the desk in the browser.
		r.Mode = voice.TransferBridge
		if out := h.holdAndBridge(ctx, conn, info, cfg, ho, lang, r, emit, log); out != "" {
			r.Outcome = out
			return r
		}
		r.Outcome = OutcomeHoldOver
	} else {
		// No agent leg can be bridged here (and a queue without a REFER
		// address cannot take the call): the caller gets a callback
		// rather than waiting on a line no agent can pick up.
		log.Info("no transfer path for the handoff: registering a callback", "queue", ho.Queue, "mode", ho.Mode,
			"refer_uri_configured", uri != "")
	}
	if isDone(conn) || ctx.Err() != nil {
		// The caller hung up meanwhile; the handoff stays queued as it was.
		if r.Outcome == "" {
			r.Outcome = OutcomeLeftQueued
		}
		return r
	}
	if h.callbacks == nil {
		h.say(ctx, conn, cfg, lang, text(lang, msgNoOperator))
		if r.Outcome == "" {
			r.Outcome = OutcomeLeftQueued
		}
		return r
	}
	var number string
	var err error
	if cr, ok := h.callbacks.(CallbackRequester); ok {
		number, err = cr.RequestCallbackFor(context.WithoutCancel(ctx), CallbackRequest{Handoff: ho, Phone: phone,
			Channel: info.Channel, User: info.User, Transcript: transcript})
	} else {
		number, err = h.callbacks.RequestCallback(context.WithoutCancel(ctx), ho, phone)
	}
	if err != nil {
		log.Error("callback request failed", "error", err)
		h.say(ctx, conn, cfg, lang, text(lang, msgNoOperator))
		if r.Outcome == "" {
			r.Outcome = OutcomeLeftQueued
		}
		return r
	}
	r.CallbackAppeal, r.Outcome = number, OutcomeCallback
	log.Info("callback registered", "appeal", number, "queue", ho.Queue, "phone_known", phone != "")
	emit(voice.Event{Type: EventCallback, Lang: lang, Queue: ho.Queue, AppealNumber: number})
	msg := msgCallback
	if phone == "" && info.Channel == "webrtc" {
		// No number to call: the operator answers through the app or
		// portal (SIP callers without a caller id keep the old prompt).
		msg = msgCallbackApp
	}
	h.say(ctx, conn, cfg, lang, fmt.Sprintf(text(lang, msg), number))
	return r
}

// say plays one sentence to the caller and waits until it has been sent.
func (h *Handler) say(ctx context.Context, conn voice.Conn, cfg voice.Config, lang, s string) {
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	st, err := h.deps.Synth.Synthesize(sctx, tts.Request{Text: s, Lang: lang, Voice: cfg.Voices[lang], Rate: cfg.Rate, Speed: cfg.Speed})
	if err != nil {
		h.log.Warn("synthesis of a closing prompt failed", "error", err)
		return
	}
	defer st.Close()
	for {
		f, err := st.ReadFrame()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				h.log.Warn("synthesis of a closing prompt failed", "error", err)
			}
			break
		}
		if isDone(conn) || conn.WriteFrame(f) != nil {
			return
		}
	}
	// WriteFrame paces at real time with a short queue: a last moment
	// lets the queued audio out before the channel hangs up.
	if fl, ok := conn.(interface{ Flush() error }); ok {
		_ = fl.Flush()
	}
	select {
	case <-time.After(300 * time.Millisecond):
	case <-conn.Done():
	case <-ctx.Done():
	}
}

func (h *Handler) finish(rec *Call, conn voice.Conn, res voice.Result, lang string, parts *partialLog) {
	t := h.now()
	rec.EndedAt = &t
	rec.FramesIn, rec.FramesOut, rec.BargeIns = res.FramesIn, res.FramesOut, len(res.BargeIns)
	if ps, ok := conn.(PacketStats); ok {
		rec.PacketsIn, rec.PacketsOut = ps.Packets()
	}
	rec.Turns = mergeTurns(res.Transcript, res.Turns)
	attachPartials(rec.Turns, parts.finals)
	if rec.Lang == "" {
		rec.Lang = lang
	}
	for _, tr := range res.Turns {
		if tr.Lang != "" {
			rec.Lang = tr.Lang
		}
	}
	if parts.replyLang != "" {
		// The language the bot spoke last is the conversation's, also
		// for a caller who only pressed keys.
		rec.Lang = parts.replyLang
	}
}

// mergeTurns lays the pipeline's latencies onto the bot's transcript: a
// caller line gets the latencies of the pipeline turn with the same
// input, in order.
func mergeTurns(transcript []bot.Turn, turns []voice.Turn) []Turn {
	out := make([]Turn, 0, len(transcript))
	next := 0
	for _, bt := range transcript {
		t := Turn{At: bt.At, Speaker: bt.Speaker, Text: bt.Text, Intent: bt.Intent, LatencyMs: bt.Latency.Milliseconds()}
		if bt.Speaker == bot.SpeakerCaller {
			for j := next; j < len(turns); j++ {
				if sameInput(turns[j].Input, bt.Text) {
					vt := turns[j]
					t.Lang, t.BargeIn = vt.Lang, vt.BargeIn
					t.EndpointingMs, t.RecognitionMs = vt.Endpointing.Milliseconds(), vt.Recognition.Milliseconds()
					t.UnderstandingMs, t.WaitingMs = vt.Understanding.Milliseconds(), vt.Waiting.Milliseconds()
					t.SynthesisMs, t.VoiceToVoiceMs = vt.Synthesis.Milliseconds(), vt.VoiceToVoice.Milliseconds()
					next = j + 1
					break
				}
			}
		}
		out = append(out, t)
	}
	return out
}

// utterance is a final result with the partial results before it.
type utterance struct {
	text     string
	partials []Partial
}

// partialLog collects the caller's partial results per utterance.
type partialLog struct {
	now     func() time.Time
	pending []Partial
	finals  []utterance
	// replyLang is the language of the bot's last reply.
	replyLang string
}

func (p *partialLog) add(ev voice.Event) {
	switch ev.Type {
	case voice.EventPartial:
		if n := len(p.pending); n > 0 && p.pending[n-1].Text == ev.Text {
			return
		}
		p.pending = append(p.pending, Partial{At: p.now(), Text: ev.Text})
	case voice.EventReply:
		if ev.Lang != "" {
			p.replyLang = ev.Lang
		}
	case voice.EventFinal:
		p.finals = append(p.finals, utterance{text: ev.Text, partials: p.pending})
		p.pending = nil
	}
}

// attachPartials gives each caller turn the partials of its utterance.
func attachPartials(turns []Turn, finals []utterance) {
	next := 0
	for i := range turns {
		if turns[i].Speaker != bot.SpeakerCaller {
			continue
		}
		for j := next; j < len(finals); j++ {
			if sameInput(finals[j].text, turns[i].Text) {
				turns[i].Partials = finals[j].partials
				next = j + 1
				break
			}
		}
	}
}

func sameInput(a, b string) bool {
	norm := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
	a, b = norm(a), norm(b)
	return a == b || strings.Contains(a, b) || strings.Contains(b, a)
}

func isDone(conn voice.Conn) bool {
	select {
	case <-conn.Done():
		return true
	default:
		return false
	}
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
