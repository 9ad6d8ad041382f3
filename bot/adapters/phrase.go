package adapters

import (
	"context"
	"slices"

	"github.com/hotline-ivr/hotline/bot"
	"github.com/hotline-ivr/hotline/nlu"
)

// Phraser phrases an answer to a question from one article and nothing
// else. *nlu.LLM is one: its Answer is time-bounded, circuit-broken and
// falls back to the article's own spoken text on timeout, error or an
// answer with a number the article does not have.
type Phraser interface {
	Answer(ctx context.Context, lang, question string, art nlu.Candidate) string
}

var _ Phraser = (*nlu.LLM)(nil)

// Phrased wraps an Understander so that the FAQ article it finds carries,
// as its spoken text, an answer to the caller's own question phrased from
// that article. The bot then says it like any article; the article's
// identity, title and queue are unchanged, and its text is what is said
// whenever the phrasing fails.
//
// Only articles the bot may say are phrased: not below MinConfidence (the
// bot's clarify threshold), not human-only topics, and not while the bot
// is collecting a number.
type Phrased struct {
	U             bot.Understander
	P             Phraser
	MinConfidence float64
	HumanOnly     []string // article ids or queues, as bot.Config.HumanOnly
}

var _ bot.Understander = Phrased{}

// Parse implements bot.Understander.
func (p Phrased) Parse(ctx context.Context, text string, h bot.Hint) (bot.Understanding, error) {
	u, err := p.U.Parse(ctx, text, h)
	if err != nil || p.P == nil || !p.worth(u, h) {
		return u, err
	}
	a := *u.Article
	a.Spoken = p.P.Answer(ctx, u.Lang, text, nlu.Candidate{ID: a.ID, Queue: a.Queue, Title: a.Title, Spoken: a.Spoken, Confidence: a.Confidence})
	if a.Spoken == "" {
		a.Spoken = u.Article.Spoken
	}
	u.Article = &a
	return u, nil
}

func (p Phrased) worth(u bot.Understanding, h bot.Hint) bool {
	a := u.Article
	switch {
	case u.Intent != bot.IntentFAQ || a == nil || a.Spoken == "" || u.Confidence < p.MinConfidence:
		return false
	case h.Expect == bot.ExpectAppealNumber || h.Expect == bot.ExpectPhone:
		return false
	case slices.Contains(p.HumanOnly, a.ID) || a.Queue != "" && slices.Contains(p.HumanOnly, a.Queue):
		return false
	}
	return true
}
