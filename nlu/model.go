package nlu

import (
	"bufio"
	"embed"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/hotline-ivr/hotline/nlu/textnorm"
)

// trainingData holds the labelled utterances the classifiers learn from,
// written for this project: data/train_<lang>.tsv, "intent<TAB>queue<TAB>text".
//
//go:embed data/train_ru.tsv data/train_en.tsv
var trainingData embed.FS

// Sample is one labelled utterance.
type Sample struct {
	Intent, Queue, Text string
}

// ParseSamples reads "intent<TAB>queue<TAB>text" lines; blank lines and
// lines starting with '#' are skipped. Labels are checked.
func ParseSamples(name, data string) ([]Sample, error) {
	var out []Sample
	sc := bufio.NewScanner(strings.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 || strings.TrimSpace(f[2]) == "" {
			return nil, fmt.Errorf("%w: %s:%d: want intent<TAB>queue<TAB>text", ErrBadTrainingData, name, n)
		}
		if !slices.Contains(Intents, f[0]) {
			return nil, fmt.Errorf("%w: %s:%d: unknown intent %q", ErrBadTrainingData, name, n, f[0])
		}
		if !slices.Contains(Queues, f[1]) {
			return nil, fmt.Errorf("%w: %s:%d: unknown queue %q", ErrBadTrainingData, name, n, f[1])
		}
		out = append(out, Sample{Intent: f[0], Queue: f[1], Text: f[2]})
	}
	return out, sc.Err()
}

// builtinSamples returns the embedded training utterances of lang.
func builtinSamples(lang string) ([]Sample, error) {
	name := "data/train_" + lang + ".tsv"
	b, err := trainingData.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("%w for %q", ErrNoTrainingData, lang)
	}
	return ParseSamples(name, string(b))
}

// langModel is the pair of classifiers of one language.
type langModel struct {
	intent, queue *linear
}

// trainLang trains the intent and queue classifiers of one language from
// the hand-written samples and the articles' example questions.
//
// Article questions teach faq, but some read like requests ("can I talk
// to an operator directly?" is the question of an article about reaching
// one): a first model trained on the hand-written samples alone screens
// them, and questions it firmly puts in another intent are left out of
// intent training (they still train the queue model and find articles).
//
// Classes are weighted by the inverse square root of their frequency so
// that the many faq phrasings do not drown the short commands. Softmax
// temperatures are fitted on every fifth sample, held out from a first
// training run; the final models learn from all samples.
func trainLang(hand, articles []Sample, p trainParams) (*langModel, error) {
	if len(hand) == 0 {
		return nil, ErrNoTrainingData
	}
	featOf := func(ss []Sample) [][]feature {
		out := make([][]feature, len(ss))
		for i, s := range ss {
			out[i] = featurize(textnorm.Tokens(s.Text))
		}
		return out
	}
	hx, ax := featOf(hand), featOf(articles)
	qfeatOf := func(ss []Sample, xs [][]feature) [][]feature {
		out := make([][]feature, len(ss))
		for i, s := range ss {
			out[i] = queueFeatures(xs[i], textnorm.Tokens(s.Text))
		}
		return out
	}
	hq, aq := qfeatOf(hand, hx), qfeatOf(articles, ax)

	examples := func(xs [][]feature, ss []Sample, label func(Sample) int) []example {
		out := make([]example, len(ss))
		for i := range ss {
			out[i] = example{x: xs[i], y: label(ss[i])}
		}
		return out
	}
	byIntent := func(s Sample) int { return slices.Index(Intents, s.Intent) }
	byQueue := func(s Sample) int { return slices.Index(Queues, s.Queue) }

	intentData := examples(hx, hand, byIntent)
	if len(articles) > 0 {
		screen := newLinear(Intents, weighted(intentData, len(Intents)), p)
		faq := slices.Index(Intents, IntentFAQ)
		for _, x := range ax {
			pr := screen.predict(x)
			if best := argmax(pr); best != faq && pr[best] >= 0.6 {
				continue
			}
			intentData = append(intentData, example{x: x, y: faq})
		}
	}
	queueData := append(examples(hq, hand, byQueue), examples(aq, articles, byQueue)...)
	return &langModel{
		intent: fitCalibrated(Intents, weighted(intentData, len(Intents)), p),
		queue:  fitCalibrated(Queues, weighted(queueData, len(Queues)), p),
	}, nil
}

// weighted sets class weights (max count / count)^½.
func weighted(data []example, k int) []example {
	count := make([]int, k)
	for _, e := range data {
		count[e.y]++
	}
	most := slices.Max(count)
	out := make([]example, len(data))
	for i, e := range data {
		e.w = math.Sqrt(float64(most) / float64(count[e.y]))
		out[i] = e
	}
	return out
}

// fitCalibrated fits a temperature on a held-out fifth, then trains on all.
func fitCalibrated(classes []string, data []example, p trainParams) *linear {
	var train, held []example
	for i, e := range data {
		if i%5 == 0 {
			held = append(held, e)
		} else {
			train = append(train, e)
		}
	}
	probe := newLinear(classes, train, p)
	probe.calibrate(held)
	m := newLinear(classes, data, p)
	m.temp = probe.temp
	return m
}

// articleSamples turns articles' example questions into faq training
// utterances, which keeps the classifier in step with the knowledge base.
func articleSamples(arts []FAQArticle, lang string) []Sample {
	var out []Sample
	for _, a := range arts {
		if a.Lang != lang || !slices.Contains(Queues, a.Queue) {
			continue
		}
		for _, q := range a.Questions {
			out = append(out, Sample{Intent: IntentFAQ, Queue: a.Queue, Text: q})
		}
	}
	return out
}
