package voice

import (
	"context"
	"strings"
	"time"
	"unicode"

	"github.com/hotline-ivr/hotline/bot"
	"github.com/hotline-ivr/hotline/nlu/textnorm"
)

// Completer tells whether what the caller has said so far (the
// recogniser's hypothesis at a short pause) is a complete turn, given what
// the bot asked for (a bot.Expect* value). When it is, the pipeline ends
// the turn at the pause instead of waiting for the VAD's full hangover of
// silence; when unsure it must say false. It is called from the listener
// while the caller is silent and should return within tens of
// milliseconds.
type Completer func(partial, expect string) bool

// How the end of a spoken turn was decided (Turn.EndedBy).
const (
	EndedByHangover = "hangover" // the VAD's full hangover of silence
	EndedByEarly    = "early"    // a short pause after a complete turn
)

// completeTimeout bounds one understanding of a partial.
const completeTimeout = 150 * time.Millisecond

// CompleterConfig is what UnderstandingCompleter needs.
type CompleterConfig struct {
	// Understander parses the partial. It should not call a remote model
	// (an LLM): the caller is waiting.
	Understander bot.Understander
	// MinConfidence is the intent confidence that makes an utterance
	// complete when the bot expects nothing in particular (default 0.6).
	MinConfidence float64
	// ValidAppeal checks an appeal number's digits (length and check
	// digit); nil accepts any 10 digits.
	ValidAppeal func(digits string) bool
}

// UnderstandingCompleter is the Completer over the bot's understanding:
//
//   - an utterance that ends with a conjunction, preposition or filler
//     ("и", "а", "ну", "and", "um", "my number is") is incomplete;
//   - a yes or no where the bot asked a yes/no question is complete;
//   - where the bot asked for an appeal number, digits are complete only
//     as a valid number; a phone, with at least 10 digits;
//   - an utterance that ends with a number in any other case is a number
//     still being read out, incomplete;
//   - otherwise an intent at MinConfidence or more is complete.
func UnderstandingCompleter(cfg CompleterConfig) Completer {
	if cfg.MinConfidence <= 0 {
		cfg.MinConfidence = 0.6
	}
	if cfg.ValidAppeal == nil {
		cfg.ValidAppeal = func(d string) bool { return len(d) == 10 }
	}
	return func(partial, expect string) bool {
		words := lowerWords(partial)
		if len(words) == 0 || trailingIncomplete(words) {
			return false
		}
		if expect == bot.ExpectYesNo && len(words) <= 2 && yesNo[strings.Join(words, " ")] {
			return true
		}
		if cfg.Understander == nil {
			return false
		}
		ctx, cancel := context.WithTimeout(context.Background(), completeTimeout)
		defer cancel()
		u, err := cfg.Understander.Parse(ctx, partial, bot.Hint{Lang: scriptLang(partial), Expect: expect})
		if err != nil {
			return false
		}
		ts := textnorm.Tokens(partial)
		endsInNumber := len(ts) > 0 && ts[len(ts)-1].Num
		digits := u.Slots[bot.SlotDigits]
		switch expect {
		case bot.ExpectAppealNumber:
			if digits != "" {
				n := u.Slots[bot.SlotAppealNumber]
				if n == "" {
					n = digits
				}
				return cfg.ValidAppeal(n)
			}
		case bot.ExpectPhone:
			if digits != "" {
				n := u.Slots[bot.SlotPhone]
				if n == "" {
					n = digits
				}
				return len(n) >= 10
			}
		case bot.ExpectYesNo:
			if u.Intent == bot.IntentYes || u.Intent == bot.IntentNo {
				return u.Confidence >= cfg.MinConfidence/2
			}
		case bot.ExpectLanguage:
			if u.Slots[bot.SlotLanguage] != "" {
				return true
			}
		}
		if endsInNumber {
			return false
		}
		return u.Intent != "" && u.Confidence >= cfg.MinConfidence
	}
}

// yesNo are whole answers to a yes/no question.
var yesNo = map[string]bool{
	"да": true, "нет": true, "ага": true, "угу": true, "конечно": true, "да да": true, "нет нет": true,
	"не надо": true, "да конечно": true, "нет спасибо": true, "да пожалуйста": true,
	"yes": true, "no": true, "yeah": true, "yep": true, "nope": true, "sure": true, "yes please": true,
	"no thanks": true, "of course": true, "not really": true,
}

// incompleteTail are words after which a sentence goes on: conjunctions,
// prepositions, fillers, and openings like "my number is". A recogniser
// often ends a hypothesis with a short function word it misheard ("what
// are the operator are"), so the list keeps to words a complete request
// hardly ends with.
var incompleteTail = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`
		и а но или ну что чтобы как когда если потому поэтому где который которая которое
		в во на с со по к ко о об у за из от до для при про без через над под между
		мой моя моё мое мои ваш ваша это вот так эм ээ э мм хм типа значит короче ещё еще номер телефон
		and or but so because if when where which that who the a an to of for in on at with from by about
		my your our is um uh er erm hmm like well then number phone its it's i'm i`) {
		incompleteTail[w] = true
	}
}

func trailingIncomplete(words []string) bool {
	return incompleteTail[words[len(words)-1]]
}

// lowerWords splits text into lower-case words without punctuation.
func lowerWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' && r != '-'
	})
}

// scriptLang guesses the language from the alphabet: Cyrillic is Russian.
func scriptLang(s string) string {
	for _, r := range s {
		if unicode.Is(unicode.Cyrillic, r) {
			return "ru"
		}
	}
	return "en"
}
