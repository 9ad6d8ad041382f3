package knowledge

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Searcher is what the bot needs from the knowledge base.
type Searcher interface {
	Search(ctx context.Context, query string, o SearchOptions) ([]Hit, error)
}

var _ Searcher = (*Service)(nil)

// SearchOptions narrows a search. Lang is required.
type SearchOptions struct {
	Lang          string
	Limit         int  // default 5, at most 50
	IncludeDrafts bool // the editor's "test the bot" box sees drafts too
	Queue         string
}

// Hit is one search result.
type Hit struct {
	Article Article `json:"article"`
	Score   float64 `json:"score"` // Bleve's relevance score, comparable within one query only
	// Confidence (0..1) says how sure the top answer is: high when the
	// query matched a question well and clearly better than the runner-up.
	// Set on every hit relative to the first one.
	Confidence float64 `json:"confidence"`
	// Matched is the question (or title) of the article closest to the
	// query, to show editors why this article was chosen.
	Matched string `json:"matched"`

	coverage float64 // share of the query's terms found in Matched
}

// Field boosts: a caller's question is most like an article's questions and
// title; the spoken answer and tags are weaker evidence, the body weakest.
// Fuzzy matches go against title+questions+tags and count less than exact
// ones so that a correctly spelt word still wins.
var fieldBoosts = []struct {
	field string
	boost float64
}{
	{"questions", 3},
	{"title", 2.5},
	{"tags", 1.5},
	{"spoken", 1.2},
	{"body", 0.4},
}

const fuzzyBoost = 0.8

const (
	defaultLimit = 5
	maxLimit     = 50
)

// Search finds the articles that best answer query in o.Lang. Drafts are
// left out unless o.IncludeDrafts; deleted articles never appear. A query
// made only of stop words returns no hits and no error.
func (s *Service) Search(ctx context.Context, q string, o SearchOptions) ([]Hit, error) {
	if !slices.Contains(Languages, o.Lang) {
		return nil, fmt.Errorf("%w: %q", ErrUnknownLanguage, o.Lang)
	}
	if strings.TrimSpace(q) == "" {
		return nil, ErrEmptyQuery
	}
	if s.idx.isClosed() {
		return nil, ErrClosed
	}
	limit := o.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)

	terms := s.idx.analyze(o.Lang, s.idx.prepare(q))
	if len(terms) == 0 {
		return []Hit{}, nil
	}
	bq := s.idx.buildQuery(ctx, terms, o.Lang)
	var filters []query.Query
	if !o.IncludeDrafts {
		filters = append(filters, keyword("status", StatusPublished))
	}
	if o.Queue != "" {
		filters = append(filters, keyword("queue", o.Queue))
	}
	switch len(filters) {
	case 0:
	case 1:
		bq.AddFilter(filters[0])
	default:
		bq.AddFilter(bleve.NewConjunctionQuery(filters...))
	}
	req := bleve.NewSearchRequestOptions(bq, limit, 0, false)
	res, err := s.idx.bleve.SearchInContext(ctx, req)
	if err != nil {
		if s.idx.isClosed() {
			return nil, ErrClosed
		}
		return nil, fmt.Errorf("knowledge: search: %w", err)
	}
	hits := make([]Hit, 0, len(res.Hits))
	for _, h := range res.Hits {
		a, ok := s.idx.article(h.ID)
		if !ok { // deleted between the search and now
			continue
		}
		matched, coverage := s.idx.bestMatch(a, terms)
		hits = append(hits, Hit{Article: a, Score: h.Score, Matched: matched, coverage: coverage})
	}
	setConfidence(hits)
	return hits, nil
}

func keyword(field, v string) query.Query {
	q := bleve.NewTermQuery(v)
	q.SetField(field)
	return q
}

// On large bases a caller's words that occur in many articles ("how",
// "получить") make the disjunction walk long posting lists for little
// information. Past commonTermsMinDocs articles in a language, such terms
// only add to the score of articles that match a rarer term (Lucene's
// "common terms" idea). Small bases, like the shipped one, are unaffected.
const (
	commonTermsMinDocs = 2000
	commonTermFraction = 0.02
)

// buildQuery makes the scoring part of a search; filters are added by
// the caller.
func (si *searchIndex) buildQuery(ctx context.Context, terms []string, lang string) *query.BooleanQuery {
	common := si.commonTerms(ctx, terms, lang)
	var rare, freq []query.Query
	for i, t := range terms {
		if common[i] {
			freq = append(freq, termClauses(t, lang, true)...)
		} else {
			rare = append(rare, termClauses(t, lang, false)...)
		}
	}
	bq := bleve.NewBooleanQuery()
	switch {
	case len(freq) == 0:
		bq.AddShould(bleve.NewDisjunctionQuery(rare...))
	case len(rare) == 0:
		// Nothing rare to anchor on: score the common terms everywhere.
		var all []query.Query
		for _, t := range terms {
			all = append(all, termClauses(t, lang, false)...)
		}
		bq.AddShould(bleve.NewDisjunctionQuery(all...))
	default:
		bq.AddMust(bleve.NewDisjunctionQuery(rare...))
		bq.AddShould(bleve.NewDisjunctionQuery(freq...))
	}
	return bq
}

// termClauses matches one term in every field with its boost, plus a
// fuzzy match on title+questions+tags. The clauses go into one flat
// disjunction, so Bleve's coordination factor rewards articles matching
// more of the caller's words, in more of the strong fields. A common term
// is only looked up in the questions and title.
func termClauses(t, lang string, common bool) []query.Query {
	var qs []query.Query
	for _, fb := range fieldBoosts {
		if common && fb.field != "questions" && fb.field != "title" {
			continue
		}
		tq := bleve.NewTermQuery(t)
		tq.SetField(fb.field + "_" + lang)
		tq.SetBoost(fb.boost)
		qs = append(qs, tq)
	}
	if d := fuzziness(t); d > 0 && !common {
		fq := bleve.NewFuzzyQuery(t)
		fq.SetField("all_" + lang)
		fq.SetFuzziness(d)
		fq.SetBoost(fuzzyBoost)
		qs = append(qs, fq)
	}
	return qs
}

