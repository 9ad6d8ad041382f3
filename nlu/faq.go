package nlu

import (
	"cmp"
	"context"
	"hash/fnv"
	"math"
	"slices"
	"strings"

	"github.com/hotline-ivr/hotline/nlu/textnorm"
)

// FAQArticle is what understanding needs of a knowledge-base article: its
// identity, queue and answer, and the phrasings that should find it.
type FAQArticle struct {
	ID, Lang, Queue, Title, Spoken string
	Questions, Tags                []string
}

// FAQIndex finds articles by TF-IDF cosine similarity between the caller's
// words and each article's example questions, title, tags and answer. It
// needs no search engine, builds in milliseconds and satisfies Retriever,
// so the parser works on the articles alone; a search engine given with
// WithRetriever is blended in.
type FAQIndex struct {
	byLang map[string]*faqLang
}

type faqLang struct {
	arts     []FAQArticle
	docs     []faqDoc
	idf      map[uint32]float64
	postings map[uint32][]posting // term → documents that have it
}

// posting is a term's IDF-weighted value in one document.
type posting struct {
	doc int32
	val float32
}

// faqDoc is one phrasing of one article.
type faqDoc struct {
	art    int
	weight float64            // how much a match on this phrasing counts
	vec    map[uint32]float64 // only while building
	norm   float64
}

var _ Retriever = (*FAQIndex)(nil)

// NewFAQIndex indexes articles (any languages).
func NewFAQIndex(articles []FAQArticle) *FAQIndex {
	x := &FAQIndex{byLang: map[string]*faqLang{}}
	for _, a := range articles {
		l := x.byLang[a.Lang]
		if l == nil {
			l = &faqLang{}
			x.byLang[a.Lang] = l
		}
		i := len(l.arts)
		l.arts = append(l.arts, a)
		add := func(text string, w float64) {
			if v := simTerms(textnorm.Tokens(text)); len(v) > 0 {
				l.docs = append(l.docs, faqDoc{art: i, weight: w, vec: v})
			}
		}
		for _, q := range a.Questions {
			add(q, 1)
		}
		add(a.Title, 0.9)
		add(strings.Join(a.Tags, " "), 0.8)
		add(a.Spoken, 0.75)
		add(a.Title+" "+strings.Join(a.Tags, " ")+" "+strings.Join(a.Questions, " "), 0.85)
	}
	for _, l := range x.byLang {
		df := map[uint32]int{}
		for _, d := range l.docs {
			for k := range d.vec {
				df[k]++
			}
		}
		n := float64(len(l.docs))
		l.idf = make(map[uint32]float64, len(df))
		for k, c := range df {
			l.idf[k] = math.Log(1 + n/float64(c))
		}
		l.postings = map[uint32][]posting{}
		for i := range l.docs {
			d := &l.docs[i]
			for k, v := range d.vec {
				d.vec[k] = v * l.idf[k]
				d.norm += d.vec[k] * d.vec[k]
			}
			d.norm = math.Sqrt(d.norm)
			for k, v := range d.vec {
				l.postings[k] = append(l.postings[k], posting{int32(i), float32(v / d.norm)})
			}
			d.vec = nil // the postings hold it now
		}
	}
	return x
}

// Search returns the best-matching articles. Confidence maps the cosine
// similarity onto 0..1: a question phrased like one of the article's
// examples scores near 1, a shared word or two stays low.
func (x *FAQIndex) Search(ctx context.Context, query, lang string, limit int) ([]Candidate, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return x.search(textnorm.Tokens(query), lang, limit), nil
}

func (x *FAQIndex) search(ts []textnorm.Token, lang string, limit int) []Candidate {
	l := x.byLang[lang]
	if l == nil || limit <= 0 {
		return nil
	}
	q := simTerms(ts)
	qn := 0.0
	for k, v := range q {
		v *= l.idf[k]
		q[k] = v
		qn += v * v
	}
	if qn == 0 {
		return nil
	}
	qn = math.Sqrt(qn)
	// Accumulate dot products through the postings of the query's terms
	// only: a few hundred additions instead of a pass over every document.
	dots := make([]float64, len(l.docs))
	for k, v := range q {
		for _, p := range l.postings[k] {
			dots[p.doc] += v * float64(p.val)
		}
	}
	best := make([]float64, len(l.arts))
	for i, dot := range dots {
		if dot == 0 {
			continue
		}
		d := l.docs[i]
		if s := d.weight * dot / qn; s > best[d.art] {
			best[d.art] = s
		}
	}
	idx := make([]int, 0, len(best))
	for i, s := range best {
		if s > 0 {
			idx = append(idx, i)
		}
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(best[b], best[a]) })
	if len(idx) > limit {
		idx = idx[:limit]
	}
	out := make([]Candidate, len(idx))
	for i, k := range idx {
		a := l.arts[k]
		out[i] = Candidate{ID: a.ID, Queue: a.Queue, Title: a.Title, Spoken: a.Spoken, Score: best[k], Confidence: simConfidence(best[k])}
	}
	return out
}

func simConfidence(s float64) float64 {
	return math.Max(0, math.Min(1, (s-0.08)/0.45))
}

// stopwords carry no topic; leaving them out keeps "как мне" from matching
// every article that starts with "как".
var stopwords = wordSet(`и в во не что на я с со как а то все так его но да ты к у же вы за бы по
		ее мне было вот от меня еще о из ему теперь когда ли если уже или ни быть был него до вас нибудь
		уж вам ведь там потом себя ей может они тут есть надо ней для мы тебя их чем была сам чтоб чтобы без
		будто чего тоже себе под будет ж тогда кто этот того потому этого какой мой тем нее сейчас были
		при об хоть после над тот через эти нас про всего них какая эту моя свою этой перед том им вообще
		пожалуйста подскажите скажите здравствуйте добрый день алло слушайте можно ли это мне меня у вас ваш ваши
		the a an and or of to in on at for is are was be do does did i me my you your we it its this that
		can could would should will with from by please hi hello so just there what how where when which
		im id have has get about am if any`)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// simTerms is the bag of terms used for similarity: content-word stems,
// their bigrams and character 4-grams (which survive misspellings such as
// "задолжености").
func simTerms(ts []textnorm.Token) map[uint32]float64 {
	v := map[uint32]float64{}
	add := func(s string, w float64) {
		h := fnv.New32a()
		h.Write([]byte(s))
		v[h.Sum32()] += w
	}
	var prev string
	for _, t := range ts {
		if t.Num || stopwords[t.Text] {
			prev = ""
			continue
		}
		s := stem(t.Text)
		add("w:"+s, 1)
		if prev != "" {
			add("b:"+prev+"_"+s, 0.5)
		}
		prev = s
		rs := []rune(" " + t.Text + " ")
		for i := 0; i+4 <= len(rs); i++ {
			add("c:"+string(rs[i:i+4]), 0.12)
		}
	}
	return v
}
