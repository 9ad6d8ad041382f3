package knowledge

import (
	"slices"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/lang/ru"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/token/stop"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/analysis/tokenmap"
	"github.com/blevesearch/bleve/v2/mapping"
)

// The analyzers are Bleve's "ru" and "en" (same tokenizer, lowercasing and
// stemmers) with one change: the Snowball stop lists are made for long
// documents and drop words that decide what a caller's short question
// means: "what happens if I call when NO operators are working", "what
// should I have ready BEFORE I call", "чат работает ночью или ТОЛЬКО днём".
// BM25's idf already keeps such words from dominating, so they stay.
var keepWords = map[string][]string{
	"en": {
		"no", "not", "nor", "cannot", "can't", "don't", "doesn't", "didn't", "won't", "isn't",
		"before", "after", "during", "until", "while", "once", "again",
		"when", "where", "why", "how",
		"off", "out", "over", "under", "against", "between", "through", "above", "below", "up", "down",
		"only", "own", "same", "other", "more", "most", "few", "all", "any",
	},
	"ru": {
		"не", "нет", "без", "нельзя", "можно",
		"когда", "где", "куда", "зачем", "почему",
		"до", "после", "через", "перед", "между", "при",
		"никогда", "всегда", "сегодня", "сейчас", "опять",
		"только", "больше", "более", "лучше",
		"человек", "жизнь",
	},
}

func analyzerName(lang string) string { return "kb_" + lang }

// addAnalyzers registers "kb_ru" and "kb_en" in the index mapping, so they
// are stored with the index and identical at query time.
func addAnalyzers(im *mapping.IndexMappingImpl) error {
	langs := []struct {
		lang    string
		stops   []byte
		filters []any // before and after the stop filter
		stemmer string
	}{
		{"ru", ru.RussianStopWords, []any{lowercase.Name}, ru.SnowballStemmerName},
		{"en", en.EnglishStopWords, []any{en.PossessiveName, lowercase.Name}, porter.Name},
	}
	for _, l := range langs {
		tm := analysis.NewTokenMap()
		if err := tm.LoadBytes(l.stops); err != nil {
			return err
		}
		var tokens []any
		for w := range tm {
			if !slices.Contains(keepWords[l.lang], w) {
				tokens = append(tokens, w)
			}
		}
		slices.SortFunc(tokens, func(a, b any) int {
			return compareStrings(a.(string), b.(string))
		})
		mapName, filterName := "kb_stop_"+l.lang+"_words", "kb_stop_"+l.lang
		if err := im.AddCustomTokenMap(mapName, map[string]any{"type": tokenmap.Name, "tokens": tokens}); err != nil {
			return err
		}
		if err := im.AddCustomTokenFilter(filterName, map[string]any{"type": stop.Name, "stop_token_map": mapName}); err != nil {
			return err
		}
		filters := append(slices.Clone(l.filters), filterName, l.stemmer)
		if err := im.AddCustomAnalyzer(analyzerName(l.lang), map[string]any{
			"type":          custom.Name,
			"tokenizer":     unicode.Name,
			"token_filters": filters,
		}); err != nil {
			return err
		}
	}
	return nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
