package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// state is where the conversation is: what the bot last asked.
type state int

const (
	stGreeting      state = iota // recording notice, language choice
	stMain                       // "how can I help?"
	stAnswered                   // "did that help?"
	stAnythingElse               // "anything else?"
	stClarify                    // "X or Y?"
	stOfferOperator              // "shall I connect you?"
	stOfferCallback              // out of hours: "shall I take a callback request?"
	stStatusNumber               // "say the appeal number"
	stStatusConfirm              // "number 123 456 789 0, right?"
	stStatusFactor               // "last 4 digits of the phone"
	stDescribe                   // application: "describe briefly"
	stPhone                      // "a phone number to reach you"
	stPhoneConfirm               // "phone +7 912 ..., right?"
	stCallbackWhen               // "when is a good time?"
	stComplaint                  // "describe the complaint"
	stAgent                      // an agent has the chat
)

var stateNames = [...]string{"greeting", "main", "answered", "anything_else", "clarify", "offer_operator",
	"offer_callback", "status_number", "status_confirm", "status_factor", "describe", "phone", "phone_confirm",
	"callback_when", "complaint", "agent"}

func (s state) String() string { return stateNames[s] }

// purposes of collecting a phone number.
const (
	forApplication = "application"
	forCallback    = "callback"
)

// segment is part of a reply in one language (the greeting speaks both).
// fixed marks speech the caller must hear whole (the recording notice on
// a call): it goes out as its own Reply with NoBargeIn set.
type segment struct {
	lang, text string
	fixed      bool
	article    string // the knowledge-base article the text answers from
}

// dialog is the state machine. Only the session's goroutine touches it.
type dialog struct {
	s     *Session
	lang  string
	st    state
	ended bool

	timer    Timer
	timerGen uint64
	inputAt  time.Time
	out      []segment

	silences, failures, noStreak, swears int
	numberTries, lookupFails, phoneTries int

	lastReply  string
	lastQuery  string // the caller's last question, for appeals
	lastIntent string
	queue      string
	topics     []Article // the clarification's two topics
	tried      []Attempt
	offerWhy   string // why an operator was offered

	number      string // appeal number being checked
	phone       string
	phoneFor    string
	description string
	nextOpen    time.Time

	appeals []string       // appeals created in this conversation
	saved   map[string]int // turns of the transcript already on each appeal
	handoff *Decision
	relayed bool
	// autoSwitched: this utterance already switched the language.
	autoSwitched bool
	endReason    string
}

func newDialog(s *Session) *dialog {
	return &dialog{s: s, lang: s.cfg.Lang, saved: map[string]int{}}
}

func (d *dialog) p() *prompts { return promptsFor(d.lang) }

func (d *dialog) now() time.Time { return d.s.deps.Clock.Now() }

// say adds a sentence to this turn's reply in the conversation's language.
func (d *dialog) say(parts ...string) { d.sayIn(d.langOr(), parts...) }

func (d *dialog) sayIn(lang string, parts ...string) {
	if t := joinSay(parts...); t != "" {
		d.out = append(d.out, segment{lang: lang, text: t})
	}
}

func (d *dialog) langOr() string {
	if d.lang == "" {
		return "ru"
	}
	return d.lang
}

// ask moves to st and asks its question.
func (d *dialog) ask(st state) {
	d.st = st
	d.say(d.question())
}

// question is what the bot asks in the current state, in the current
// language: re-prompts and a language switch regenerate it.
func (d *dialog) question() string {
	p := d.p()
	switch d.st {
	case stGreeting:
		return "" // bilingual: see askLanguage
	case stMain:
		return p.Main
	case stAnswered:
		return p.Helped
	case stAnythingElse:
		return p.AnythingElse
	case stClarify:
		if len(d.topics) >= 2 {
			return fmt.Sprintf(p.Clarify, d.topics[0].Title, d.topics[1].Title)
		}
		return p.Main
	case stOfferOperator:
		return p.OfferOperator
	case stOfferCallback:
		if !d.nextOpen.IsZero() {
			return fmt.Sprintf(p.OutOfHours, p.when(d.now(), d.nextOpen))
		}
		return p.OfferCallback
	case stStatusNumber:
		return p.AskAppealNumber
	case stStatusConfirm:
		return fmt.Sprintf(p.ConfirmNumber, groupNumber(d.number))
	case stStatusFactor:
		return p.AskPhoneLast4
	case stDescribe:
		return p.AskDescription
	case stPhone:
		return p.AskPhone
	case stPhoneConfirm:
		return fmt.Sprintf(p.ConfirmPhone, groupPhone(d.phone))
	case stCallbackWhen:
		return p.AskCallbackWhen
	case stComplaint:
		return p.AskComplaint
	}
	return ""
}

// reprompt asks the current question again, the longer way for the open
// question.
func (d *dialog) reprompt() {
	switch d.st {
	case stGreeting:
		d.askLanguage()
	case stMain:
		d.say(d.p().MainReprompt)
	case stAnswered, stAnythingElse, stOfferOperator, stOfferCallback, stStatusConfirm, stPhoneConfirm:
		d.say(d.question(), d.p().YesNoReprompt)
	default:
		d.say(d.question())
	}
}

