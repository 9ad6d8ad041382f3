// Package voice is the channel-independent voice pipeline of a call: the
// caller's audio goes to a streaming recogniser in the conversation's
// language, recognised speech and keys go to a bot.Session, the bot's
// replies are synthesised and played back, and caller speech over an
// interruptible reply stops it (barge-in).
//
// A telephony channel (SIP, WebRTC) calls Run from its call handler with
// its call as a Conn; Run returns when the caller hangs up, the bot ends
// the conversation (goodbye, handoff) or ctx ends, after stopping and
// waiting for everything it started. The Result says how the call ended
// (with the handoff to perform, if any) and carries per-turn latencies.
//
// A channel's call handler, for example SIP (*sip.Call is a Conn as is):
//
//	res, err := voice.Run(ctx, call, voice.Deps{
//		Recognizers: recognizers, // "en" → PocketSphinx, "ru" → Vosk
//		Synth:       synth,       // Festival or eSpeak (with tts.Cache)
//		Bot:         stack.Deps,
//		Log:         log,
//	}, voice.Config{Bot: stack.VoiceConfig(call.ID, callerPhone), Rate: 8000})
//	if err != nil { ... } // could not start: answer with an error prompt or 503
//	if h := res.Handoff; h != nil {
//		// REFER to the queue's address (h.Queue, h.AppealNumber in a header)
//	}
//	// then hang up; res.Turns go to metrics (voice-to-voice latency)
package voice

import (
	"log/slog"
	"time"

	"github.com/hotline-ivr/hotline/asr"
	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/bot"
	"github.com/hotline-ivr/hotline/telephony/media"
	"github.com/hotline-ivr/hotline/tts"
)

// Conn is the media side of a call as the pipeline needs it. *sip.Call
// satisfies it as is; a WebRTC call will too.
type Conn interface {
	// ReadFrame returns the caller's next 20 ms of audio, blocking until it
	// is due, and an error once the call's media has ended. It should not
	// block for long while the call is up (a channel sends silence or
	// returns when the call ends): Run waits for it when it returns.
	ReadFrame() (audio.Frame, error)
	// WriteFrame queues audio for the caller; the channel paces it at real
	// time and blocks while a short queue is full.
	WriteFrame(audio.Frame) error
	// ClearPlayback drops audio queued but not yet sent (barge-in) and
	// returns how many frames were dropped.
	ClearPlayback() int
	// DTMF delivers the caller's key presses.
	DTMF() <-chan media.Digit
	// Done is closed when the call has ended.
	Done() <-chan struct{}
}

// RecognizerFunc returns the recogniser for a language ("ru", "en"), or an
// error (wrapping ErrNoRecognizer, asr.ErrModelMissing, ...) when there is
// none: English may run on PocketSphinx and Russian on Vosk.
type RecognizerFunc func(lang string) (asr.Recognizer, error)

// Deps are what a call's pipeline talks to; they are shared by calls.
type Deps struct {
	Recognizers RecognizerFunc
	Synth       tts.Synthesizer
	// Bot is the conversation's dependencies (cmd/hotline's botStack.Deps).
	Bot bot.Deps
	// Log gets call_id added; nil discards.
	Log *slog.Logger
	// Completer, when set, ends a spoken turn at a short pause (the
	// recognisers' VAD Pause, asr.vad.early_endpoint) if what was said so
	// far is complete (UnderstandingCompleter); nil, or recognisers
	// without a Pause setting, always wait for the VAD's hangover.
	Completer Completer
}

// Transfer modes for a handoff: how the channel should hand the caller
// over. The pipeline only passes the configured one on.
const (
	TransferRefer  = "refer"  // SIP REFER to the queue's address
	TransferBridge = "bridge" // keep the call and bridge an agent's leg
)

// Config is one call's configuration. Zero fields take defaults.
type Config struct {
	// Bot is the conversation's configuration (botStack.VoiceConfig): ID
	// (the call id, also logged), CallerPhone, Lang (empty asks the
	// caller). Channel is forced to voice.
	Bot bot.Config
	// Rate is the sample rate of the frames written to the Conn (8000 on
	// the phone, 48000 for WebRTC). Default 8000.
	Rate int
	// Voices picks a synthesizer voice per language; empty uses the
	// engine's default.
	Voices map[string]string
	// Speed scales the speaking rate (see tts.Request.Speed).
	Speed float64
	// ListenLang is the recogniser used before the caller has chosen a
	// language (default "ru"; the other language when it has none).
	ListenLang string
	// BargeInConfirm is how long caller speech must go on without a
	// break before it stops the bot's reply (default 200 ms); a non-empty
	// partial result confirms it sooner. It keeps line noise and clicks
	// from cutting the bot off.
	BargeInConfirm time.Duration
	// NoBargeIn plays every reply whole.
	NoBargeIn bool
	// EchoMargin is how much louder than the bot's own recent output
	// caller audio must be to count towards a barge-in while the bot
	// speaks (default 15 dB, a typical line's echo return loss): the
	// bot's voice echoed back by the line does not cut it off. Negative
	// turns the gate off (a channel with echo cancellation).
	EchoMargin float64
	// DTMFGap is how long to wait for another key before the keys pressed
	// so far go to the bot as one entry (default 1 s); '#' ends an entry
	// at once. Any key stops an interruptible reply immediately.
	DTMFGap time.Duration
	// Transfer is the handoff mode reported in Result.Handoff (default
	// TransferRefer).
	Transfer string
	// Now is the wall clock for latency stamps (tests); default time.Now.
	Now func() time.Time
	// OnEvent, when set, gets what a channel with a screen shows the
	// caller (an app's live transcript): the caller's partial and final
	// text, the bot's replies, the handoff and the end. It is called from
	// Run's own loop and must not block (hand it to a buffered channel
	// or a non-blocking send).
	OnEvent func(Event)
	// Text, when set, delivers text the caller typed (an app's text box):
	// each string goes to the bot as a typed message and stops an
	// interruptible reply, as speech would.
	Text <-chan string
}

