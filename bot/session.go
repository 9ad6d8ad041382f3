package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hotline-ivr/hotline/internal/redact"
)

// InputKind says what a caller (or the channel) did.
type InputKind int

// Input kinds. Text channels send Text (and DTMF from buttons); voice
// sends SpeechStart, Partial and Final from the recogniser and DTMF from
// the keypad.
const (
	InputText        InputKind = iota + 1 // a typed message
	InputDTMF                             // keypad digits
	InputSpeechStart                      // the caller began speaking (barge-in)
	InputPartial                          // interim recognition, for display only
	InputFinal                            // final recognition of an utterance
	InputNoInput                          // the channel detected silence (its own timer)
	InputLanguage                         // the channel's language control: Lang
	InputAgentText                        // the agent who took the chat wrote Text
	InputHangup                           // the caller left
	// InputReplyDone: the channel finished playing the bot's reply. Voice
	// sends it so that silence is timed from the end of the audio, not
	// from when the text was ready.
	InputReplyDone
)

var inputNames = map[InputKind]string{
	InputText: "text", InputDTMF: "dtmf", InputSpeechStart: "speech_start", InputPartial: "partial",
	InputFinal: "final", InputNoInput: "no_input", InputLanguage: "language", InputAgentText: "agent_text",
	InputHangup: "hangup", InputReplyDone: "reply_done",
}

func (k InputKind) String() string { return inputNames[k] }

// Input is one thing from the channel.
type Input struct {
	Kind   InputKind
	Text   string
	Digits string // DTMF: "0"–"9", "*", "#"
	Lang   string // InputLanguage
}

// EventKind says what an Event is.
type EventKind int

// Event kinds. Reply and ReplyEnd bracket the bot's turn: the channel
// speaks or shows each Reply, and ReplyEnd says the bot now listens.
// SpeechStart, Partial and Final echo the caller's side so that a live
// transcript and barge-in can follow the conversation.
const (
	EventSpeechStart EventKind = iota + 1
	EventPartial
	EventFinal
	EventReply
	EventReplyEnd
	EventHandoff
	EventAgent // a message from the agent who took the chat
	EventEnd
)

var eventNames = map[EventKind]string{
	EventSpeechStart: "speech_start", EventPartial: "partial", EventFinal: "final", EventReply: "reply",
	EventReplyEnd: "reply_end", EventHandoff: "handoff", EventAgent: "agent", EventEnd: "end",
}

func (k EventKind) String() string { return eventNames[k] }

// Event is one thing the session tells the channel.
type Event struct {
	Kind EventKind
	Text string
	Lang string
	At   time.Time
	// Set on EventHandoff (and on the EventReply that reads an appeal number).
	AppealNumber string
	Handoff      *Decision
	// Set on EventEnd.
	Reason string
	// NoBargeIn (EventReply) asks a voice channel to play the reply whole
	// even if the caller speaks over it: the recording notice.
	NoBargeIn bool
	// ArticleID (EventReply) is the knowledge-base article the reply
	// answers from, in Lang; empty for the bot's own prompts.
	ArticleID string
	// Expect (EventReplyEnd) is what the bot has just asked for, an
	// Expect* value: a voice channel uses it to judge whether the
	// caller's answer is complete at a short pause.
	Expect string
}

// End reasons.
const (
	EndGoodbye   = "goodbye"
	EndNoInput   = "no_input"
	EndHangup    = "hangup"
	EndHandoff   = "handoff" // voice: the call goes to the agent
	EndNoHelp    = "no_help"
	EndProfanity = "profanity"
	EndClosed    = "closed"
)

// Speaker of a transcript turn.
const (
	SpeakerCaller = "caller"
	SpeakerBot    = "bot"
	SpeakerAgent  = "agent"
	SpeakerSystem = "system"
)

// Turn is one line of the transcript.
type Turn struct {
	At         time.Time     `json:"at"`
	Speaker    string        `json:"speaker"`
	Text       string        `json:"text"`
	Intent     string        `json:"intent,omitempty"`
	Confidence float64       `json:"confidence,omitempty"`
	Latency    time.Duration `json:"latency,omitempty"` // bot turns: from the caller's input to the reply
}

// Deps are what a session talks to. Understander and Appeals are
// required; without an Answerer the bot offers only nlu's best article,
// without a Router it cannot hand off (it says so and takes an appeal).
type Deps struct {
	Understander Understander
	Answerer     Answerer
	Appeals      Appeals
	Router       Router
	Relay        Relay
	Clock        Clock
	Log          *slog.Logger
}

// Config tunes a session. Zero fields take defaults.
type Config struct {
	Channel        string        // ChannelVoice (default) or ChannelChat
	Lang           string        // start language; "" asks the caller
	ID             string        // conversation id; random when empty
	CallerPhone    string        // caller id, when the channel knows it
	NoInput        time.Duration // silence before a re-prompt (voice 8 s, chat 5 min)
	NoInputRetries int           // re-prompts before ending (default 2)
	MaxFailures    int           // failed understandings in a row before handoff (default 2)
	MaxNo          int           // "no" answers in a row before offering an operator (default 3)
	MaxInputRunes  int           // longer text is refused politely (default 1000)
	// AnswerThreshold is the faq confidence to answer directly (default
	// 0.5); between ClarifyThreshold (default 0.25) and it the bot offers
	// the two best topics.
	AnswerThreshold  float64
	ClarifyThreshold float64
	// HumanOnly lists article ids or queues that always go to a person.
	HumanOnly []string
	// CallbackOutOfHours: operator requests out of hours become a callback
	// offer (default true; set SkipCallbackOffer to turn off).
	SkipCallbackOffer bool
}