func (d *dialog) askLanguage() {
	d.st = stGreeting
	d.sayIn("ru", promptsRU.LangChoice)
	d.sayIn("en", promptsEN.LangChoice)
}

func (d *dialog) expect() string {
	switch d.st {
	case stGreeting:
		return ExpectLanguage
	case stStatusNumber:
		return ExpectAppealNumber
	case stPhone, stStatusFactor:
		return ExpectPhone
	case stAnswered, stAnythingElse, stOfferOperator, stOfferCallback, stStatusConfirm, stPhoneConfirm:
		return ExpectYesNo
	}
	return ExpectNone
}

// start greets the caller.
func (d *dialog) start(ctx context.Context) {
	d.inputAt = d.now()
	// On a call the recording notice must not be cut by caller speech or
	// line noise; a chat shows it in the same message as the question.
	fixed := d.s.cfg.Channel == ChannelVoice
	if d.lang == "" {
		d.out = append(d.out, segment{lang: "ru", text: promptsRU.Greeting, fixed: fixed})
		d.askLanguage()
	} else {
		d.out = append(d.out, segment{lang: d.lang, text: d.p().Greeting, fixed: fixed})
		d.ask(stMain)
	}
	d.flush(ctx)
}

// flush sends this turn's reply, logs it and starts listening.
func (d *dialog) flush(ctx context.Context) {
	if len(d.out) > 0 {
		var all []string
		for i := 0; i < len(d.out); {
			j, texts, article := i, []string(nil), ""
			for j < len(d.out) && d.out[j].lang == d.out[i].lang && d.out[j].fixed == d.out[i].fixed {
				texts = append(texts, d.out[j].text)
				if article == "" {
					article = d.out[j].article
				}
				j++
			}
			text := strings.Join(texts, " ")
			d.s.emit(Event{Kind: EventReply, Text: text, Lang: d.out[i].lang, NoBargeIn: d.out[i].fixed, ArticleID: article})
			all = append(all, text)
			i = j
		}
		d.out = d.out[:0]
		text := strings.Join(all, " ")
		d.lastReply = text
		now := d.now()
		d.s.addTurn(Turn{At: now, Speaker: SpeakerBot, Text: text, Latency: now.Sub(d.inputAt)})
	}
	if d.ended {
		return
	}
	// Armed before ReplyEnd goes out, so whoever sees ReplyEnd knows the
	// silence timer is running.
	d.arm()
	// Lang tells a voice channel which recogniser to listen with; it is
	// empty while the caller has not chosen a language.
	d.s.emit(Event{Kind: EventReplyEnd, Lang: d.lang, Expect: d.expect()})
}

// arm (re)starts the no-input timer; an agent's chat has none.
func (d *dialog) arm() {
	d.disarm()
	if d.st == stAgent {
		return
	}
	d.timer = d.s.arm(d.timerGen)
}

// disarm stops the timer; bumping the generation makes a timeout already
// in flight stale.
func (d *dialog) disarm() {
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	d.timerGen++
}

// end says goodbye (text may be empty) and ends the session.
func (d *dialog) end(reason string, text ...string) {
	d.say(text...)
	d.ended = true
	d.disarm()
	d.s.log.Info("conversation ends", "reason", reason, "state", d.st.String())
	d.s.addTurn(Turn{At: d.now(), Speaker: SpeakerSystem, Text: "end: " + reason})
	d.endReason = reason
}

// noInput handles silence: re-prompt, then a polite end.
func (d *dialog) noInput(ctx context.Context, fromChannel bool) {
	if d.ended || d.st == stAgent {
		return
	}
	d.disarm()
	d.inputAt = d.now()
	d.silences++
	d.s.addTurn(Turn{At: d.now(), Speaker: SpeakerSystem, Text: "no input"})
	if d.silences > d.s.cfg.NoInputRetries {
		d.end(EndNoInput, d.p().NoInputBye)
	} else {
		d.say(d.p().NoInput)
		d.reprompt()
	}
	d.flushEnd(ctx)
}

// hangup ends the session without a goodbye: nobody is there to hear it.
func (d *dialog) hangup(ctx context.Context, reason string) {
	if d.ended {
		return
	}
	d.out = d.out[:0]
	d.end(reason)
	d.flushEnd(ctx)
}

// flushEnd flushes and, when the conversation is over, says so.
func (d *dialog) flushEnd(ctx context.Context) {
	d.flush(ctx)
	if d.ended {
		d.s.emit(Event{Kind: EventEnd, Reason: d.endReason})
	}
}

// finish attaches the rest of the transcript to the conversation's appeals.
func (d *dialog) finish(ctx context.Context) {
	d.disarm()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	all := d.s.Transcript()
	for _, n := range d.appeals {
		if from := d.saved[n]; from < len(all) {
			if err := d.s.deps.Appeals.AppendTranscript(ctx, n, all[from:]); err != nil {
				d.s.log.Error("saving transcript failed", "appeal", n, "err", err)
			}
		}
	}
}

