// Package adapters fits the real nlu, knowledge, appeal and handoff
// packages to the small interfaces package bot owns. Keeping them apart
// lets the dialogue logic build and test without the engines.
package adapters

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/bot"
	"github.com/hotline-ivr/hotline/handoff"
	"github.com/hotline-ivr/hotline/knowledge"
	"github.com/hotline-ivr/hotline/nlu"
	"github.com/hotline-ivr/hotline/nlu/textnorm"
)

// Parser is what Understander needs of nlu.
type Parser interface {
	Parse(ctx context.Context, text string, hint nlu.Hint) (nlu.Result, error)
}

var _ Parser = (*nlu.Parser)(nil)

// Understander adapts nlu to bot.Understander.
type Understander struct{ P Parser }

var _ bot.Understander = Understander{}

// Parse implements bot.Understander.
func (u Understander) Parse(ctx context.Context, text string, h bot.Hint) (bot.Understanding, error) {
	r, err := u.P.Parse(ctx, text, nlu.Hint{Lang: h.Lang, Expect: h.Expect})
	if err != nil {
		return bot.Understanding{}, err
	}
	out := bot.Understanding{
		Lang: r.Lang, LangConfidence: r.LangConfidence, Intent: r.Intent, Confidence: r.Confidence,
		Queue: r.Queue, Slots: map[string]string{},
	}
	for k, v := range r.Slots {
		out.Slots[k] = v
	}
	// Every number said, as digits: a recogniser writes "четыре пять шесть
	// семь" where the bot asked for the last 4 digits of a phone.
	var digits strings.Builder
	for _, t := range textnorm.Tokens(text) {
		if t.Num && !t.Ordinal {
			digits.WriteString(t.Text)
		}
	}
	if digits.Len() > 0 {
		out.Slots[bot.SlotDigits] = digits.String()
	}
	// A number that fails its check digit is still passed on: the bot
	// reads what it heard back and asks again.
	for _, a := range r.Alternatives {
		out.Alternatives = append(out.Alternatives, bot.Alternative{Intent: a.Label, Score: a.Score})
	}
	if c := r.Article; c != nil {
		out.Article = &bot.Article{ID: c.ID, Queue: c.Queue, Title: c.Title, Spoken: c.Spoken, Confidence: c.Confidence}
	}
	return out, nil
}

// Answerer adapts the knowledge base's search to bot.Answerer.
type Answerer struct{ S knowledge.Searcher }

var _ bot.Answerer = Answerer{}

// Search implements bot.Answerer.
func (a Answerer) Search(ctx context.Context, q, lang string, limit int) ([]bot.Article, error) {
	hits, err := a.S.Search(ctx, q, knowledge.SearchOptions{Lang: lang, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]bot.Article, 0, len(hits))
	for _, h := range hits {
		out = append(out, bot.Article{ID: h.Article.ID, Queue: h.Article.Queue, Title: h.Article.Title,
			Spoken: h.Article.Spoken, Confidence: h.Confidence})
	}
	return out, nil
}

// Appeals adapts the appeals service to bot.Appeals.
type Appeals struct{ S *appeal.Service }

var _ bot.Appeals = Appeals{}

// ValidNumber implements bot.Appeals.
func (a Appeals) ValidNumber(n string) error { return mapAppealErr(appeal.ValidNumber(n)) }

// Create implements bot.Appeals.
func (a Appeals) Create(ctx context.Context, na bot.NewAppeal) (string, error) {
	ap, _, err := a.S.Create(ctx, appeal.NewAppeal{
		Channel: appeal.Channel(na.Channel), Lang: na.Lang, Queue: na.Queue, Intent: na.Intent,
		Subject: truncate(na.Subject, 1000), Slots: na.Slots, Contact: appeal.Contact{Phone: na.Phone},
		Articles: na.Articles, Transcript: Turns(na.Transcript), Actor: "bot",
	}, "")
	if err != nil {
		return "", mapAppealErr(err)
	}
	return ap.Number, nil
}

// Lookup implements bot.Appeals.
func (a Appeals) Lookup(ctx context.Context, number, last4, lang string) (bot.StatusInfo, error) {
	info, err := a.S.LookupForCaller(ctx, number, last4, lang)
	if err != nil {
		return bot.StatusInfo{}, mapAppealErr(err)
	}
	return bot.StatusInfo{Number: info.Number, Status: string(info.Status), Label: info.Label,
		Meaning: info.Meaning, Reason: info.Reason, Deadline: info.Deadline}, nil
}

// AppendTranscript implements bot.Appeals.
func (a Appeals) AppendTranscript(ctx context.Context, number string, turns []bot.Turn) error {
	return mapAppealErr(a.S.AppendTranscript(ctx, number, Turns(turns)))
}

func mapAppealErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, appeal.ErrCheckDigit):
		return fmt.Errorf("%w: %w", bot.ErrCheckDigit, err)
	case errors.Is(err, appeal.ErrMalformedNumber):
		return fmt.Errorf("%w: %w", bot.ErrMalformedNumber, err)
	case errors.Is(err, appeal.ErrLookupFailed):
		return fmt.Errorf("%w: %w", bot.ErrLookupFailed, err)
	case errors.Is(err, appeal.ErrRateLimited):
		return fmt.Errorf("%w: %w", bot.ErrRateLimited, err)
	}
	return err
}

// Turns converts a bot transcript for an appeal. The appeal knows caller,
// bot and agent; the bot's system notes (no input, handoff) are kept as
// bracketed bot turns so the agent sees them in order.
func Turns(ts []bot.Turn) []appeal.TranscriptTurn {
	out := make([]appeal.TranscriptTurn, 0, len(ts))
	for _, t := range ts {
		sp, text := appeal.Speaker(t.Speaker), t.Text
		if t.Speaker == bot.SpeakerSystem {
			sp, text = appeal.SpeakerBot, "["+text+"]"
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		out = append(out, appeal.TranscriptTurn{At: t.At, Speaker: sp, Text: truncate(text, 4000)})
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// cut on a rune boundary
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}

// Router adapts the handoff center to bot.Router.
type Router struct{ C *handoff.Center }

var _ bot.Router = Router{}

// Hours implements bot.Router with the center's routing preview.
func (r Router) Hours(ctx context.Context, queue string) (bot.Hours, error) {
	d, err := r.C.Route(handoff.Request{Queue: queue})
	if errors.Is(err, handoff.ErrUnknownQueue) {
		d, err = r.C.Route(handoff.Request{})
	}
	if err != nil {
		return bot.Hours{}, err
	}
	h := bot.Hours{Open: d.InHours}
	if d.NextOpen != nil {
		h.NextOpen = *d.NextOpen
	}
	return h, nil
}

// Route implements bot.Router: it queues the handoff.
func (r Router) Route(ctx context.Context, req bot.HandoffRequest) (bot.Decision, error) {
	hr := handoff.Request{
		AppealNumber: req.AppealNumber, Channel: appeal.Channel(req.Channel), Lang: req.Lang, Queue: req.Queue,
		Intent: req.Intent, Topic: req.Reason, Slots: req.Slots, Transcript: Turns(req.Transcript),
		CallRef: req.ConversationID,
	}
	if req.Callback {
		hr.Channel = appeal.Callback
	}
	if hr.Queue == "abroad" {
		hr.Region = "abroad"
	}
	for _, a := range req.Attempts {
		hr.Attempts = append(hr.Attempts, handoff.Attempt{Question: a.Question, ArticleID: a.ArticleID, Score: a.Score})
	}
	d, err := r.C.Submit(hr)
	if errors.Is(err, handoff.ErrUnknownQueue) {
		hr.Queue = ""
		d, err = r.C.Submit(hr)
	}
	if err != nil {
		return bot.Decision{}, err
	}
	out := bot.Decision{HandoffID: d.HandoffID, Queue: d.Queue, InHours: d.InHours, EstimatedWait: d.EstimatedWait, Callback: d.Callback}
	if d.NextOpen != nil {
		out.NextOpen = *d.NextOpen
	}
	return out, nil
}

// Relay carries a chat between the caller and the agent through the
// handoff center: caller messages go in with Message, agent messages come
// out of the center's event hub.
type Relay struct{ C *handoff.Center }

// ToAgent implements bot.Relay.
func (r Relay) ToAgent(ctx context.Context, id string, t bot.Turn) error {
	_, err := r.C.Message(id, appeal.TranscriptTurn{At: t.At, Speaker: appeal.SpeakerCaller, Text: truncate(t.Text, 4096)})
	return err
}

// FromAgent delivers the agent's messages in handoff id until stop.
func (r Relay) FromAgent(id string) (<-chan string, func()) {
	sub := r.C.Hub().Subscribe(func(ev handoff.Event) bool {
		return ev.Type == handoff.EventMessage && ev.HandoffID == id && ev.Turn != nil && ev.Turn.Speaker == appeal.SpeakerAgent
	}, 64)
	out := make(chan string, 16)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(out)
		for {
			select {
			case ev, ok := <-sub.C:
				if !ok {
					return
				}
				select {
				case out <- ev.Turn.Text:
				case <-quit:
					return
				}
			case <-quit:
				return
			}
		}
	}()
	var once sync.Once
	return out, func() {
		once.Do(func() {
			close(quit)
			sub.Close()
			<-done
		})
	}
}

// Leave tells the center the caller left: a handoff still waiting is
// cancelled; one an agent holds gets a note in its conversation.
func (r Relay) Leave(ctx context.Context, id string) error {
	err := r.C.Cancel(id)
	if errors.Is(err, handoff.ErrInvalid) {
		_, err = r.C.Message(id, appeal.TranscriptTurn{Speaker: appeal.SpeakerBot, Text: "[the caller left the chat]"})
	}
	return err
}
