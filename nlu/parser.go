package nlu

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hotline-ivr/hotline/nlu/textnorm"
)

// MaxInputRunes bounds what Parse reads: a caller's turn is a sentence or
// two, and a megabyte of text must not cost a megabyte of work.
const MaxInputRunes = 1000

// Retriever finds knowledge-base articles for an utterance. The knowledge
// service satisfies it through an adapter (see kbadapter.go); FAQIndex is
// the built-in one.
type Retriever interface {
	Search(ctx context.Context, query, lang string, limit int) ([]Candidate, error)
}

// Parser understands caller utterances. It is safe for concurrent use.
type Parser struct {
	log       *slog.Logger
	now       func() time.Time
	validate  func(string) bool
	articles  []FAQArticle
	faq       *FAQIndex
	retriever Retriever
	llm       *LLM
	llmCfg    *LLMConfig
	models    map[string]*langModel
	params    trainParams
	trainTime time.Duration
}

// Option configures New.
type Option func(*Parser)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(p *Parser) { p.log = l } }

// WithClock sets the clock relative dates are resolved against.
func WithClock(now func() time.Time) Option { return func(p *Parser) { p.now = now } }

// WithAppealValidator checks appeal numbers (check digit). A number that
// fails keeps its slot and gets application_number_invalid=true, so the bot can
// read it back and ask again. Without it any 5–12 digit number is taken.
func WithAppealValidator(f func(string) bool) Option { return func(p *Parser) { p.validate = f } }

// WithArticles gives the parser the knowledge-base articles: their example
// questions become faq training data and they are indexed for matching.
func WithArticles(arts []FAQArticle) Option {
	return func(p *Parser) { p.articles = append(p.articles, arts...) }
}

// WithRetriever adds a search engine over the knowledge base whose results
// are blended with the built-in article matching.
func WithRetriever(r Retriever) Option { return func(p *Parser) { p.retriever = r } }

// WithLLM enables the optional LLM path (off by default).
func WithLLM(cfg LLMConfig) Option { return func(p *Parser) { c := cfg; p.llmCfg = &c } }

// New trains the classifiers (a fraction of a second) and returns a parser.
func New(opts ...Option) (*Parser, error) {
	p := &Parser{log: slog.New(slog.DiscardHandler), now: time.Now, params: defaultTrain, models: map[string]*langModel{}}
	for _, o := range opts {
		o(p)
	}
	start := time.Now()
	for _, lang := range []string{"ru", "en"} {
		s, err := builtinSamples(lang)
		if err != nil {
			return nil, err
		}
		m, err := trainLang(s, articleSamples(p.articles, lang), p.params)
		if err != nil {
			return nil, fmt.Errorf("nlu: train %s: %w", lang, err)
		}
		p.models[lang] = m
	}
	p.trainTime = time.Since(start)
	if len(p.articles) > 0 {
		p.faq = NewFAQIndex(p.articles)
	}
	if p.llmCfg != nil && p.llmCfg.Enabled() {
		l, err := NewLLM(*p.llmCfg, p.log)
		if err != nil {
			return nil, err
		}
		p.llm = l
	}
	p.log.Debug("nlu ready", "train_ms", p.trainTime.Milliseconds(), "articles", len(p.articles), "llm", p.llm != nil)
	return p, nil
}

// TrainTime is how long New spent training.
func (p *Parser) TrainTime() time.Duration { return p.trainTime }

// LLM returns the LLM client, nil when disabled.
func (p *Parser) LLM() *LLM { return p.llm }

// Parse finds the language, intent, queue, slots and best article of one
// utterance. It never fails on bad input (empty, huge, binary, wrong
// language): the result then has a low confidence. Errors come only from
// ctx.
func (p *Parser) Parse(ctx context.Context, text string, hint Hint) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	text = strings.ToValidUTF8(text, " ")
	r := Result{Source: SourceClassifier, Slots: map[string]string{}}
	if utf8.RuneCountInString(text) > MaxInputRunes {
		text = string([]rune(text)[:MaxInputRunes])
		r.Truncated = true
	}
	r.Text = text
	ts := textnorm.Tokens(text)
	r.Normalized = textnorm.Join(ts)
	r.Lang, r.LangConfidence = DetectLang(text)
	if r.Lang == "" || r.LangConfidence < 0.5 && hint.Lang != "" {
		r.Lang = cmp.Or(hint.Lang, r.Lang, "ru")
	}
	m := p.models[r.Lang]
	if m == nil {
		r.Lang = "ru"
		m = p.models["ru"]
	}
	if len(ts) == 0 {
		r.Queue = "general"
		return r, nil
	}

	x := featurize(ts)
	probs := m.intent.predict(x)
	expectBias(probs, hint.Expect, ts)
	qprobs := m.queue.predict(queueFeatures(x, ts))

	var cands []Candidate
	// Retrieval is the costly step; a firm command ("да", "operator")
	// cannot become faq, so it skips the search.
	if (p.faq != nil || p.retriever != nil) && probs[slices.Index(Intents, IntentFAQ)] >= 0.03 {
		cands = p.retrieve(ctx, text, ts, r.Lang)
		preferQueue(cands, qprobs)
	}
	p.decide(&r, probs, qprobs, cands)

	r.Slots = extractSlots(slotInput{tokens: ts, intent: r.Intent, expect: hint.Expect, lang: r.Lang, now: p.now(), validate: p.validate})
	if r.Intent == IntentCheckStatus && r.Slots[SlotPhone] != "" && r.Slots[SlotAppealNumber] == "" {
		// A caller asking about an appeal reads out its number, not a phone.
		r.Slots[SlotAppealNumber] = r.Slots[SlotPhone]
		delete(r.Slots, SlotPhone)
		checkAppeal(r.Slots, p.validate)
	}

	if p.llm != nil && !hint.Quick && r.Confidence < p.llm.cfg.Threshold {
		p.refineWithLLM(ctx, &r, text, cands)
	}
	p.log.Debug("parsed", "result", r)
	return r, nil
}