// handle is one input from the channel.
func (d *dialog) handle(ctx context.Context, in Input) {
	if d.ended {
		return
	}
	switch in.Kind {
	case InputSpeechStart:
		// Barge-in: the channel stops playback; the bot stops waiting.
		d.disarm()
		d.s.emit(Event{Kind: EventSpeechStart})
		return
	case InputPartial:
		d.disarm()
		d.s.emit(Event{Kind: EventPartial, Text: in.Text})
		return
	case InputHangup:
		d.hangup(ctx, EndHangup)
		return
	case InputReplyDone:
		if d.timer != nil {
			d.arm() // restart the silence timer from now
		}
		return
	case InputNoInput:
		d.noInput(ctx, true)
		return
	case InputAgentText:
		if d.st == stAgent && strings.TrimSpace(in.Text) != "" {
			d.s.addTurn(Turn{At: d.now(), Speaker: SpeakerAgent, Text: in.Text})
			d.s.emit(Event{Kind: EventAgent, Text: in.Text})
		}
		return
	}
	d.disarm()
	d.inputAt = d.now()
	d.silences = 0
	switch in.Kind {
	case InputLanguage:
		d.s.addTurn(Turn{At: d.now(), Speaker: SpeakerCaller, Text: "[language " + in.Lang + "]"})
		if in.Lang == "ru" || in.Lang == "en" {
			d.chooseLanguage(in.Lang)
		} else {
			d.reprompt()
		}
	case InputDTMF:
		digits := strings.TrimSpace(in.Digits)
		d.s.addTurn(Turn{At: d.now(), Speaker: SpeakerCaller, Text: "[DTMF " + digits + "]"})
		d.dtmf(ctx, digits)
	case InputFinal:
		d.s.emit(Event{Kind: EventFinal, Text: in.Text})
		d.text(ctx, in.Text)
	default:
		d.text(ctx, in.Text)
	}
	d.flushEnd(ctx)
}

// chooseLanguage sets the language and goes on where the caller was.
func (d *dialog) chooseLanguage(lang string) {
	greeting := d.st == stGreeting
	d.lang = lang
	if greeting {
		d.say(d.p().LangSet)
		d.ask(stMain)
		return
	}
	d.say(d.p().SwitchedLang)
	d.reprompt()
}

// dtmf maps keys to answers: digits are data where the bot collects a
// number, otherwise 1/2 answer choices, 0 asks for an operator and *
// repeats.
func (d *dialog) dtmf(ctx context.Context, digits string) {
	switch d.st {
	case stStatusNumber, stStatusFactor, stPhone:
		if digits == "*" {
			d.repeat()
		} else {
			d.collectDigits(ctx, digits, digits)
		}
		return
	case stAgent:
		return
	}
	switch digits {
	case "*":
		d.repeat()
		return
	case "0":
		d.toOperator(ctx, ReasonAsked)
		return
	}
	switch d.st {
	case stGreeting:
		switch digits {
		case "1":
			d.chooseLanguage("ru")
		case "2":
			d.chooseLanguage("en")
		default:
			d.askLanguage()
		}
	case stClarify:
		if n := ordinal(digits); n > 0 {
			d.pickTopic(ctx, n)
		} else {
			d.say(d.question())
		}
	case stAnswered, stAnythingElse, stOfferOperator, stOfferCallback, stStatusConfirm, stPhoneConfirm:
		switch digits {
		case "1":
			d.yesNo(ctx, IntentYes)
		case "2":
			d.yesNo(ctx, IntentNo)
		default:
			d.reprompt()
		}
	case stMain:
		switch digits {
		case "1":
			d.startStatus(ctx, "")
		case "2":
			d.ask(stDescribe)
		case "3":
			d.startCallback(ctx, "")
		default:
			d.reprompt()
		}
	default:
		d.reprompt()
	}
}

// freeText reports states where the caller dictates text that is kept,
// not a request.
func (d *dialog) freeText() bool {
	return d.st == stDescribe || d.st == stComplaint || d.st == stCallbackWhen
}

// text is one typed or recognised utterance.
func (d *dialog) text(ctx context.Context, raw string) {
	text := strings.TrimSpace(strings.ToValidUTF8(raw, ""))
	p := d.p()
	long := utf8.RuneCountInString(text) > d.s.cfg.MaxInputRunes
	logged := text
	if long {
		logged = truncateRunes(text, d.s.cfg.MaxInputRunes) + "…"
	}
	turn := Turn{At: d.now(), Speaker: SpeakerCaller, Text: logged}
	if d.st == stAgent {
		d.s.addTurn(turn)
		d.relay(ctx, turn)
		return
	}
	// Injection checks see the raw text (tags like <system> are a sign);
	// everything after sees it without markup.
	injection := isInjection(text)
	text = stripMarkup(text)
	switch {
	case text == "" || len(words(text)) == 0 && !injection:
		d.s.addTurn(turn)
		d.silences++
		if d.silences > d.s.cfg.NoInputRetries {
			d.end(EndNoInput, p.NoInputBye)
			return
		}
		d.say(p.Empty)
		d.reprompt()
		return
	case long && !d.freeText():
		d.s.addTurn(turn)
		d.say(p.TooLong)
		d.reprompt()
		return
	case foreignScript(text):
		d.s.addTurn(turn)
		d.sayIn("ru", promptsRU.OtherLanguage)
		d.sayIn("en", promptsEN.OtherLanguage)
		d.reprompt()
		return
	case injection:
		d.s.addTurn(turn)
		d.say(p.Injection)
		d.reprompt()
		return
	}
	if long {
		text = truncateRunes(text, d.s.cfg.MaxInputRunes)
	}
	if hasProfanity(text) {
		d.swears++
		if d.swears >= 3 {
			d.s.addTurn(turn)
			d.end(EndProfanity, p.ProfanityBye)
			return
		}
		d.say(p.Profanity)
	}

	u, err := d.s.deps.Understander.Parse(ctx, text, Hint{Lang: d.langOr(), Expect: d.expect()})
	turn.Intent, turn.Confidence = u.Intent, u.Confidence
	d.s.addTurn(turn)
	if err != nil {
		d.s.log.Error("understanding failed", "err", err)
		d.say(p.TechnicalError)
		d.reprompt()
		return
	}
	d.utterance(ctx, text, u)
}