// commonTerms marks the terms found in more than commonTermFraction of a
// large base's articles (in title, questions or tags).
func (si *searchIndex) commonTerms(ctx context.Context, terms []string, lang string) []bool {
	common := make([]bool, len(terms))
	n := si.live(lang)
	if n < commonTermsMinDocs {
		return common
	}
	adv, err := si.bleve.Advanced()
	if err != nil {
		return common
	}
	r, err := adv.Reader()
	if err != nil {
		return common
	}
	defer r.Close()
	for i, t := range terms {
		tfr, err := r.TermFieldReader(ctx, []byte(t), "all_"+lang, false, false, false)
		if err != nil {
			continue
		}
		common[i] = float64(tfr.Count()) > commonTermFraction*float64(n)
		tfr.Close()
	}
	return common
}

// fuzziness is the edit distance tolerated for a (stemmed) term: none for
// short words, where one edit makes another word, 1 from five letters, 2
// for long words, where recognisers garble more.
func fuzziness(term string) int {
	switch n := utf8.RuneCountInString(term); {
	case n >= 10:
		return 2
	case n >= 5:
		return 1
	default:
		return 0
	}
}

// prepare folds ё and turns number words into digits.
func (si *searchIndex) prepare(q string) string {
	return si.nums.Normalize(foldText(q))
}

// analyze runs the language's analyzer (lowercase, stop words, stemming)
// and returns the distinct terms in query order.
func (si *searchIndex) analyze(lang, text string) []string {
	an := si.bleve.Mapping().AnalyzerNamed(analyzerName(lang))
	if an == nil {
		return nil
	}
	var terms []string
	for _, tok := range an.Analyze([]byte(text)) {
		t := string(tok.Term)
		if !slices.Contains(terms, t) {
			terms = append(terms, t)
		}
	}
	return terms
}

// bestMatch picks the question or title sharing the most terms with the
// query (near spellings count), for the editor's explanation.
func (si *searchIndex) bestMatch(a Article, terms []string) (string, float64) {
	candidates := append([]string{a.Title}, a.Questions...)
	best, bestScore, bestShared := a.Title, 0.0, 0.0
	for i, ct := range si.candidateTerms(a) {
		if len(ct) == 0 {
			continue
		}
		shared := 0.0
		for _, t := range terms {
			for _, u := range ct {
				if t == u {
					shared++
					break
				}
				if d := fuzziness(t); d > 0 && levenshtein(t, u, d) <= d {
					shared += 0.7
					break
				}
			}
		}
		// Prefer the candidate that is mostly made of the query's words.
		score := shared / math.Sqrt(float64(len(ct)))
		if score > bestScore {
			best, bestScore, bestShared = candidates[i], score, shared
		}
	}
	return best, bestShared / float64(len(terms))
}

// candidateTerms returns the analyzed title and questions of an article,
// cached per version: analysis costs more than the search itself.
func (si *searchIndex) candidateTerms(a Article) [][]string {
	si.termsMu.Lock()
	c, ok := si.terms[a.Key()]
	si.termsMu.Unlock()
	if ok && c.version == a.Version {
		return c.terms
	}
	ts := make([][]string, 0, 1+len(a.Questions))
	ts = append(ts, si.analyze(a.Lang, foldText(a.Title)))
	for _, q := range a.Questions {
		ts = append(ts, si.analyze(a.Lang, foldText(q)))
	}
	si.termsMu.Lock()
	si.terms[a.Key()] = cachedTerms{version: a.Version, terms: ts}
	si.termsMu.Unlock()
	return ts
}

// levenshtein returns the edit distance of a and b, or max+1 once it is
// certain to exceed max.
func levenshtein(a, b string, maxDist int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > maxDist || -d > maxDist {
		return maxDist + 1
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > maxDist {
			return maxDist + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// setConfidence turns raw scores into a 0..1 confidence. Bleve scores are
// not comparable across queries, so it uses two scale-free signals: how
// much of the query the best-matching question covers, and the margin of
// the hit over the next one relative to its score. See calibration in
// cmd/eval. Later hits never get more confidence than the first.
func setConfidence(hits []Hit) {
	for i := range hits {
		var next float64
		if i+1 < len(hits) {
			next = hits[i+1].Score
		}
		hits[i].Confidence = confidence(hits[i].Score, next, hits[i].coverage)
		if i > 0 {
			hits[i].Confidence = min(hits[i].Confidence, hits[0].Confidence*hits[i].Score/hits[0].Score)
		}
	}
}

// confidence is a logistic function fitted on the dev set (faq utterances
// whose top hit is right vs. wrong, plus utterances of other intents that
// the knowledge base should not answer). The score term ties it to this
// scoring model and a base of a few hundred articles; refit after changing
// boosts or analyzers (cmd/eval prints the separation). With these
// coefficients 0.5 separates answers from guesses.
func confidence(top, second, coverage float64) float64 {
	if top <= 0 {
		return 0
	}
	margin := (top - second) / top
	z := -0.55 + 2.0*margin + 1.95*coverage + 1.7*math.Log(top)
	return 1 / (1 + math.Exp(-z))
}

// ConfidentThreshold is the confidence from which the bot should give the
// top hit as the answer rather than ask again or hand over.
const ConfidentThreshold = 0.5
