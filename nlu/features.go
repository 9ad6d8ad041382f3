package nlu

import (
	"cmp"
	"hash/fnv"
	"slices"
	"strconv"
	"unicode"
	"unicode/utf8"

	snowball "github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
	"github.com/blevesearch/snowballstem/russian"

	"github.com/hotline-ivr/hotline/nlu/textnorm"
)

// featureBits sets the hashed feature space: 2^17 buckets keep collisions
// rare for a vocabulary of a few thousand stems and n-grams while the two
// models stay small (buckets × classes float32).
const featureBits = 17

// feature is one hashed feature and its value.
type feature struct {
	idx uint32
	val float32
}

// stem reduces a word with the Snowball stemmer of its script.
func stem(w string) string {
	if w == "" {
		return w
	}
	r, _ := utf8.DecodeRuneInString(w)
	env := snowball.NewEnv(w)
	if unicode.Is(unicode.Cyrillic, r) {
		russian.Stem(env)
	} else {
		english.Stem(env)
	}
	return env.Current()
}

// stems returns the stemmed words, numbers replaced by their shape: what
// matters is "a long number was said", not which one.
func stems(ts []textnorm.Token) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		if t.Num {
			out[i] = numShape(t.Text)
			continue
		}
		out[i] = stem(t.Text)
	}
	return out
}

func numShape(d string) string {
	switch n := len(d); {
	case n <= 2:
		return "#n2"
	case n <= 4:
		return "#n4"
	case n <= 9:
		return "#n9"
	default:
		return "#n" + strconv.Itoa(min(n, 13))
	}
}

// featurize builds the feature vector of an utterance: stemmed unigrams and
// bigrams, the first word (questions and commands start differently),
// character 3–5-grams of each word (robust to misspelt or misrecognised
// words) and the utterance length (yes/no/repeat are short).
func featurize(ts []textnorm.Token) []feature {
	ss := stems(ts)
	acc := map[uint32]float32{}
	add := func(s string, v float32) {
		h := fnv.New32a()
		h.Write([]byte(s))
		acc[h.Sum32()&(1<<featureBits-1)] += v
	}
	add("bias", 1)
	switch n := len(ss); {
	case n <= 1:
		add("len:1", 1)
	case n == 2:
		add("len:2", 1)
	case n <= 4:
		add("len:4", 1)
	case n <= 8:
		add("len:8", 1)
	default:
		add("len:9+", 1)
	}
	for i, s := range ss {
		add("w:"+s, 1)
		if i == 0 {
			add("first:"+s, 1)
		}
		if i+1 < len(ss) {
			add("b:"+s+"_"+ss[i+1], 0.7)
		}
		if i+2 < len(ss) {
			add("s:"+s+"_"+ss[i+2], 0.3)
		}
	}
	for _, q := range topicIdx.topics(ts) {
		add("topic:"+q, 1.5)
	}
	for _, t := range ts {
		if t.Num {
			continue
		}
		rs := []rune(" " + t.Text + " ")
		for n := 3; n <= 5; n++ {
			for i := 0; i+n <= len(rs); i++ {
				add("c:"+string(rs[i:i+n]), 0.25)
			}
		}
	}
	fs := make([]feature, 0, len(acc))
	for k, v := range acc {
		fs = append(fs, feature{k, v})
	}
	// A fixed order makes scores bit-for-bit reproducible.
	slices.SortFunc(fs, func(a, b feature) int { return cmp.Compare(a.idx, b.idx) })
	return fs
}

// queueFeatures adds a strong topic signal to x for the queue classifier:
// the topic words decide the queue far more than they decide the intent.
func queueFeatures(x []feature, ts []textnorm.Token) []feature {
	qs := topicIdx.topics(ts)
	if len(qs) == 0 {
		return x
	}
	out := slices.Clone(x)
	for _, q := range qs {
		h := fnv.New32a()
		h.Write([]byte("qtopic:" + q))
		out = append(out, feature{h.Sum32() & (1<<featureBits - 1), 2})
	}
	return out
}