// utterance acts on what the caller said.
func (d *dialog) utterance(ctx context.Context, text string, u Understanding) {
	if d.st == stGreeting {
		d.greetingAnswer(ctx, text, u)
		return
	}
	// A caller who starts writing in the other language gets it.
	d.autoSwitched = false
	if u.Lang != "" && u.Lang != d.lang && u.LangConfidence >= 0.8 && len(words(text)) >= 2 &&
		d.st != stStatusNumber && d.st != stStatusFactor && d.st != stPhone {
		d.lang = u.Lang
		d.autoSwitched = true
		d.say(d.p().SwitchedLang)
	}
	if d.global(ctx, text, u) {
		return
	}
	switch d.st {
	case stMain:
		d.main(ctx, text, u)
	case stAnswered, stAnythingElse, stOfferOperator, stOfferCallback, stStatusConfirm, stPhoneConfirm:
		if yn := d.yesNoOf(text, u); yn != "" {
			d.yesNo(ctx, yn)
		} else {
			d.main(ctx, text, u)
		}
	case stClarify:
		switch n := ordinal(text); {
		case n > 0 && len(words(text)) <= 4:
			d.pickTopic(ctx, n)
		case d.yesNoOf(text, u) == IntentNo:
			d.noStreak++
			d.failed(ctx, ReasonNotUnderstood)
		default:
			d.main(ctx, text, u)
		}
	case stStatusNumber, stStatusFactor, stPhone:
		slot := u.Slots[SlotAppealNumber]
		if d.st != stStatusNumber {
			slot = u.Slots[SlotPhone]
		}
		if slot == "" {
			slot = u.Slots[SlotDigits]
		}
		if slot == "" && digitsOf(text) == "" && u.Intent != "" && u.Confidence >= 0.6 &&
			u.Intent != IntentCheckStatus && u.Intent != IntentCallback {
			// Not a number but a new request ("actually, how do I ...").
			d.main(ctx, text, u)
			return
		}
		d.collectDigits(ctx, slot, text)
	case stDescribe:
		d.description = text
		d.queue = u.Queue
		d.lastQuery = text
		d.askPhone(forApplication)
	case stComplaint:
		d.complaint(ctx, text, u)
	case stCallbackWhen:
		d.createCallback(ctx, text)
	}
}

// greetingAnswer reads the language choice; a caller who skips it and
// asks a question right away is answered in the language they used.
func (d *dialog) greetingAnswer(ctx context.Context, text string, u Understanding) {
	if l := u.Slots[SlotLanguage]; l == "ru" || l == "en" {
		d.chooseLanguage(l)
		return
	}
	ws := words(text)
	for _, w := range ws {
		switch {
		case strings.HasPrefix(w, "русск") || w == "russian" || w == "1" || w == "один":
			d.chooseLanguage("ru")
			return
		case strings.HasPrefix(w, "english") || strings.HasPrefix(w, "англ") || w == "2" || w == "two" || w == "два":
			d.chooseLanguage("en")
			return
		}
	}
	if u.Lang != "" && u.Intent != "" && u.Intent != IntentYes && u.Intent != IntentNo && len(ws) >= 2 {
		d.lang = u.Lang
		d.st = stMain
		if d.global(ctx, text, u) {
			return
		}
		d.main(ctx, text, u)
		return
	}
	d.askLanguage()
}

