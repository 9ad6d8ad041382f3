package nlu

import (
	"strconv"
	"strings"
	"time"

	"github.com/hotline-ivr/hotline/nlu/textnorm"
)

// Slot names in Result.Slots.
const (
	SlotAppealNumber  = "application_number"
	SlotAppealInvalid = "application_number_invalid" // "true" when application_number fails the check digit
	SlotPhone         = "phone"
	SlotSNILS         = "snils"
	SlotINN           = "inn"
	SlotPassport      = "passport"
	SlotDate          = "date" // ISO 8601, YYYY-MM-DD
	SlotLanguage      = "lang"
)

// Expectations a dialogue may pass in Hint.Expect.
const (
	ExpectAppealNumber = "appeal_number"
	ExpectPhone        = "phone"
	ExpectSNILS        = "snils"
	ExpectINN          = "inn"
	ExpectPassport     = "passport"
	ExpectDate         = "date"
	ExpectYesNo        = "yes_no"
	ExpectLanguage     = "language"
)

// slotInput is what slot filling looks at.
type slotInput struct {
	tokens   []textnorm.Token
	intent   string
	expect   string
	lang     string
	now      time.Time
	validate func(string) bool // appeal number check; nil: length rule
}

// numRun is a run of adjacent number tokens, joined: "8 916 123-45-67".
type numRun struct {
	digits     string
	start, end int // token indexes [start, end)
	plus       bool
}

func extractSlots(in slotInput) map[string]string {
	slots := map[string]string{}
	ts := in.tokens
	used := make([]bool, len(ts))
	if d, ok := findDate(ts, used, in.now); ok {
		slots[SlotDate] = d
	}
	if d, ok := findPassport(ts, used); ok {
		slots[SlotPassport] = d
	}
	for _, r := range numberRuns(ts, used) {
		kind := classifyRun(r, ts, in)
		if kind == "" {
			continue
		}
		if _, taken := slots[kind]; taken {
			continue
		}
		slots[kind] = r.digits
	}
	checkAppeal(slots, in.validate)
	if in.intent == IntentSwitchLanguage || in.expect == ExpectLanguage {
		if l := targetLanguage(ts, in.lang); l != "" {
			slots[SlotLanguage] = l
		}
	}
	return slots
}

// numberRuns joins adjacent number tokens not already used by a date. A
// time of day ("18:00") is not a number run.
func numberRuns(ts []textnorm.Token, used []bool) []numRun {
	var runs []numRun
	for i := 0; i < len(ts); {
		if !ts[i].Num || used[i] {
			i++
			continue
		}
		j := i
		var b strings.Builder
		for j < len(ts) && ts[j].Num && !used[j] {
			if ts[j].Joined && ts[j].Sep == ':' {
				break
			}
			b.WriteString(ts[j].Text)
			j++
		}
		if j < len(ts) && ts[j].Num && ts[j].Joined && ts[j].Sep == ':' {
			// skip the whole time expression
			for j < len(ts) && ts[j].Num && (ts[j].Joined || j == i) {
				j++
			}
			i = j
			continue
		}
		if j == i {
			i++
			continue
		}
		runs = append(runs, numRun{digits: b.String(), start: i, end: j})
		i = j
	}
	return runs
}

// context keywords (normalised, matched as word prefixes) that say what a
// number is.
var (
	phoneWords    = []string{"телефон", "перезвон", "набер", "позвон", "звонит", "мобильн", "сотов", "phone", "call", "mobile", "cell", "reach", "ring"}
	snilsWords    = []string{"снилс", "snils", "insurance"}
	innWords      = []string{"инн", "inn", "tax", "налогов"}
	passportWords = []string{"паспорт", "серия", "passport"}
	appealWords   = []string{"номер", "обращени", "заявлени", "заявк", "заявлениe", "request", "application", "reference", "ticket", "case", "number", "zayavlenie", "appeal", "ref"}
)

// near reports whether a keyword appears among the few words before the
// run. after widens the window past the run ("88 20 41 это номер
// обращения"), for keywords that are not followed by another number.
func near(ts []textnorm.Token, r numRun, words []string, after int) bool {
	from := max(0, r.start-4)
	to := min(len(ts), r.end+after)
	for k := from; k < to; k++ {
		if k >= r.start && k < r.end || ts[k].Num {
			continue
		}
		for _, w := range words {
			if strings.HasPrefix(ts[k].Text, w) {
				return true
			}
		}
	}
	return false
}