func (c *Config) defaults() {
	if c.Channel == "" {
		c.Channel = ChannelVoice
	}
	if c.NoInput <= 0 {
		c.NoInput = 8 * time.Second
		if c.Channel == ChannelChat {
			c.NoInput = 5 * time.Minute
		}
	}
	if c.NoInputRetries <= 0 {
		c.NoInputRetries = 2
	}
	if c.MaxFailures <= 0 {
		c.MaxFailures = 2
	}
	if c.MaxNo <= 0 {
		c.MaxNo = 3
	}
	if c.MaxInputRunes <= 0 {
		c.MaxInputRunes = 1000
	}
	if c.AnswerThreshold <= 0 {
		c.AnswerThreshold = 0.5
	}
	if c.ClarifyThreshold <= 0 {
		c.ClarifyThreshold = 0.25
	}
	if c.ID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		c.ID = hex.EncodeToString(b[:])
	}
	if c.Lang != "" && c.Lang != "ru" && c.Lang != "en" {
		c.Lang = ""
	}
}

// Session is one conversation. A goroutine it owns runs the dialogue: the
// channel sends inputs with Send and reads what to say from Events, so
// the bot can be interrupted while it speaks and its timers fire without
// anybody calling it.
type Session struct {
	cfg  Config
	deps Deps
	log  *slog.Logger

	inputs   chan Input
	timeouts chan uint64
	events   chan Event
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once

	mu         sync.Mutex
	transcript []Turn

	d *dialog // owned by the run goroutine
}

// New starts a session: it greets the caller at once. Close it (or send
// InputHangup) when the channel ends.
func New(deps Deps, cfg Config) (*Session, error) {
	if deps.Understander == nil || deps.Appeals == nil {
		return nil, fmt.Errorf("%w: an Understander and Appeals are required", ErrMissingDependency)
	}
	if deps.Clock == nil {
		deps.Clock = RealClock()
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	cfg.defaults()
	s := &Session{
		cfg: cfg, deps: deps,
		log:      deps.Log.With("conversation_id", cfg.ID, "channel", cfg.Channel),
		inputs:   make(chan Input, 16),
		timeouts: make(chan uint64, 1),
		events:   make(chan Event, 64),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	s.d = newDialog(s)
	go s.run()
	return s, nil
}

// ID is the conversation id.
func (s *Session) ID() string { return s.cfg.ID }

// Events delivers what the bot says and does. It is closed after
// EventEnd. The channel must keep reading it: the session waits for the
// reader rather than drop a reply.
func (s *Session) Events() <-chan Event { return s.events }

// Done is closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// Send passes one input to the session. It returns ErrClosed once the
// session has ended.
func (s *Session) Send(ctx context.Context, in Input) error {
	select {
	case <-s.done:
		return ErrClosed
	default:
	}
	select {
	case s.inputs <- in:
		return nil
	case <-s.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close ends the session as if the caller hung up and waits for it to
// save the transcript. Events is drained meanwhile if nobody reads it.
// It is idempotent.
func (s *Session) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.done
	return nil
}

// Transcript returns a copy of the conversation so far.
func (s *Session) Transcript() []Turn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Turn(nil), s.transcript...)
}

func (s *Session) addTurn(t Turn) {
	s.mu.Lock()
	s.transcript = append(s.transcript, t)
	s.mu.Unlock()
	// Turns can carry phone numbers and the like: the log gets them masked.
	s.log.Info("turn", "speaker", t.Speaker, "text", redact.String(t.Text), "intent", t.Intent,
		"confidence", t.Confidence, "latency_ms", t.Latency.Milliseconds())
}

func (s *Session) run() {
	defer close(s.done)
	defer close(s.events)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := s.d
	d.start(ctx)
	for !d.ended {
		select {
		case in := <-s.inputs:
			d.handle(ctx, in)
		case gen := <-s.timeouts:
			if gen == d.timerGen {
				d.noInput(ctx, false)
			}
		case <-s.stop:
			d.hangup(ctx, EndClosed)
		}
	}
	d.finish(ctx)
}

// emit delivers an event, waiting for the reader; if the session is being
// closed and nobody reads, the event is dropped rather than hang Close.
func (s *Session) emit(ev Event) {
	if ev.At.IsZero() {
		ev.At = s.deps.Clock.Now()
	}
	select {
	case s.events <- ev:
		return
	default:
	}
	select {
	case s.events <- ev:
	case <-s.stop:
	}
}

// arm starts the no-input timer for generation gen.
func (s *Session) arm(gen uint64) Timer {
	return s.deps.Clock.AfterFunc(s.cfg.NoInput, func() {
		select {
		case s.timeouts <- gen:
		case <-s.done:
		default:
			// A timeout is already pending; the newer one wins below.
			select {
			case <-s.timeouts:
			default:
			}
			select {
			case s.timeouts <- gen:
			default:
			}
		}
	})
}