// global handles what can be said anywhere: goodbye, repeat, operator,
// language switch. In free-text states only short, clear commands count,
// so a description that mentions an operator is not taken as a request.
func (d *dialog) global(ctx context.Context, text string, u Understanding) bool {
	if d.freeText() && (u.Confidence < 0.85 || len(words(text)) > 4) {
		return false
	}
	digitState := d.st == stStatusNumber || d.st == stStatusFactor || d.st == stPhone
	if digitState && (digitsOf(text) != "" || u.Slots[SlotDigits] != "") {
		return false
	}
	if u.Confidence < d.s.cfg.ClarifyThreshold {
		return false
	}
	switch u.Intent {
	case IntentGoodbye:
		d.end(EndGoodbye, d.p().Goodbye)
	case IntentRepeat:
		d.repeat()
	case IntentOperator:
		d.lastIntent = IntentOperator
		d.toOperator(ctx, ReasonAsked)
	case IntentSwitchLanguage:
		l := u.Slots[SlotLanguage]
		if l != "ru" && l != "en" {
			l = map[string]string{"ru": "en", "en": "ru"}[d.langOr()] // "the other language"
		}
		if l != d.lang || !d.autoSwitched {
			d.lang = l
			d.say(d.p().SwitchedLang)
		}
		d.reprompt()
	default:
		return false
	}
	return true
}

func (d *dialog) repeat() {
	if d.lastReply == "" {
		d.say(d.p().Repeat0)
		d.reprompt()
		return
	}
	// The last reply ends with the question still open: say it as it was.
	d.say(d.lastReply)
}

// yesNoOf reads a yes or no from the parser or, for short answers it
// missed, from the words.
func (d *dialog) yesNoOf(text string, u Understanding) string {
	if (u.Intent == IntentYes || u.Intent == IntentNo) && u.Confidence >= d.s.cfg.ClarifyThreshold {
		return u.Intent
	}
	return yesNoWord(text)
}

// yesNo answers the question of a yes/no state.
func (d *dialog) yesNo(ctx context.Context, yn string) {
	p := d.p()
	if yn == IntentYes {
		d.noStreak = 0
		d.failures = 0
	} else {
		d.noStreak++
	}
	switch d.st {
	case stAnswered:
		if yn == IntentYes {
			d.say(p.Glad)
			d.ask(stAnythingElse)
			return
		}
		d.say(p.NotHelped)
		d.offerOperator(ReasonNotUnderstood)
	case stAnythingElse:
		if yn == IntentYes {
			d.say(p.Listening)
			d.st = stMain
			return
		}
		d.end(EndGoodbye, p.Goodbye)
	case stOfferOperator:
		if yn == IntentYes {
			d.toOperator(ctx, d.offerWhy)
			return
		}
		if d.noStreak >= d.s.cfg.MaxNo {
			d.end(EndNoHelp, p.GoodbyeNoHelp)
			return
		}
		d.failures = 0
		d.say(p.Rephrase)
		d.st = stMain
	case stOfferCallback:
		if yn == IntentYes {
			d.startCallback(ctx, "")
			return
		}
		if d.noStreak >= d.s.cfg.MaxNo {
			d.end(EndNoHelp, p.GoodbyeNoHelp)
			return
		}
		d.nextOpen = time.Time{}
		d.say(p.Rephrase)
		d.st = stMain
	case stStatusConfirm:
		if yn == IntentYes {
			d.ask(stStatusFactor)
			return
		}
		d.number = ""
		d.ask(stStatusNumber)
	case stPhoneConfirm:
		if yn == IntentYes {
			if d.phoneFor == forApplication {
				d.createApplication(ctx)
			} else {
				d.ask(stCallbackWhen)
			}
			return
		}
		d.phone = ""
		d.ask(stPhone)
	}
}

// main acts on a request: the open question, and anything said where the
// bot expected something else.
func (d *dialog) main(ctx context.Context, text string, u Understanding) {
	p := d.p()
	if d.st != stMain {
		d.st = stMain
	}
	switch {
	case u.Intent == "" && len(words(text)) == 0:
		d.say(p.Empty)
		d.reprompt()
		return
	case u.Intent == "" || (u.Intent == IntentYes || u.Intent == IntentNo) && u.Confidence < 0.8 && yesNoWord(text) == "":
		// Fillers only, or a shaky yes/no where no question was asked:
		// nothing understood.
		d.failed(ctx, ReasonNotUnderstood)
		return
	case u.Intent == IntentYes:
		d.noStreak = 0
		d.say(p.Listening)
		return
	case u.Intent == IntentNo:
		d.noStreak++
		if d.noStreak >= d.s.cfg.MaxNo {
			d.offerOperator(ReasonNotUnderstood)
			return
		}
		d.say(p.Rephrase)
		return
	}
	d.noStreak = 0
	if u.Intent != IntentFAQ && u.Confidence < d.s.cfg.ClarifyThreshold {
		d.failed(ctx, ReasonNotUnderstood)
		return
	}
	d.lastIntent = u.Intent
	d.lastQuery = text
	if u.Queue != "" {
		d.queue = u.Queue
	}
	switch u.Intent {
	case IntentFAQ:
		d.faq(ctx, text, u)
	case IntentCheckStatus:
		d.failures = 0
		d.startStatus(ctx, u.Slots[SlotAppealNumber])
	case IntentFileApplication:
		d.failures = 0
		d.ask(stDescribe)
	case IntentComplaint:
		d.failures = 0
		d.ask(stComplaint)
	case IntentCallback:
		d.failures = 0
		d.startCallback(ctx, u.Slots[SlotPhone])
	case IntentOperator:
		d.toOperator(ctx, ReasonAsked)
	case IntentRepeat:
		d.repeat()
	case IntentGoodbye:
		d.end(EndGoodbye, p.Goodbye)
	default:
		d.failed(ctx, ReasonNotUnderstood)
	}
}

