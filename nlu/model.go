package nlu

import (
	"bufio"
	"embed"
	"fmt"
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

// trainLang trains the intent and queue classifiers of one language. The
// softmax temperatures are fitted on every fifth sample, held out from a
// first training run; the final models learn from all samples.
func trainLang(samples []Sample, p trainParams) (*langModel, error) {
	if len(samples) == 0 {
		return nil, ErrNoTrainingData
	}
	type row struct {
		x          []feature
		intent, qu int
	}
	rows := make([]row, len(samples))
	for i, s := range samples {
		rows[i] = row{featurize(textnorm.Tokens(s.Text)), slices.Index(Intents, s.Intent), slices.Index(Queues, s.Queue)}
	}
	build := func(pick func(row) int, keep func(i int) bool) []example {
		var ex []example
		for i, r := range rows {
			if keep(i) {
				ex = append(ex, example{r.x, pick(r)})
			}
		}
		return ex
	}
	all := func(int) bool { return true }
	train := func(i int) bool { return i%5 != 0 }
	held := func(i int) bool { return i%5 == 0 }
	byIntent := func(r row) int { return r.intent }
	byQueue := func(r row) int { return r.qu }

	fit := func(classes []string, pick func(row) int) *linear {
		probe := newLinear(classes, build(pick, train), p)
		probe.calibrate(build(pick, held))
		m := newLinear(classes, build(pick, all), p)
		m.temp = probe.temp
		return m
	}
	return &langModel{intent: fit(Intents, byIntent), queue: fit(Queues, byQueue)}, nil
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
