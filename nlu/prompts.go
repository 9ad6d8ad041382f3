package nlu

import (
	"strings"
)

// Prompt keys for the bot's own lines (besides intents).
const (
	PromptClarify     = "clarify"      // low confidence: ask again
	PromptNoArticle   = "no_article"   // faq without a matching article
	PromptAskAppeal   = "ask_appeal"   // check_status without a number
	PromptCheckAppeal = "check_appeal" // check_status with a number: {number}
	PromptBadAppeal   = "bad_appeal"   // the number fails its check digit: {number}
	PromptAskPhone    = "ask_phone"    // callback without a number
	PromptCallback    = "callback_ok"  // callback with a number: {last2}
	PromptEmpty       = "empty"        // nothing was said
)

// prompts are the bot's first-turn lines per language, in the seeds' tone:
// polite, short enough to be spoken, one question at a time.
var prompts = map[string]map[string]string{
	"ru": {
		IntentOperator:        "Соединяю вас с оператором. Пожалуйста, оставайтесь на линии.",
		IntentFileApplication: "Хорошо, помогу подать заявление. Скажите, пожалуйста, какая услуга вам нужна.",
		IntentComplaint:       "Мне жаль, что так получилось. Опишите, пожалуйста, суть жалобы, и я зарегистрирую её и передам ответственному специалисту.",
		IntentRepeat:          "Я голосовой помощник горячей линии госуслуг. Чем могу помочь?",
		IntentYes:             "Хорошо. Чем могу помочь?",
		IntentNo:              "Поняла. Чем ещё могу помочь?",
		IntentGoodbye:         "Спасибо за обращение. Всего доброго, до свидания!",
		"switch_language:en":  "Sure, let's continue in English. How can I help you?",
		"switch_language:ru":  "Хорошо, продолжим на русском. Чем могу помочь?",
		PromptClarify:         "Извините, я не совсем поняла. Уточните, пожалуйста, ваш вопрос.",
		PromptNoArticle:       "У меня нет готового ответа на этот вопрос. Соединить вас с оператором?",
		PromptAskAppeal:       "Назовите, пожалуйста, номер обращения.",
		PromptCheckAppeal:     "Проверяю обращение номер {number}.",
		PromptBadAppeal:       "Номер {number} не похож на номер обращения. Назовите его, пожалуйста, ещё раз.",
		PromptAskPhone:        "Назовите, пожалуйста, номер телефона для обратного звонка.",
		PromptCallback:        "Хорошо, специалист перезвонит вам на номер, оканчивающийся на {last2}.",
		PromptEmpty:           "Вас не слышно. Повторите, пожалуйста.",
	},
	"en": {
		IntentOperator:        "Connecting you to an operator. Please stay on the line.",
		IntentFileApplication: "Sure, I can help you file an application. Which service do you need?",
		IntentComplaint:       "I'm sorry about that. Please describe your complaint, and I will register it and pass it to the responsible specialist.",
		IntentRepeat:          "I'm the voice assistant of the public services hotline. How can I help you?",
		IntentYes:             "All right. How can I help you?",
		IntentNo:              "Understood. What else can I help you with?",
		IntentGoodbye:         "Thank you for calling. Goodbye!",
		"switch_language:en":  "Sure, let's continue in English. How can I help you?",
		"switch_language:ru":  "Хорошо, продолжим на русском. Чем могу помочь?",
		PromptClarify:         "Sorry, I didn't quite get that. Could you say your question again?",
		PromptNoArticle:       "I don't have a ready answer to that. Shall I connect you to an operator?",
		PromptAskAppeal:       "Please tell me your request number.",
		PromptCheckAppeal:     "Checking request number {number}.",
		PromptBadAppeal:       "{number} doesn't look like a request number. Could you say it again, please?",
		PromptAskPhone:        "Please tell me the phone number to call you back on.",
		PromptCallback:        "All right, a specialist will call you back on the number ending in {last2}.",
		PromptEmpty:           "I can't hear you. Please say that again.",
	},
}

// Prompt returns the bot line key in lang ("ru" when lang is unknown),
// with {name} placeholders filled from vars.
func Prompt(lang, key string, vars map[string]string) string {
	t, ok := prompts[lang]
	if !ok {
		t = prompts["ru"]
	}
	s := t[key]
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// ClarifyBelow is the confidence under which the first reply asks the
// caller to rephrase instead of acting.
const ClarifyBelow = 0.3

// FirstReply is what the bot says to r as the first turn of a call: the
// article's spoken answer for faq, a short prompt otherwise. The bot may
// do more (look the appeal up, transfer the call); this is its opening.
func FirstReply(r Result) string {
	l := r.Lang
	switch {
	case r.Intent == "":
		return Prompt(l, PromptEmpty, nil)
	case r.Intent == IntentFAQ && r.Article != nil && r.Confidence >= ClarifyBelow:
		return r.Article.Spoken
	case r.Confidence < ClarifyBelow:
		return Prompt(l, PromptClarify, nil)
	}
	switch r.Intent {
	case IntentFAQ:
		return Prompt(l, PromptNoArticle, nil)
	case IntentCheckStatus:
		if n := r.Slots[SlotAppealNumber]; n != "" {
			if r.Slots[SlotAppealInvalid] != "" {
				return Prompt(l, PromptBadAppeal, map[string]string{"number": n})
			}
			return Prompt(l, PromptCheckAppeal, map[string]string{"number": n})
		}
		return Prompt(l, PromptAskAppeal, nil)
	case IntentCallback:
		if n := r.Slots[SlotPhone]; len(n) >= 2 {
			return Prompt(l, PromptCallback, map[string]string{"last2": n[len(n)-2:]})
		}
		return Prompt(l, PromptAskPhone, nil)
	case IntentSwitchLanguage:
		target := r.Slots[SlotLanguage]
		if target == "" {
			target = other(l)
		}
		return Prompt(l, "switch_language:"+target, nil)
	}
	return Prompt(l, r.Intent, nil)
}