// failed counts a failed understanding; two in a row go to a person.
func (d *dialog) failed(ctx context.Context, why string) {
	d.failures++
	if d.failures >= d.s.cfg.MaxFailures {
		d.failures = 0
		d.say(d.p().NotUnderstood2)
		d.toOperator(ctx, why)
		return
	}
	d.say(d.p().NotUnderstood)
	d.st = stMain
}

func (d *dialog) offerOperator(why string) {
	d.offerWhy = why
	d.ask(stOfferOperator)
}

// faq answers from the knowledge base, or offers the two best topics when
// unsure.
func (d *dialog) faq(ctx context.Context, text string, u Understanding) {
	cfg := d.s.cfg
	cands := d.candidates(ctx, text, u)
	var best *Article
	if len(cands) > 0 {
		best = &cands[0]
	}
	conf := u.Confidence
	switch {
	case best == nil || conf < cfg.ClarifyThreshold:
		d.failed(ctx, ReasonNotUnderstood)
	case d.humanOnly(*best):
		d.failures = 0
		d.queue = best.Queue
		d.toOperator(ctx, ReasonHumanOnly)
	case conf >= cfg.AnswerThreshold || len(cands) < 2:
		d.failures = 0
		d.answer(*best)
	default:
		d.failures = 0
		d.topics = cands[:2]
		d.ask(stClarify)
	}
}

// candidates are the articles for an utterance: the parser's best first,
// then the knowledge base's runners-up.
func (d *dialog) candidates(ctx context.Context, text string, u Understanding) []Article {
	var out []Article
	if u.Article != nil && u.Article.Spoken != "" {
		out = append(out, *u.Article)
	}
	if d.s.deps.Answerer != nil {
		more, err := d.s.deps.Answerer.Search(ctx, text, d.langOr(), 3)
		if err != nil {
			d.s.log.Warn("knowledge search failed", "err", err)
		}
		for _, a := range more {
			if a.Spoken == "" || slices.ContainsFunc(out, func(b Article) bool { return b.ID == a.ID || b.Title == a.Title }) {
				continue
			}
			out = append(out, a)
		}
	}
	return out
}

func (d *dialog) humanOnly(a Article) bool {
	return slices.Contains(d.s.cfg.HumanOnly, a.ID) || a.Queue != "" && slices.Contains(d.s.cfg.HumanOnly, a.Queue)
}

func (d *dialog) answer(a Article) {
	d.tried = append(d.tried, Attempt{Question: d.lastQuery, ArticleID: a.ID, Score: a.Confidence})
	if a.Queue != "" {
		d.queue = a.Queue
	}
	if t := joinSay(a.Spoken); t != "" {
		d.out = append(d.out, segment{lang: d.langOr(), text: t, article: a.ID})
	}
	d.ask(stAnswered)
}

func (d *dialog) pickTopic(ctx context.Context, n int) {
	if n < 1 || n > len(d.topics) {
		d.say(d.p().ClarifyRetry)
		return
	}
	d.failures = 0
	a := d.topics[n-1]
	if d.humanOnly(a) {
		d.queue = a.Queue
		d.toOperator(ctx, ReasonHumanOnly)
		return
	}
	d.answer(a)
}

// startStatus begins a status check, with the number if it was said.
func (d *dialog) startStatus(ctx context.Context, number string) {
	d.numberTries, d.lookupFails = 0, 0
	d.number = ""
	if number != "" {
		d.st = stStatusNumber
		d.collectDigits(ctx, number, number)
		return
	}
	d.ask(stStatusNumber)
}

// collectDigits takes a number where one was asked: the parser's slot, or
// the digits in what was typed or keyed.
func (d *dialog) collectDigits(ctx context.Context, slot, raw string) {
	digits := digitsOf(slot)
	if digits == "" {
		digits = digitsOf(raw)
	}
	p := d.p()
	switch d.st {
	case stStatusNumber:
		err := d.s.deps.Appeals.ValidNumber(digits)
		if err == nil {
			d.number = digits
			d.ask(stStatusConfirm)
			return
		}
		d.numberTries++
		if d.numberTries >= 2 {
			d.say(p.NumberFailedAgain)
			d.offerOperator(ReasonStatusFailed)
			return
		}
		if errors.Is(err, ErrCheckDigit) {
			d.say(p.NumberCheckDigit)
		} else {
			d.say(p.NumberMalformed)
		}
	case stStatusFactor:
		if len(digits) < 4 {
			d.phoneTries++
			if d.phoneTries >= 3 {
				d.offerOperator(ReasonStatusFailed)
				return
			}
			d.say(p.Last4Malformed)
			return
		}
		d.lookup(ctx, d.number, digits[len(digits)-4:])
	case stPhone:
		ph := normalizePhone(slot)
		if ph == "" {
			ph = normalizePhone(raw)
		}
		if ph == "" {
			d.phoneTries++
			if d.phoneTries >= 3 {
				d.offerOperator(ReasonNotUnderstood)
				return
			}
			d.say(p.PhoneMalformed)
			return
		}
		d.phone = ph
		d.ask(stPhoneConfirm)
	}
}

