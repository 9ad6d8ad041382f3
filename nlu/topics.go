package nlu

import (
	"slices"
	"strings"

	"github.com/hotline-ivr/hotline/nlu/textnorm"
)

// topicPrefixes are word beginnings that point to a topic queue. They are
// domain knowledge (what pensions, businesses, technical trouble and life
// abroad sound like), shared by both languages, and give the classifiers a
// feature that generalises beyond the words seen in training: any country
// means "abroad", any benefit means "social".
var topicPrefixes = map[string][]string{
	"social": strings.Fields(`пенси пособи субсиди выплат льгот материнск маткапитал компенсаци соцзащит социальн
		инвалидн многодетн малоимущ алимент безработ декретн pension benefit subsid allowance welfare social
		disabilit unemploy maternity`),
	"business": strings.Fields(`ип ооо лиценз предприним бизнес юрлиц юридическ организаци компани фирм торговл
		самозанят налогоплательщик business licen permit company companies entrepreneur firm trading llc
		self-employed employer`),
	"tech": strings.Fields(`кабинет войти вход логин пароль приложени сайт портал аккаунт учетн техподдерж техническ
		загруз файл глюч вылета зависа ошибк регистрац двухфактор login log password app website portal
		account error crash upload file tech technical bug freez sync registration authentication browser`),
	"abroad": strings.Fields(`границ рубеж международн эмигр германи франци испани итали израил турци казахстан
		узбекистан киргиз таджикистан беларус белорусс украин грузи армени азербайджан сша америк канад
		великобритани лондон китае китай китая япони таиланд тайланд оаэ эмират дубай египт кипр чехи польш
		финлянди латви литв эстони серби черногори вьетнам индии корее австрали португали нидерланд голланди
		швейцари австри болгари абхази монголи молдови
		abroad overseas foreign international germany france spain italy israel turkey kazakhstan uzbekistan
		kyrgyzstan tajikistan belarus ukraine georgia armenia azerbaijan usa america canada uk britain england
		london china japan thailand uae emirates dubai egypt cyprus czech poland finland latvia lithuania
		estonia serbia montenegro vietnam india korea australia portugal netherlands switzerland austria
		bulgaria moldova mongolia`),
}

// topicWords are whole words that would be too short or ambiguous as
// prefixes.
var topicWords = map[string]string{"англии": "abroad", "app": "tech", "ип": "business", "uk": "abroad", "us": "abroad"}

// topicIndex maps each prefix to its queue, built once per parser.
type topicIndex struct {
	prefix  map[string]string
	longest int // in runes
}

func newTopicIndex() *topicIndex {
	x := &topicIndex{prefix: map[string]string{}}
	for q, ps := range topicPrefixes {
		for _, p := range ps {
			x.prefix[p] = q
			x.longest = max(x.longest, len([]rune(p)))
		}
	}
	return x
}

// negators before a topic word cancel it: "не пенсия", "not a pension".
var negators = map[string]bool{"не": true, "not": true, "no": true, "без": true}

// topics returns the topic queues the words of ts point to. It looks up
// each word's beginnings (at most longest runes) in the prefix table.
func (x *topicIndex) topics(ts []textnorm.Token) []string {
	var out []string
	for i, t := range ts {
		if t.Num || i > 0 && negators[ts[i-1].Text] || i > 1 && negators[ts[i-2].Text] && ts[i-1].Text == "a" {
			continue
		}
		q, ok := topicWords[t.Text]
		if !ok {
			rs := []rune(t.Text)
			for n := min(len(rs), x.longest); n >= 4 || n == len(rs) && n >= 2; n-- {
				if q, ok = x.prefix[string(rs[:n])]; ok {
					break
				}
			}
		}
		if ok && !slices.Contains(out, q) {
			out = append(out, q)
		}
	}
	return out
}

// topicIdx is read-only after package initialisation.
var topicIdx = newTopicIndex()
