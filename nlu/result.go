package nlu

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/hotline-ivr/hotline/internal/redact"
)

// Intents.
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

// Intents lists every intent label.
var Intents = []string{
	IntentFAQ, IntentCheckStatus, IntentFileApplication, IntentOperator, IntentComplaint,
	IntentCallback, IntentRepeat, IntentYes, IntentNo, IntentGoodbye, IntentSwitchLanguage,
}

// Queues lists the topic queues.
var Queues = []string{"general", "tech", "social", "business", "abroad"}

// Sources of a Result.
const (
	SourceClassifier = "classifier"
	SourceLLM        = "llm"
)

// Hint is what the dialogue knows before the utterance.
type Hint struct {
	Lang   string // the conversation's language so far; used when the text does not tell
	Expect string // what the bot just asked for: an Expect* constant, or ""
	// Quick skips the LLM for an unsure utterance: a probe on the
	// latency path (is this partial a complete request?) that must not
	// wait for a model call.
	Quick bool
}

// Candidate is one knowledge-base article found for an utterance.
type Candidate struct {
	ID, Queue, Title, Spoken string
	Score                    float64 // retriever's own scale
	Confidence               float64 // 0..1
}

// Scored is a label with its probability.
type Scored struct {
	Label string  `json:"label"`
	Score float64 `json:"score"`
}

// Result is what an utterance means.
//
// Slots hold personal data (phone, SNILS, INN, passport): log a Result as
// a whole (it implements slog.LogValuer and fmt.Stringer, both masked),
// never its Slots or Text directly.
type Result struct {
	Lang           string
	LangConfidence float64
	Text           string // the input, after truncation
	Truncated      bool   // the input was longer than MaxInputRunes
	Normalized     string
	// Intent is empty when nothing was said (empty or punctuation-only
	// input); the bot should treat it like silence.
	Intent          string
	Confidence      float64
	Alternatives    []Scored // the top intents, best first
	Queue           string
	QueueConfidence float64
	Slots           map[string]string
	Article         *Candidate // best article, for faq
	Source          string     // SourceClassifier or SourceLLM
}

// personal slots are masked wherever a Result is logged.
var personal = []string{SlotPhone, SlotSNILS, SlotINN, SlotPassport}

// MaskedSlots returns the slots with personal numbers masked.
func (r Result) MaskedSlots() map[string]string {
	m := make(map[string]string, len(r.Slots))
	for k, v := range r.Slots {
		if slices.Contains(personal, k) {
			v = redact.Digits(v)
		}
		m[k] = v
	}
	return m
}

// LogValue implements slog.LogValuer with personal data masked.
func (r Result) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("lang", r.Lang),
		slog.String("intent", r.Intent),
		slog.Float64("confidence", round3(r.Confidence)),
		slog.String("queue", r.Queue),
		slog.String("source", r.Source),
		slog.String("text", redact.String(r.Normalized)),
	}
	if len(r.Slots) > 0 {
		ms := r.MaskedSlots()
		keys := sortedKeys(ms)
		sa := make([]any, 0, len(keys))
		for _, k := range keys {
			sa = append(sa, slog.String(k, ms[k]))
		}
		attrs = append(attrs, slog.Group("slots", sa...))
	}
	if r.Article != nil {
		attrs = append(attrs, slog.String("article", r.Article.ID))
	}
	return slog.GroupValue(attrs...)
}

// String is a one-line masked summary.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %.2f queue=%s", r.Lang, r.Intent, r.Confidence, r.Queue)
	ms := r.MaskedSlots()
	for _, k := range sortedKeys(ms) {
		fmt.Fprintf(&b, " %s=%s", k, ms[k])
	}
	if r.Article != nil {
		fmt.Fprintf(&b, " article=%s", r.Article.ID)
	}
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func round3(f float64) float64 { return float64(int(f*1000+0.5)) / 1000 }
