package knowledge

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Synthetic knowledge bases for benchmarks and load tests: deterministic
// for a seed, in both languages, with a realistic mix of common words and
// rare ones (made of syllables) so that the term dictionaries, and with
// them fuzzy matching, are as large as a real base of that size.

var synthVocab = map[string]struct {
	nouns, verbs, adjs, syllables []string
	templates                     []string // %s: noun phrase, %v: verb
}{
	"ru": {
		nouns:     strings.Fields("пенсия пособие справка паспорт заявление выплата льгота квитанция налог полис субсидия договор доверенность лицензия регистрация запись очередь кабинет пароль телефон оператор приложение портал документ статус обращение жалоба компенсация сертификат патент участок автомобиль штраф задолженность начисление перерасчёт"),
		verbs:     strings.Fields("получить оформить продлить отменить проверить оплатить восстановить изменить подать заменить узнать перенести"),
		adjs:      strings.Fields("новый электронный срочный временный социальный налоговый единый детский пенсионный семейный региональный"),
		syllables: strings.Fields("ка ло ми ре ст ва ни ко ра ту пе за бо ли на до се вы ро жи"),
		templates: []string{"Как %v %s?", "Где %v %s?", "Сколько стоит %v %s?", "Можно ли %v %s онлайн?", "Что нужно, чтобы %v %s?"},
	},
	"en": {
		nouns:     strings.Fields("pension benefit certificate passport application payment allowance receipt tax policy subsidy contract licence registration appointment queue account password phone operator app portal document status request complaint compensation permit plot vehicle fine debt charge recalculation"),
		verbs:     strings.Fields("get renew cancel check pay restore change submit replace find reschedule apply"),
		adjs:      strings.Fields("new electronic urgent temporary social tax single child retirement family regional"),
		syllables: strings.Fields("ka lo mi re st va ni ko ra tu pe za bo li na do se vy ro zhi"),
		templates: []string{"How do I %v a %s?", "Where can I %v my %s?", "How much does it cost to %v a %s?", "Can I %v a %s online?", "What do I need to %v a %s?"},
	},
}

type synthGen struct {
	r     *rand.Rand
	words map[string][]string   // per language: a vocabulary of real and made-up words
	zipf  map[string]*rand.Zipf // word ranks follow Zipf's law, as in real text
}

func newSynthGen(seed uint64) synthGen {
	g := synthGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		words: map[string][]string{}, zipf: map[string]*rand.Zipf{}}
	for _, lang := range Languages {
		v := synthVocab[lang]
		ws := append(append(append([]string{}, v.nouns...), v.verbs...), v.adjs...)
		for len(ws) < synthVocabSize {
			ws = append(ws, g.rare(lang))
		}
		g.words[lang] = ws
		g.zipf[lang] = rand.NewZipf(g.r, 1.1, 2, uint64(len(ws)-1))
	}
	return g
}

// synthVocabSize is the number of distinct words per language besides the
// per-article rare ones; real knowledge bases of this size use a few
// thousand words.
const synthVocabSize = 5000

func (g synthGen) word(lang string) string { return g.words[lang][g.zipf[lang].Uint64()] }

func (g synthGen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

// rare makes a pseudo-word of 3-5 syllables: a name, a form number, a
// place; most are unique to one article.
func (g synthGen) rare(lang string) string {
	v := synthVocab[lang]
	var b strings.Builder
	for range 3 + g.r.IntN(3) {
		b.WriteString(g.pick(v.syllables))
	}
	return b.String()
}

func (g synthGen) phrase(lang string, rare string) string {
	v := synthVocab[lang]
	return g.pick(v.adjs) + " " + g.pick(v.nouns) + " " + g.word(lang) + " " + rare
}

func (g synthGen) question(lang, rare string) string {
	v := synthVocab[lang]
	t := g.pick(v.templates)
	t = strings.Replace(t, "%v", g.pick(v.verbs), 1)
	return fmt.Sprintf(t, g.phrase(lang, rare))
}

func (g synthGen) sentence(lang, rare string) string {
	v := synthVocab[lang]
	words := []string{g.pick(v.verbs), g.phrase(lang, rare)}
	for range 3 + g.r.IntN(8) {
		words = append(words, g.word(lang))
	}
	s := strings.Join(words, " ") + fmt.Sprintf(" %d", 1+g.r.IntN(900))
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:] + "."
}

// Synthetic returns n published articles, half Russian and half English
// (the same ids in both), deterministic for seed.
func Synthetic(n int, seed uint64) []Article {
	g := newSynthGen(seed)
	out := make([]Article, 0, n)
	for i := range n {
		lang := Languages[i%len(Languages)]
		id := fmt.Sprintf("synthetic-%05d", i/len(Languages))
		rare := g.rare(lang)
		a := Article{ID: id, Lang: lang, Queue: g.pick(Queues), Status: StatusPublished}
		a.Title = strings.TrimSuffix(g.question(lang, rare), "?")
		for range 2 + g.r.IntN(4) {
			a.Questions = append(a.Questions, g.question(lang, rare))
		}
		for range 2 + g.r.IntN(3) {
			a.Tags = append(a.Tags, g.word(lang))
		}
		a.Spoken = g.sentence(lang, rare) + " " + g.sentence(lang, g.rare(lang))
		var body []string
		for range 3 + g.r.IntN(6) {
			body = append(body, g.sentence(lang, g.rare(lang)))
		}
		a.Body = strings.Join(body, "\n")
		out = append(out, normalize(a))
	}
	return out
}

// SyntheticFiles is Synthetic as files for Import.
func SyntheticFiles(n int, seed uint64) map[string][]byte {
	files := make(map[string][]byte, n)
	for _, a := range Synthetic(n, seed) {
		files[a.Lang+"/"+a.ID+".md"] = FormatArticle(a)
	}
	return files
}

// SyntheticQuery is a caller's question for a synthetic base.
type SyntheticQuery struct{ Lang, Text string }

// SyntheticQueries returns n questions in the style of Synthetic articles,
// a third of them with a typo, for benchmarks.
func SyntheticQueries(n int, seed uint64) []SyntheticQuery {
	g := newSynthGen(seed)
	out := make([]SyntheticQuery, 0, n)
	for i := range n {
		lang := Languages[i%len(Languages)]
		q := g.question(lang, g.rare(lang))
		if i%3 == 0 { // drop a letter: a typo or a misheard word
			rs := []rune(q)
			j := 1 + g.r.IntN(len(rs)-2)
			q = string(rs[:j]) + string(rs[j+1:])
		}
		out = append(out, SyntheticQuery{Lang: lang, Text: q})
	}
	return out
}