func (d *dialog) lookup(ctx context.Context, number, last4 string) {
	p := d.p()
	info, err := d.s.deps.Appeals.Lookup(ctx, number, last4, d.langOr())
	switch {
	case err == nil:
		d.lookupFails = 0
		d.failures = 0
		d.say(fmt.Sprintf(p.Status, groupNumber(info.Number), info.Label, info.Meaning))
		if info.Reason != "" {
			d.say(fmt.Sprintf(p.StatusReason, info.Reason))
		}
		if info.Deadline != nil && info.Status != "done" && info.Status != "rejected" {
			d.say(fmt.Sprintf(p.StatusDeadline, p.date(info.Deadline.In(moscow))))
		}
		d.say(p.NextStep[info.Status])
		d.ask(stAnythingElse)
	case errors.Is(err, ErrLookupFailed):
		d.lookupFails++
		if d.lookupFails >= 2 {
			d.say(p.LookupFailedAgain)
			d.offerOperator(ReasonStatusFailed)
			return
		}
		d.number = ""
		d.numberTries = 0
		d.say(p.LookupFailed)
		d.st = stStatusNumber
	case errors.Is(err, ErrRateLimited):
		d.say(p.RateLimited)
		d.offerOperator(ReasonStatusFailed)
	default:
		d.s.log.Error("status lookup failed", "err", err)
		d.say(p.TechnicalError)
		d.offerOperator(ReasonStatusFailed)
	}
}

// askPhone collects a phone number for purpose; a caller id is offered
// for confirmation first.
func (d *dialog) askPhone(purpose string) {
	d.phoneFor = purpose
	d.phoneTries = 0
	if ph := normalizePhone(d.s.cfg.CallerPhone); ph != "" {
		d.phone = ph
		d.ask(stPhoneConfirm)
		return
	}
	d.ask(stPhone)
}

func (d *dialog) startCallback(ctx context.Context, phone string) {
	d.phoneFor = forCallback
	d.phoneTries = 0
	if phone != "" {
		d.st = stPhone
		d.collectDigits(ctx, phone, phone)
		return
	}
	d.askPhone(forCallback)
}

func (d *dialog) newAppeal(channel, intent, subject string) NewAppeal {
	queue := d.queue
	if queue == "" {
		queue = "general"
	}
	return NewAppeal{
		Channel: channel, Lang: d.langOr(), Queue: queue, Intent: intent, Subject: subject,
		Phone: d.phone, Articles: d.triedIDs(), Transcript: d.s.Transcript(),
	}
}

func (d *dialog) triedIDs() []string {
	var ids []string
	for _, t := range d.tried {
		if t.ArticleID != "" && !slices.Contains(ids, t.ArticleID) {
			ids = append(ids, t.ArticleID)
		}
	}
	return ids
}

// create registers an appeal and remembers it so the rest of the
// conversation is attached to it at the end.
func (d *dialog) create(ctx context.Context, na NewAppeal) (string, error) {
	if na.Phone == "" {
		na.Phone = normalizePhone(d.s.cfg.CallerPhone)
	}
	n, err := d.s.deps.Appeals.Create(ctx, na)
	if err != nil {
		d.s.log.Error("creating appeal failed", "intent", na.Intent, "err", err)
		return "", err
	}
	d.appeals = append(d.appeals, n)
	d.saved[n] = len(na.Transcript)
	d.s.log.Info("appeal created", "appeal", n, "intent", na.Intent, "queue", na.Queue)
	return n, nil
}

func (d *dialog) createApplication(ctx context.Context) {
	p := d.p()
	n, err := d.create(ctx, d.newAppeal(d.s.cfg.Channel, IntentFileApplication, d.description))
	if err != nil {
		d.say(p.AppealFailed)
		d.offerOperator(ReasonAsked)
		return
	}
	g := groupNumber(n)
	d.say(fmt.Sprintf(p.ApplicationCreated, g, g))
	d.ask(stAnythingElse)
}

func (d *dialog) createCallback(ctx context.Context, when string) {
	p := d.p()
	na := d.newAppeal(ChannelCallback, IntentCallback, d.lastQuery)
	na.Slots = map[string]string{"callback_window": truncateRunes(when, 200)}
	n, err := d.create(ctx, na)
	if err != nil {
		d.say(p.AppealFailed)
		d.end(EndGoodbye, p.Goodbye)
		return
	}
	if d.s.deps.Router != nil {
		req := d.request(n, ReasonCallback)
		req.Callback = true
		if dec, err := d.s.deps.Router.Route(ctx, req); err != nil {
			d.s.log.Error("queueing callback failed", "appeal", n, "err", err)
		} else if !dec.NextOpen.IsZero() && d.nextOpen.IsZero() {
			d.nextOpen = dec.NextOpen
		}
	}
	back := p.CallbackAnyTime
	if !d.nextOpen.IsZero() {
		back = p.when(d.now(), d.nextOpen)
	}
	d.say(fmt.Sprintf(p.CallbackCreated, groupNumber(n), back))
	d.nextOpen = time.Time{}
	d.ask(stAnythingElse)
}