// classifyRun decides which slot a digit run fills: what the words around
// it say first, then what the dialogue expects, then the digits' shape.
func classifyRun(r numRun, ts []textnorm.Token, in slotInput) string {
	d := r.digits
	n := len(d)
	phoneLike := n == 11 && (d[0] == '7' || d[0] == '8') || n == 10 && d[0] == '9'
	switch {
	case near(ts, r, snilsWords, 0) && n == 11:
		if ValidSNILS(d) {
			return SlotSNILS
		}
		return ""
	case near(ts, r, innWords, 0) && (n == 10 || n == 12):
		if ValidINN(d) {
			return SlotINN
		}
		return ""
	case near(ts, r, passportWords, 0) && n == 10:
		return SlotPassport
	case near(ts, r, phoneWords, 0) && phoneLike:
		return SlotPhone
	}
	switch in.expect {
	case ExpectPhone:
		if phoneLike {
			return SlotPhone
		}
	case ExpectSNILS:
		if ValidSNILS(d) {
			return SlotSNILS
		}
	case ExpectINN:
		if ValidINN(d) {
			return SlotINN
		}
	case ExpectPassport:
		if n == 10 {
			return SlotPassport
		}
	case ExpectAppealNumber:
		return appealSlot(d)
	}
	if phoneLike && (in.intent == IntentCallback || n == 11 && d[1] == '9') {
		return SlotPhone
	}
	if n == 11 && ValidSNILS(d) && !phoneLike {
		return SlotSNILS
	}
	if in.intent == IntentCheckStatus || near(ts, r, appealWords, 3) {
		if phoneLike && in.intent != IntentCheckStatus {
			return SlotPhone
		}
		return appealSlot(d)
	}
	if phoneLike {
		return SlotPhone
	}
	return ""
}

// appealSlot tells whether a digit run can be an appeal number: 5 to 12
// digits. The check digit is applied afterwards (checkAppeal), so the bot
// can repeat back what it heard and ask again.
func appealSlot(d string) string {
	if len(d) >= 5 && len(d) <= 12 {
		return SlotAppealNumber
	}
	return ""
}

// checkAppeal flags an appeal number that fails the injected validator.
func checkAppeal(slots map[string]string, validate func(string) bool) {
	if n, ok := slots[SlotAppealNumber]; ok && validate != nil && !validate(n) {
		slots[SlotAppealInvalid] = "true"
	}
}

func monthOf(w string) (time.Month, bool) {
	ru := []string{"январ", "феврал", "март", "апрел", "ма", "июн", "июл", "август", "сентябр", "октябр", "ноябр", "декабр"}
	en := []string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}
	for i, p := range ru {
		if p == "ма" {
			if w == "мая" || w == "май" || w == "мае" {
				return time.May, true
			}
			continue
		}
		if strings.HasPrefix(w, p) && len([]rune(w)) <= len([]rune(p))+2 {
			return time.Month(i + 1), true
		}
	}
	for i, p := range en {
		if w == p || len(w) >= 3 && w == p[:3] && w != "mar" && w != "may" {
			return time.Month(i + 1), true
		}
	}
	if w == "mar" {
		return time.March, true
	}
	return 0, false
}

var weekdays = map[string]time.Weekday{
	"понедельник": time.Monday, "вторник": time.Tuesday, "среду": time.Wednesday, "среда": time.Wednesday,
	"четверг": time.Thursday, "пятницу": time.Friday, "пятница": time.Friday, "субботу": time.Saturday,
	"суббота": time.Saturday, "воскресенье": time.Sunday,
	"monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday, "thursday": time.Thursday,
	"friday": time.Friday, "saturday": time.Saturday, "sunday": time.Sunday,
}