// Event types for Config.OnEvent.
const (
	EventPartial = "partial" // the caller's words so far
	EventFinal   = "final"   // the caller's utterance (or typed text)
	EventReply   = "reply"   // the bot's reply text (also spoken)
	EventHandoff = "handoff" // the caller goes to a person
	EventEnd     = "end"     // the conversation ended (Reason)
)

// Event is one thing for the caller's screen. Its JSON is the app's
// data-channel event schema (docs/openapi.yaml).
type Event struct {
	Type string `json:"type"`
	Text string `json:"text,omitempty"`
	Lang string `json:"lang,omitempty"`
	// Typed marks a final that the caller typed.
	Typed bool `json:"typed,omitempty"`
	// ArticleID (reply): the knowledge-base article the reply answers
	// from, in Lang; the page /kb/{lang}/{article_id} shows it.
	ArticleID string `json:"article_id,omitempty"`
	// Handoff: the queue, the appeal number and the estimated wait.
	Queue                string `json:"queue,omitempty"`
	AppealNumber         string `json:"appeal_number,omitempty"`
	EstimatedWaitSeconds int    `json:"estimated_wait_seconds,omitempty"`
	// End: a bot.End* value or ReasonCanceled.
	Reason string `json:"reason,omitempty"`
}

func (c *Config) defaults() {
	if c.Rate == 0 {
		c.Rate = audio.Rate8k
	}
	if c.ListenLang == "" {
		c.ListenLang = "ru"
	}
	if c.BargeInConfirm <= 0 {
		c.BargeInConfirm = 200 * time.Millisecond
	}
	if c.EchoMargin == 0 {
		c.EchoMargin = 15
	}
	if c.DTMFGap <= 0 {
		c.DTMFGap = time.Second
	}
	if c.Transfer == "" {
		c.Transfer = TransferRefer
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.Bot.Channel = bot.ChannelVoice
}

// Reasons a call's pipeline ended besides the bot's own (bot.EndGoodbye,
// bot.EndHandoff, bot.EndNoInput, ...).
const (
	ReasonHangup   = bot.EndHangup // the caller hung up
	ReasonCanceled = "canceled"    // Run's context ended
)

// Result is how a call went.
type Result struct {
	// ConversationID is the bot session's id (Config.Bot.ID when given).
	ConversationID string
	// Reason is why the conversation ended: a bot.End* value or
	// ReasonCanceled.
	Reason string
	// Handoff is set when the bot handed the caller to a person: the
	// channel transfers the call (REFER) or bridges an agent. The wait
	// message has already been played.
	Handoff *Handoff
	// Turns are the caller's turns with their latencies, in order.
	Turns []Turn
	// BargeIns are the times the caller cut the bot off.
	BargeIns []BargeIn
	// Transcript is the bot's transcript of the conversation.
	Transcript []bot.Turn
	// FramesIn and FramesOut count audio frames read and written.
	FramesIn, FramesOut int
}

// Handoff is where the caller goes.
type Handoff struct {
	Queue         string
	HandoffID     string
	AppealNumber  string
	Lang          string
	EstimatedWait time.Duration
	Mode          string // TransferRefer or TransferBridge
}

// Turn is one caller input and how fast the bot answered it. The parts
// add up (about) to VoiceToVoice: Endpointing + Recognition +
// Understanding + Waiting + Synthesis.
type Turn struct {
	Input string // recognised text, or "[DTMF 12#]"
	Lang  string // recogniser language ("" for keys)
	// EndOfSpeech is the wall-clock time the caller stopped speaking
	// (the audio instant the recogniser's VAD placed the end at), or the
	// time the key entry was complete.
	EndOfSpeech time.Time
	// Endpointing: end of speech until the recogniser decided the
	// utterance was over (mostly the VAD's hangover of silence).
	Endpointing time.Duration
	// EndedBy says what ended a spoken turn: EndedByHangover (the VAD's
	// hangover of silence) or EndedByEarly (a short pause after what the
	// Completer found complete); empty for keys, text and flushed input.
	EndedBy string
	// Recognition: that decision until the final result.
	Recognition time.Duration
	// Understanding: the input sent to the bot until its first reply.
	Understanding time.Duration
	// Waiting: the first reply queued behind audio still playing (a
	// non-interruptible prompt).
	Waiting time.Duration
	// Synthesis: synthesis started until its first frame.
	Synthesis time.Duration
	// VoiceToVoice: end of speech until the first frame of the reply was
	// written to the Conn. Zero if no reply audio was played.
	VoiceToVoice time.Duration
	Reply        string // the first reply's text
	BargeIn      bool   // the caller began this turn over the bot

	sent time.Time // when the input went to the bot
}

func (t Turn) sentAt() time.Time { return t.sent }

// BargeIn is one interruption of the bot.
type BargeIn struct {
	// Confirmed is when the pipeline decided the caller was really
	// speaking; Stopped is when playback was cut (ClearPlayback done).
	Confirmed, Stopped time.Time
	// By says what confirmed it: "speech" (sustained voice), "partial"
	// (a recognised word), "dtmf" or "text" (typed).
	By string
}

// Latency is Stopped-Confirmed, zero if nothing was playing by then.
func (b BargeIn) Latency() time.Duration {
	if b.Stopped.IsZero() {
		return 0
	}
	return b.Stopped.Sub(b.Confirmed)
}
