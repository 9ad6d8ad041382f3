package bot

import (
	"context"
	"time"
)

// The interfaces below are what a conversation needs from the rest of the
// system. They are small and use the bot's own types so that the dialogue
// logic can be tested with fakes and does not change when an engine does;
// package bot/adapters fits the real nlu, knowledge, appeal and handoff
// packages to them.

// Understander tells what an utterance means.
type Understander interface {
	Parse(ctx context.Context, text string, hint Hint) (Understanding, error)
}

// Hint is what the dialogue knows before the utterance.
type Hint struct {
	Lang   string // the conversation's language
	Expect string // an Expect* constant: what the bot just asked for
}

// What the bot just asked for, passed to the Understander.
const (
	ExpectNone         = ""
	ExpectAppealNumber = "appeal_number"
	ExpectPhone        = "phone"
	ExpectYesNo        = "yes_no"
	ExpectLanguage     = "language"
)

// Intents the bot acts on.
const (
	IntentFAQ             = "faq"
	IntentCheckStatus     = "check_status"
	IntentFileApplication = "file_application"
	IntentOperator        = "operator"
	IntentComplaint       = "complaint"
	IntentCallback        = "callback"
	IntentRepeat          = "repeat"
	IntentYes             = "yes"
	IntentNo              = "no"
	IntentGoodbye         = "goodbye"
	IntentSwitchLanguage  = "switch_language"
)

// Slot names the bot reads.
const (
	SlotAppealNumber = "application_number"
	SlotPhone        = "phone"
	SlotLanguage     = "lang"
	// SlotDigits is every number in the utterance as digits, numbers said
	// as words included: the fallback where the bot asked for digits.
	SlotDigits = "digits"
)

// Understanding is what an utterance means.
type Understanding struct {
	Lang           string  // "ru" or "en"
	LangConfidence float64 // how sure Lang is, 0..1
	Intent         string  // "" when nothing was said
	Confidence     float64
	Alternatives   []Alternative // best first
	Queue          string
	Slots          map[string]string
	Article        *Article // best article, for faq
}

// Alternative is a runner-up intent.
type Alternative struct {
	Intent string
	Score  float64
}

// Article is a knowledge-base answer.
type Article struct {
	ID, Queue, Title, Spoken string
	Confidence               float64 // 0..1
}

// Answerer finds answers in the knowledge base; the bot uses it for the
// runner-up topics it offers when unsure.
type Answerer interface {
	Search(ctx context.Context, query, lang string, limit int) ([]Article, error)
}

// Appeals registers appeals and tells callers their status.
type Appeals interface {
	// ValidNumber returns nil, ErrMalformedNumber or ErrCheckDigit.
	ValidNumber(number string) error
	Create(ctx context.Context, a NewAppeal) (string, error) // the appeal number
	// Lookup returns ErrLookupFailed for an unknown number or a wrong
	// second factor (the same error on purpose) and ErrRateLimited.
	Lookup(ctx context.Context, number, phoneLast4, lang string) (StatusInfo, error)
	AppendTranscript(ctx context.Context, number string, turns []Turn) error
}

// Channels of a conversation and of an appeal.
const (
	ChannelVoice    = "voice"
	ChannelChat     = "chat"
	ChannelCallback = "callback"
)

// NewAppeal is an appeal the bot registers.
type NewAppeal struct {
	Channel    string // ChannelVoice, ChannelChat or ChannelCallback
	Lang       string
	Queue      string
	Intent     string
	Subject    string
	Phone      string
	Slots      map[string]string
	Articles   []string // knowledge articles the bot tried
	Transcript []Turn
}

// StatusInfo is an appeal's status as the caller hears it.
type StatusInfo struct {
	Number   string
	Status   string // accepted, in_progress, under_approval, done, rejected
	Label    string // «В обработке»
	Meaning  string
	Reason   string // for rejected
	Deadline *time.Time
}

// Router hands conversations to human queues.
type Router interface {
	// Hours tells whether operators of queue work now and, if not, when
	// they return.
	Hours(ctx context.Context, queue string) (Hours, error)
	// Route queues the conversation for an agent (in hours) or for a
	// callback (out of hours).
	Route(ctx context.Context, r HandoffRequest) (Decision, error)
}

// Hours is a queue's availability now.
type Hours struct {
	Open     bool
	NextOpen time.Time // when closed: the start of the next working period
}

// HandoffRequest is a conversation handed to a person.
type HandoffRequest struct {
	ConversationID string
	AppealNumber   string
	Channel        string
	Lang           string
	Queue          string
	Intent         string
	Reason         string // Reason* constant
	Slots          map[string]string
	Transcript     []Turn
	Attempts       []Attempt
	Callback       bool // the caller asked to be called back
}

// Reasons for a handoff.
const (
	ReasonAsked         = "caller_asked"
	ReasonNotUnderstood = "not_understood"
	ReasonComplaint     = "complaint"
	ReasonHumanOnly     = "human_only_topic"
	ReasonStatusFailed  = "status_check_failed"
	ReasonCallback      = "callback"
)

// Attempt is an answer the bot tried before handing off.
type Attempt struct {
	Question  string
	ArticleID string
	Score     float64
}

// Decision is where a handoff went.
type Decision struct {
	HandoffID     string
	Queue         string
	InHours       bool
	EstimatedWait time.Duration
	Callback      bool
	NextOpen      time.Time
}

// Relay carries a chat's messages to the agent who took it over. The desk
// implements it; without one the bot keeps the caller's messages in the
// transcript for the agent.
type Relay interface {
	ToAgent(ctx context.Context, handoffID string, t Turn) error
}

// Clock is time for the session: injected so that timeout tests run
// instantly.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc.
type Timer interface {
	Stop() bool
}

type realClock struct{}

func (realClock) Now() time.Time                            { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// RealClock is the wall clock.
func RealClock() Clock { return realClock{} }