// findDate finds the first date: relative words (today, tomorrow, a
// weekday), "25 марта", "March 25th", "the 25th of March", "25.03(.2026)".
// It marks the tokens it used so they are not read as numbers.
func findDate(ts []textnorm.Token, used []bool, now time.Time) (string, bool) {
	day := func(t time.Time) string { return t.Format("2006-01-02") }
	mk := func(y int, m time.Month, d int) (string, bool) {
		if d < 1 || d > 31 {
			return "", false
		}
		t := time.Date(y, m, d, 0, 0, 0, 0, now.Location())
		if t.Day() != d {
			return "", false
		}
		return day(t), true
	}
	year := func(k int) (int, bool) {
		if k < len(ts) && ts[k].Num && (len(ts[k].Text) == 4 || len(ts[k].Text) == 2) {
			y, _ := strconv.Atoi(ts[k].Text)
			if y < 100 {
				y += 2000
			}
			if y >= 1900 && y <= 2100 {
				return y, true
			}
		}
		return 0, false
	}
	for i, t := range ts {
		switch t.Text {
		case "сегодня", "today", "tonight":
			return day(now), true
		case "завтра", "tomorrow":
			if i > 0 && ts[i-1].Text == "после" {
				return day(now.AddDate(0, 0, 2)), true
			}
			return day(now.AddDate(0, 0, 1)), true
		case "послезавтра":
			return day(now.AddDate(0, 0, 2)), true
		case "вчера", "yesterday":
			return day(now.AddDate(0, 0, -1)), true
		}
		if wd, ok := weekdays[t.Text]; ok {
			delta := (int(wd) - int(now.Weekday()) + 7) % 7
			if delta == 0 {
				delta = 7
			}
			return day(now.AddDate(0, 0, delta)), true
		}
		if !t.Num {
			continue
		}
		// 25.03 / 25/03 / 25.03.2026
		if i+1 < len(ts) && ts[i+1].Num && ts[i+1].Joined && (ts[i+1].Sep == '.' || ts[i+1].Sep == '/') && len(t.Text) <= 2 && len(ts[i+1].Text) <= 2 {
			d, _ := strconv.Atoi(t.Text)
			m, _ := strconv.Atoi(ts[i+1].Text)
			if m >= 1 && m <= 12 {
				y, n := now.Year(), 2
				if i+2 < len(ts) && ts[i+2].Joined {
					if yy, ok := year(i + 2); ok {
						y, n = yy, 3
					}
				}
				if s, ok := mk(y, time.Month(m), d); ok {
					markUsed(used, i, i+n)
					return s, true
				}
			}
		}
		// 25 марта [2026]
		if i+1 < len(ts) {
			if m, ok := monthOf(ts[i+1].Text); ok {
				d, _ := strconv.Atoi(t.Text)
				y, n := now.Year(), 2
				if yy, ok := year(i + 2); ok {
					y, n = yy, 3
				}
				if s, ok := mk(y, m, d); ok {
					markUsed(used, i, i+n)
					return s, true
				}
			}
		}
		// the 25th of March
		if i+2 < len(ts) && ts[i+1].Text == "of" {
			if m, ok := monthOf(ts[i+2].Text); ok {
				d, _ := strconv.Atoi(t.Text)
				if s, ok := mk(now.Year(), m, d); ok {
					markUsed(used, i, i+3)
					return s, true
				}
			}
		}
		// March 25th
		if i > 0 && len(t.Text) <= 2 {
			if m, ok := monthOf(ts[i-1].Text); ok && !ts[i-1].Num {
				d, _ := strconv.Atoi(t.Text)
				y, n := now.Year(), 1
				if yy, ok := year(i + 1); ok {
					y, n = yy, 2
				}
				if s, ok := mk(y, m, d); ok {
					markUsed(used, i, i+n)
					return s, true
				}
			}
		}
	}
	return "", false
}

func markUsed(used []bool, from, to int) {
	for k := from; k < to && k < len(used); k++ {
		used[k] = true
	}
}

// targetLanguage finds the language a caller asks to switch to. A language
// mentioned as one the caller does not speak ("I don't speak Russian", "я
// английский плохо понимаю") points to the other one. With no language
// named, the target is the other language than the one spoken.
func targetLanguage(ts []textnorm.Token, spoken string) string {
	score := map[string]int{}
	for i, t := range ts {
		var l string
		switch {
		case strings.HasPrefix(t.Text, "англ") || t.Text == "english" || t.Text == "английски":
			l = "en"
		case strings.HasPrefix(t.Text, "русск") || t.Text == "russian" || t.Text == "русски":
			l = "ru"
		default:
			continue
		}
		w := 1
		for k := max(0, i-3); k < i; k++ {
			switch ts[k].Text {
			case "не", "dont", "doesnt", "not", "cant", "nobody", "никто", "no", "плохо", "poorly":
				w = -1
			}
		}
		for k := i + 1; k < min(len(ts), i+3); k++ {
			switch ts[k].Text {
			case "плохо", "poorly", "badly":
				w = -1
			}
		}
		score[l] += w
		score[other(l)] -= w
	}
	switch {
	case score["en"] > score["ru"]:
		return "en"
	case score["ru"] > score["en"]:
		return "ru"
	}
	return other(spoken)
}

func other(lang string) string {
	if lang == "en" {
		return "ru"
	}
	return "en"
}

// findPassport reads a passport number said after "паспорт"/"passport":
// a four-digit series and a six-digit number, often with "серия" and
// "номер" between the groups.
func findPassport(ts []textnorm.Token, used []bool) (string, bool) {
	for i, t := range ts {
		if !strings.HasPrefix(t.Text, "паспорт") && !strings.HasPrefix(t.Text, "passport") {
			continue
		}
		var b strings.Builder
		var idx []int
		for k := i + 1; k < len(ts) && k <= i+8 && b.Len() < 10; k++ {
			switch {
			case ts[k].Num && !used[k]:
				b.WriteString(ts[k].Text)
				idx = append(idx, k)
			case ts[k].Text == "серия" || ts[k].Text == "номер" || ts[k].Text == "series" || ts[k].Text == "number" || ts[k].Text == "мой" || ts[k].Text == "my" || ts[k].Text == "is":
			default:
				if b.Len() > 0 {
					k = len(ts)
				}
			}
		}
		if b.Len() == 10 {
			for _, k := range idx {
				used[k] = true
			}
			return b.String(), true
		}
	}
	return "", false
}