// expectBias nudges the classifier toward what the bot just asked for: a
// bare "да" after a yes/no question, digits after "name the number".
func expectBias(probs []float64, expect string, ts []textnorm.Token) {
	boost := func(intents ...string) {
		for _, in := range intents {
			probs[slices.Index(Intents, in)] *= 3
		}
		if expect != ExpectYesNo && expect != ExpectLanguage {
			// A number where a number was asked for settles it.
			probs[slices.Index(Intents, intents[0])] += 1
		}
		sum := 0.0
		for _, v := range probs {
			sum += v
		}
		for i := range probs {
			probs[i] /= sum
		}
	}
	switch expect {
	case ExpectYesNo:
		boost(IntentYes, IntentNo)
	case ExpectAppealNumber:
		if mostlyNumber(ts) {
			boost(IntentCheckStatus)
		}
	case ExpectPhone:
		if mostlyNumber(ts) {
			boost(IntentCallback)
		}
	case ExpectLanguage:
		boost(IntentSwitchLanguage)
	}
}

// mostlyNumber: the caller just read out a number ("номер 5 5 1 0"), a
// reply to "name the number" whatever the classifier makes of it.
func mostlyNumber(ts []textnorm.Token) bool {
	num := 0
	for _, t := range ts {
		if t.Num {
			num++
		}
	}
	return num > 0 && len(ts)-num <= 2
}

// retrieve blends the built-in article matching with the external
// retriever: each article's confidence is the larger of the two, plus a
// bonus when both agree.
func (p *Parser) retrieve(ctx context.Context, text string, ts []textnorm.Token, lang string) []Candidate {
	const limit = 5
	byID := map[string]*Candidate{}
	var order []string
	merge := func(cs []Candidate) {
		for _, c := range cs {
			if prev, ok := byID[c.ID]; ok {
				prev.Confidence = math.Min(1, math.Max(prev.Confidence, c.Confidence)+0.15*math.Min(prev.Confidence, c.Confidence))
				continue
			}
			cc := c
			byID[c.ID] = &cc
			order = append(order, c.ID)
		}
	}
	if p.faq != nil {
		merge(p.faq.search(ts, lang, limit))
	}
	if p.retriever != nil {
		cs, err := p.retriever.Search(ctx, text, lang, limit)
		if err != nil {
			p.log.Warn("knowledge search failed", "err", err)
		}
		merge(cs)
	}
	out := make([]Candidate, 0, len(order))
	for _, id := range order {
		out = append(out, *byID[id])
	}
	slices.SortStableFunc(out, func(a, b Candidate) int { return cmp.Compare(b.Confidence, a.Confidence) })
	return out
}

// preferQueue re-ranks articles by how well their queue fits the topic of
// the utterance: "I'm in Germany, which number do I call?" should find the
// number for callers abroad, not the general one.
func preferQueue(cands []Candidate, qprobs []float64) {
	rank := func(c Candidate) float64 {
		if i := slices.Index(Queues, c.Queue); i >= 0 {
			return c.Confidence + 0.25*qprobs[i]
		}
		return c.Confidence
	}
	slices.SortStableFunc(cands, func(a, b Candidate) int { return cmp.Compare(rank(b), rank(a)) })
}

// decide combines the intent classifier with retrieval. faq wins when the
// classifier leans to it or is unsure while an article matches well; the
// faq confidence blends both, so an unsure classifier with a weak article
// gives a low confidence and the bot asks again.
func (p *Parser) decide(r *Result, probs, qprobs []float64, cands []Candidate) {
	order := make([]int, len(probs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(probs[b], probs[a]) })
	for _, i := range order[:3] {
		r.Alternatives = append(r.Alternatives, Scored{Label: Intents[i], Score: round3(probs[i])})
	}
	top := Intents[order[0]]
	r.Intent, r.Confidence = top, probs[order[0]]
	pFAQ := probs[slices.Index(Intents, IntentFAQ)]
	var best *Candidate
	if len(cands) > 0 {
		best = &cands[0]
	}
	artConf := 0.0
	if best != nil {
		artConf = best.Confidence
	}
	switch {
	case top == IntentFAQ:
		r.Confidence = 0.6*pFAQ + 0.4*artConf
	case artConf >= 0.6 && pFAQ >= 0.2 && r.Confidence < 0.6:
		r.Intent = IntentFAQ
		r.Confidence = 0.6*pFAQ + 0.4*artConf
	}
	qi := argmax(qprobs)
	r.Queue, r.QueueConfidence = Queues[qi], qprobs[qi]
	if r.Intent == IntentFAQ && best != nil {
		r.Article = best
		if best.Queue != "" {
			r.Queue, r.QueueConfidence = best.Queue, best.Confidence
		}
	}
}

func argmax(v []float64) int {
	b := 0
	for i := range v {
		if v[i] > v[b] {
			b = i
		}
	}
	return b
}