func (d *dialog) complaint(ctx context.Context, text string, u Understanding) {
	p := d.p()
	if u.Queue != "" && d.queue == "" {
		d.queue = u.Queue
	}
	n, err := d.create(ctx, d.newAppeal(d.s.cfg.Channel, IntentComplaint, text))
	if err != nil {
		d.say(p.AppealFailed)
	} else {
		d.say(fmt.Sprintf(p.ComplaintCreated, groupNumber(n)))
	}
	d.lastIntent = IntentComplaint
	d.handoffTo(ctx, ReasonComplaint, n)
}

func (d *dialog) request(number, why string) HandoffRequest {
	queue := d.queue
	if queue == "" {
		queue = "general"
	}
	intent := d.lastIntent
	if intent == "" {
		intent = IntentOperator
	}
	slots := map[string]string{}
	if d.phone != "" {
		// The number the caller gave: a call without a caller id (in-app)
		// is called back on it when no operator can take it.
		slots[SlotPhone] = d.phone
	}
	return HandoffRequest{
		ConversationID: d.s.cfg.ID, AppealNumber: number, Channel: d.s.cfg.Channel, Lang: d.langOr(),
		Queue: queue, Intent: intent, Reason: why, Transcript: d.s.Transcript(), Attempts: d.tried,
		Slots: slots,
	}
}

// toOperator hands the conversation to a person, creating its appeal.
func (d *dialog) toOperator(ctx context.Context, why string) {
	d.handoffTo(ctx, why, "")
}

// handoffTo routes to an agent in hours; out of hours it offers a
// callback and says when operators return.
func (d *dialog) handoffTo(ctx context.Context, why, number string) {
	p := d.p()
	r := d.s.deps.Router
	if r == nil {
		d.say(p.HandoffFailed)
		d.st = stOfferCallback
		return
	}
	queue := d.queue
	if queue == "" {
		queue = "general"
	}
	h, err := r.Hours(ctx, queue)
	if err != nil {
		d.s.log.Error("operator hours unknown", "queue", queue, "err", err)
		h.Open = true // let Route decide
	}
	if !h.Open && !d.s.cfg.SkipCallbackOffer {
		d.nextOpen = h.NextOpen
		d.say(p.OperatorHours)
		d.ask(stOfferCallback)
		return
	}
	if number == "" {
		n, err := d.create(ctx, d.newAppeal(d.s.cfg.Channel, cmpOr(d.lastIntent, IntentOperator), d.lastQuery))
		if err != nil {
			d.say(p.HandoffFailed)
			d.st = stOfferCallback
			return
		}
		number = n
	}
	dec, err := r.Route(ctx, d.request(number, why))
	if err != nil {
		d.s.log.Error("handoff failed", "appeal", number, "err", err)
		d.say(p.HandoffFailed)
		d.st = stOfferCallback
		return
	}
	if !dec.InHours || dec.Callback {
		// The queue closed between the check and the routing: the
		// request is already queued for a callback.
		d.nextOpen = dec.NextOpen
		d.say(fmt.Sprintf(p.YourNumber, groupNumber(number)), p.OperatorHours)
		d.ask(stOfferCallback)
		return
	}
	d.handoff = &dec
	d.s.log.Info("handed off", "appeal", number, "queue", dec.Queue, "reason", why, "handoff_id", dec.HandoffID)
	d.s.addTurn(Turn{At: d.now(), Speaker: SpeakerSystem, Text: "handoff: " + dec.Queue + " (" + why + ")"})
	if dec.EstimatedWait > 0 {
		d.say(fmt.Sprintf(p.Connecting, p.waitPhrase(dec.EstimatedWait)))
	} else {
		d.say(p.ConnectingNoEWT)
	}
	d.say(fmt.Sprintf(p.YourNumber, groupNumber(number)))
	d.flushHandoff(number, dec)
	if d.s.cfg.Channel == ChannelVoice {
		d.end(EndHandoff)
		return
	}
	d.st = stAgent
}

// flushHandoff sends the reply so far and then the handoff event, so a
// voice channel says "connecting" before it transfers.
func (d *dialog) flushHandoff(number string, dec Decision) {
	ended := d.ended
	d.ended = true // no ReplyEnd and no timer between the reply and the event
	d.flush(context.Background())
	d.ended = ended
	d.s.emit(Event{Kind: EventHandoff, AppealNumber: number, Handoff: &dec, Lang: d.langOr()})
}

// relay passes a caller's message to the agent who has the chat.
func (d *dialog) relay(ctx context.Context, t Turn) {
	if d.s.deps.Relay != nil && d.handoff != nil {
		if err := d.s.deps.Relay.ToAgent(ctx, d.handoff.HandoffID, t); err == nil {
			return
		} else {
			d.s.log.Error("relay to agent failed", "err", err)
		}
	}
	// Without a desk connection the message stays in the transcript that
	// is attached to the appeal; say so once.
	if !d.relayed {
		d.relayed = true
		d.say(d.p().AgentRelayed)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
