package adapters_test

import (
	"context"
	"testing"

	"github.com/hotline-ivr/hotline/bot"
	"github.com/hotline-ivr/hotline/bot/adapters"
	"github.com/hotline-ivr/hotline/nlu"
)

type fixedUnderstanding bot.Understanding

func (f fixedUnderstanding) Parse(context.Context, string, bot.Hint) (bot.Understanding, error) {
	u := bot.Understanding(f)
	if u.Article != nil {
		a := *u.Article
		u.Article = &a
	}
	return u, nil
}

type recordingPhraser struct {
	calls          int
	lang, question string
	art            nlu.Candidate
	reply          string
}

func (r *recordingPhraser) Answer(_ context.Context, lang, question string, art nlu.Candidate) string {
	r.calls++
	r.lang, r.question, r.art = lang, question, art
	return r.reply
}

func TestPhrasedOnlyWhereTheBotMaySayTheArticle(t *testing.T) {
	art := &bot.Article{ID: "hours", Queue: "general", Title: "Часы работы", Spoken: "Операторы работают с 9 до 18.", Confidence: 0.8}
	faq := bot.Understanding{Lang: "ru", Intent: bot.IntentFAQ, Confidence: 0.7, Article: art}
	tests := []struct {
		name   string
		u      bot.Understanding
		hint   bot.Hint
		reply  string
		want   string
		called bool
	}{
		{"faq", faq, bot.Hint{}, "С 9 до 18.", "С 9 до 18.", true},
		{"phraser gave nothing", faq, bot.Hint{}, "", art.Spoken, true},
		{"unsure", bot.Understanding{Lang: "ru", Intent: bot.IntentFAQ, Confidence: 0.1, Article: art}, bot.Hint{}, "x", art.Spoken, false},
		{"not faq", bot.Understanding{Lang: "ru", Intent: bot.IntentOperator, Confidence: 0.9, Article: art}, bot.Hint{}, "x", art.Spoken, false},
		{"collecting a number", faq, bot.Hint{Expect: bot.ExpectAppealNumber}, "x", art.Spoken, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ph := &recordingPhraser{reply: tt.reply}
			p := adapters.Phrased{U: fixedUnderstanding(tt.u), P: ph, MinConfidence: 0.25}
			got, err := p.Parse(context.Background(), "до скольки работаете?", tt.hint)
			if err != nil {
				t.Fatal(err)
			}
			if got.Article.Spoken != tt.want || (ph.calls > 0) != tt.called {
				t.Errorf("spoken %q (calls %d), want %q (called %v)", got.Article.Spoken, ph.calls, tt.want, tt.called)
			}
			if got.Article.ID != "hours" || got.Article.Title != art.Title || art.Spoken != "Операторы работают с 9 до 18." {
				t.Errorf("article identity changed or the original mutated: %+v / %+v", got.Article, art)
			}
			if tt.called && (ph.question != "до скольки работаете?" || ph.lang != "ru" || ph.art.Spoken != art.Spoken) {
				t.Errorf("phraser got %q %q %+v", ph.lang, ph.question, ph.art)
			}
		})
	}
	ph := &recordingPhraser{reply: "x"}
	p := adapters.Phrased{U: fixedUnderstanding(faq), P: ph, HumanOnly: []string{"general"}}
	if got, _ := p.Parse(context.Background(), "q", bot.Hint{}); ph.calls != 0 || got.Article.Spoken != art.Spoken {
		t.Errorf("human-only topic phrased: %q", got.Article.Spoken)
	}
}
