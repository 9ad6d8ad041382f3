package bot

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"
)

// prompts are what the bot says, written for the ear: short sentences, one
// question at a time, the question last, numbers as digits (the TTS reads
// them) and grouped when they are long. Facts (hours, time limits) follow
// the knowledge base (knowledge/content/CONTRADICTIONS.md).
type prompts struct {
	// Greeting opens the conversation; before the caller has chosen a
	// language it is followed by LangChoice in both languages.
	Greeting       string
	LangChoice     string
	LangSet        string // after a choice: confirms the language
	Main           string // the open question
	MainReprompt   string // the open question with examples
	Listening      string // after "yes" to "anything else?"
	AnythingElse   string
	Helped         string // "did that help?"
	Glad           string // after yes to "did that help?"
	NotHelped      string // after no to "did that help?"
	Clarify        string // %s %s: the two topics
	ClarifyRetry   string
	NotUnderstood  string
	NotUnderstood2 string // before handing off after two failures
	OfferOperator  string
	Rephrase       string // after no to the operator offer
	Goodbye        string
	GoodbyeNoHelp  string // after "no" to everything
	Repeat0        string // repeat asked before the bot said anything
	YesNoReprompt  string

	// Status check.
	AskAppealNumber   string
	NumberMalformed   string
	NumberCheckDigit  string
	NumberFailedAgain string
	ConfirmNumber     string // %s: the number, grouped
	AskPhoneLast4     string
	Last4Malformed    string
	LookupFailed      string
	LookupFailedAgain string
	RateLimited       string
	Status            string // %s number, %s label, %s meaning
	StatusReason      string // %s reason
	StatusDeadline    string // %s date
	NextStep          map[string]string

	// Application, callback, complaint.
	AskDescription     string
	AskPhone           string
	PhoneMalformed     string
	ConfirmPhone       string // %s: the phone, grouped
	AskCallbackWhen    string
	ApplicationCreated string // %s number, %s number again
	CallbackCreated    string // %s number, %s when
	CallbackWhenHours  string // %s: when operators return
	CallbackAnyTime    string
	AskComplaint       string
	ComplaintCreated   string // %s number
	AppealFailed       string

	// Handoff.
	Connecting      string // %s: the wait
	ConnectingNoEWT string
	YourNumber      string // %s: the appeal number
	OutOfHours      string // %s: when operators return
	OfferCallback   string
	OperatorHours   string
	AgentRelayed    string
	HandoffFailed   string

	// Timeouts and bad input.
	NoInput        string
	NoInputBye     string
	Empty          string
	TooLong        string
	OtherLanguage  string
	Profanity      string
	ProfanityBye   string
	Injection      string
	SwitchedLang   string
	TechnicalError string

	// Formatting that differs by language.
	minute func(n int) string
	when   func(now, next time.Time) string
	date   func(t time.Time) string
}

var promptsRU = &prompts{
	Greeting:       "Здравствуйте! Вы позвонили на единую горячую линию госуслуг. Разговор записывается.",
	LangChoice:     "Для русского языка нажмите 1 или скажите «русский».",
	LangSet:        "Продолжаем на русском.",
	Main:           "Чем могу помочь?",
	MainReprompt:   "Задайте вопрос своими словами, например: «как узнать статус обращения». Или нажмите: 1 — статус обращения, 2 — подать обращение, 3 — обратный звонок, 0 — оператор.",
	Listening:      "Слушаю вас.",
	AnythingElse:   "Могу ли я помочь чем-то ещё?",
	Helped:         "Это помогло?",
	Glad:           "Хорошо, что ответ помог.",
	NotHelped:      "Жаль, что ответ не подошёл.",
	Clarify:        "Уточните, пожалуйста: вы спрашиваете о теме «%s» или о теме «%s»? Скажите «первое» или «второе», или нажмите 1 или 2.",
	ClarifyRetry:   "Скажите «первое», «второе», или задайте вопрос иначе.",
	NotUnderstood:  "Извините, не удалось понять вопрос. Скажите коротко, что вас интересует.",
	NotUnderstood2: "Извините, снова не удалось понять.",
	OfferOperator:  "Соединить вас с оператором?",
	Rephrase:       "Хорошо. Задайте вопрос иначе или скажите «до свидания».",
	Goodbye:        "Спасибо за обращение. До свидания!",
	GoodbyeNoHelp:  "Похоже, сейчас я не смогу помочь. Вы можете позвонить снова в любое время: линия работает круглосуточно. До свидания!",
	Repeat0:        "Пока нечего повторить.",
	YesNoReprompt:  "Ответьте, пожалуйста, «да» или «нет». Можно нажать 1 — да, 2 — нет.",

	AskAppealNumber:   "Назовите номер обращения: 10 цифр.",
	NumberMalformed:   "Номер обращения состоит из 10 цифр. Назовите его ещё раз, по одной цифре или группами.",
	NumberCheckDigit:  "Кажется, номер расслышан неточно: он не проходит проверку. Назовите номер ещё раз, медленно.",
	NumberFailedAgain: "Номер снова не проходит проверку.",
	ConfirmNumber:     "Номер обращения: %s. Верно?",
	AskPhoneLast4:     "Для проверки назовите последние 4 цифры телефона, указанного в обращении.",
	Last4Malformed:    "Нужны ровно 4 последние цифры телефона. Назовите их ещё раз.",
	LookupFailed:      "Обращение с таким номером и телефоном не найдено. Давайте проверим ещё раз. Назовите номер обращения.",
	LookupFailedAgain: "Снова не удалось найти обращение.",
	RateLimited:       "Слишком много попыток для этого номера. Попробуйте позже.",
	Status:            "Обращение %s. Статус: «%s». %s",
	StatusReason:      "Причина: %s.",
	StatusDeadline:    "Срок текущего этапа — до %s.",
	NextStep: map[string]string{
		"accepted":       "Специалисты скоро возьмут его в работу. О смене статуса придёт уведомление.",
		"in_progress":    "Обработка обычно занимает от 1 до 5 рабочих дней. О смене статуса придёт уведомление.",
		"under_approval": "Согласование может занять до 10 дней. Если срок превышен, можно потребовать ускоренного рассмотрения через службу контроля качества.",
		"done":           "Если вопрос остался, можно подать новое обращение.",
		"rejected":       "Вы можете подать новое обращение, исправив причину отказа.",
	},

	AskDescription:     "Коротко опишите, с чем нужна помощь.",
	AskPhone:           "Назовите номер телефона для связи.",
	PhoneMalformed:     "Номер телефона не распознан. Назовите его полностью, например: 8 912 345 67 89.",
	ConfirmPhone:       "Телефон: %s. Верно?",
	AskCallbackWhen:    "Когда вам удобно принять звонок? Например: «завтра утром» или «в любое время».",
	ApplicationCreated: "Обращение зарегистрировано. Номер обращения: %s. Повторяю: %s. По этому номеру можно узнать статус.",
	CallbackCreated:    "Заявка на обратный звонок принята, номер %s. Оператор перезвонит %s.",
	CallbackAnyTime:    "в рабочее время операторов",
	AskComplaint:       "Опишите, пожалуйста, суть жалобы.",
	ComplaintCreated:   "Жалоба зарегистрирована, номер %s.",
	AppealFailed:       "Не удалось зарегистрировать обращение из-за технической ошибки.",

	Connecting:      "Соединяю с оператором. Ожидание около %s.",
	ConnectingNoEWT: "Соединяю с оператором. Пожалуйста, оставайтесь на линии.",
	YourNumber:      "Номер вашего обращения: %s.",
	OutOfHours:      "Сейчас операторы не работают. Могу принять заявку на обратный звонок — операторы перезвонят %s. Оставить заявку?",
	OfferCallback:   "Оставить заявку на обратный звонок?",
	OperatorHours:   "Операторы работают по московскому времени: в будни с 8:00 до 20:00, в субботу с 9:00 до 18:00, в воскресенье с 10:00 до 16:00.",
	AgentRelayed:    "Сообщение передано оператору.",
	HandoffFailed:   "Не удалось соединить с оператором. Могу принять заявку на обратный звонок. Оставить заявку?",

	NoInput:        "Вы меня слышите?",
	NoInputBye:     "Вас не слышно. Пожалуйста, обратитесь ещё раз. До свидания!",
	Empty:          "Не удалось разобрать ответ.",
	TooLong:        "Это слишком длинное сообщение. Сформулируйте вопрос короче, в одном-двух предложениях.",
	OtherLanguage:  "Извините, я понимаю только русский и английский.",
	Profanity:      "Давайте говорить вежливо, и я постараюсь помочь.",
	ProfanityBye:   "Разговор будет завершён. Вы можете обратиться снова. До свидания.",
	Injection:      "Я отвечаю только на вопросы о горячей линии и госуслугах.",
	SwitchedLang:   "Продолжаем на русском.",
	TechnicalError: "Извините, произошла техническая ошибка.",

	minute: func(n int) string {
		switch {
		case n%10 == 1 && n%100 != 11:
			return fmt.Sprintf("%d минуты", n) // «около 1 минуты», «около 21 минуты»
		default:
			return fmt.Sprintf("%d минут", n)
		}
	},
	when: func(now, next time.Time) string {
		return relativeDay(now, next, "сегодня", "завтра", ruWeekdayAcc) + " после " + clockTime(next)
	},
	date: func(t time.Time) string {
		return fmt.Sprintf("%d %s", t.Day(), ruMonthsGen[t.Month()-1])
	},
}

var promptsEN = &prompts{
	Greeting:       "Hello! You have reached the public services hotline. This call is recorded.",
	LangChoice:     "For English, press 2 or say English.",
	LangSet:        "Let's continue in English.",
	Main:           "How can I help you?",
	MainReprompt:   "Ask your question in your own words, for example: “how do I check my appeal status”. Or press: 1 for appeal status, 2 to file an appeal, 3 for a callback, 0 for an operator.",
	Listening:      "I'm listening.",
	AnythingElse:   "Is there anything else I can help with?",
	Helped:         "Did that help?",
	Glad:           "Glad I could help.",
	NotHelped:      "I see, that answer did not fit.",
	Clarify:        "Just to be sure: are you asking about “%s” or about “%s”? Say “first” or “second”, or press 1 or 2.",
	ClarifyRetry:   "Say “first”, “second”, or ask in other words.",
	NotUnderstood:  "Sorry, I didn't understand. Please tell me briefly what you need.",
	NotUnderstood2: "Sorry, I didn't understand again.",
	OfferOperator:  "Shall I connect you to an operator?",
	Rephrase:       "All right. Ask in other words, or say goodbye.",
	Goodbye:        "Thank you for calling. Goodbye!",
	GoodbyeNoHelp:  "It seems I can't help right now. You can call again at any time: the line works 24 hours a day. Goodbye!",
	Repeat0:        "I haven't said anything yet.",
	YesNoReprompt:  "Please answer yes or no. You can press 1 for yes, 2 for no.",

	AskAppealNumber:   "Please say your appeal number: 10 digits.",
	NumberMalformed:   "An appeal number has 10 digits. Please say it again, digit by digit or in groups.",
	NumberCheckDigit:  "I may have misheard: that number does not pass the check. Please say it again, slowly.",
	NumberFailedAgain: "The number still doesn't check out.",
	ConfirmNumber:     "Appeal number: %s. Is that right?",
	AskPhoneLast4:     "To verify, please say the last 4 digits of the phone number given in the appeal.",
	Last4Malformed:    "I need exactly the last 4 digits of the phone. Please say them again.",
	LookupFailed:      "I couldn't find an appeal with that number and phone. Let's check again. Please say the appeal number.",
	LookupFailedAgain: "I still couldn't find the appeal.",
	RateLimited:       "Too many attempts for this number. Please try again later.",
	Status:            "Appeal %s. Status: “%s”. %s",
	StatusReason:      "Reason: %s.",
	StatusDeadline:    "The current stage should be finished by %s.",
	NextStep: map[string]string{
		"accepted":       "Specialists will start working on it soon. You will be notified when the status changes.",
		"in_progress":    "Processing usually takes 1 to 5 working days. You will be notified when the status changes.",
		"under_approval": "Approval can take up to 10 days. If the time limit is exceeded, you can ask the quality control service for faster review.",
		"done":           "If you still have a question, you can file a new appeal.",
		"rejected":       "You can file a new appeal after fixing the reason for the rejection.",
	},

	AskDescription:     "Please describe briefly what you need help with.",
	AskPhone:           "Please say a phone number where we can reach you.",
	PhoneMalformed:     "I didn't catch the phone number. Please say it in full, for example: 8 912 345 67 89.",
	ConfirmPhone:       "Phone: %s. Is that right?",
	AskCallbackWhen:    "When is a good time to call you? For example: “tomorrow morning” or “any time”.",
	ApplicationCreated: "Your appeal is registered. The appeal number is %s. Once again: %s. You can check its status with this number.",
	CallbackCreated:    "Your callback request is registered, number %s. An operator will call you back %s.",
	CallbackAnyTime:    "during operator hours",
	AskComplaint:       "Please describe your complaint.",
	ComplaintCreated:   "Your complaint is registered, number %s.",
	AppealFailed:       "I couldn't register the appeal because of a technical error.",

	Connecting:      "Connecting you to an operator. The wait is about %s.",
	ConnectingNoEWT: "Connecting you to an operator. Please stay on the line.",
	YourNumber:      "Your appeal number is %s.",
	OutOfHours:      "Operators are not working right now. I can take a callback request: operators will call you back %s. Shall I take a request?",
	OfferCallback:   "Shall I take a callback request?",
	OperatorHours:   "Operators work on Moscow time: weekdays 8:00 to 20:00, Saturday 9:00 to 18:00, Sunday 10:00 to 16:00.",
	AgentRelayed:    "Your message has been passed to the operator.",
	HandoffFailed:   "I couldn't connect you to an operator. I can take a callback request. Shall I?",

	NoInput:        "Are you still there?",
	NoInputBye:     "I can't hear you. Please call again. Goodbye!",
	Empty:          "I didn't catch that.",
	TooLong:        "That message is too long. Please ask your question in one or two sentences.",
	OtherLanguage:  "Sorry, I understand only Russian and English.",
	Profanity:      "Let's keep it polite, and I'll do my best to help.",
	ProfanityBye:   "I have to end this conversation. You can call again. Goodbye.",
	Injection:      "I can only answer questions about the hotline and public services.",
	SwitchedLang:   "Switching to English.",
	TechnicalError: "Sorry, a technical error occurred.",

	minute: func(n int) string {
		if n == 1 {
			return "1 minute"
		}
		return fmt.Sprintf("%d minutes", n)
	},
	when: func(now, next time.Time) string {
		return relativeDay(now, next, "today", "tomorrow", enWeekdayOn) + " after " + clockTime(next)
	},
	date: func(t time.Time) string { return t.Format("January 2") },
}

var (
	ruWeekdayAcc = [7]string{"в воскресенье", "в понедельник", "во вторник", "в среду", "в четверг", "в пятницу", "в субботу"}
	enWeekdayOn  = [7]string{"on Sunday", "on Monday", "on Tuesday", "on Wednesday", "on Thursday", "on Friday", "on Saturday"}
	ruMonthsGen  = [12]string{"января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"}
)

// moscow is where operator hours are told; a caller abroad still hears
// Moscow time, as the prompts say.
var moscow = func() *time.Location {
	if l, err := time.LoadLocation("Europe/Moscow"); err == nil {
		return l
	}
	return time.FixedZone("MSK", 3*3600)
}()

// relativeDay says when next is, seen from now, in Moscow time: today,
// tomorrow or a weekday.
func relativeDay(now, next time.Time, today, tomorrow string, weekday [7]string) string {
	now, next = now.In(moscow), next.In(moscow)
	d0 := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, moscow)
	d1 := time.Date(next.Year(), next.Month(), next.Day(), 0, 0, 0, 0, moscow)
	switch days := int(d1.Sub(d0).Hours()/24 + 0.5); days {
	case 0:
		return today
	case 1:
		return tomorrow
	default:
		return weekday[next.Weekday()]
	}
}

// clockTime is "8:00": the hour without a leading zero, as people say it.
func clockTime(t time.Time) string {
	t = t.In(moscow)
	return fmt.Sprintf("%d:%02d", t.Hour(), t.Minute())
}

// FixedPrompt is a prompt the bot says word for word.
type FixedPrompt struct{ Lang, Text string }

// FixedPrompts lists, for both languages, the prompts the bot says word for
// word, for the speech cache to render at start. Templates (with %s for
// caller data) and fragments that only complete another prompt (starting
// in lower case) are left out; a reply that joins two prompts is rendered
// when it is first said.
func FixedPrompts() []FixedPrompt {
	var out []FixedPrompt
	for _, lang := range []string{"ru", "en"} {
		seen := map[string]bool{}
		add := func(t string) {
			r := []rune(t)
			if len(r) == 0 || strings.Contains(t, "%") || unicode.IsLower(r[0]) || seen[t] {
				return
			}
			seen[t] = true
			out = append(out, FixedPrompt{lang, t})
		}
		v := reflect.ValueOf(promptsFor(lang)).Elem()
		for i := range v.NumField() {
			f := v.Field(i)
			switch {
			case !v.Type().Field(i).IsExported():
			case f.Kind() == reflect.String:
				add(f.String())
			case f.Kind() == reflect.Map:
				keys := f.MapKeys()
				slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
				for _, k := range keys {
					add(f.MapIndex(k).String())
				}
			}
		}
	}
	return out
}

func promptsFor(lang string) *prompts {
	if lang == "en" {
		return promptsEN
	}
	return promptsRU
}

// joinSay joins sentences for one reply, skipping empty ones.
func joinSay(parts ...string) string {
	out := parts[:0:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}

// waitPhrase rounds an estimated wait up to whole minutes, at least 1.
func (p *prompts) waitPhrase(d time.Duration) string {
	n := int((d + time.Minute - 1) / time.Minute)
	return p.minute(max(n, 1))
}

// groupNumber groups an appeal number for reading: "123 456 789 0".
func groupNumber(n string) string {
	if len(n) != 10 {
		return n
	}
	return n[0:3] + " " + n[3:6] + " " + n[6:9] + " " + n[9:]
}

// groupPhone groups a phone number (+7XXXXXXXXXX) for reading:
// "+7 912 345 67 89".
func groupPhone(p string) string {
	if len(p) == 12 && strings.HasPrefix(p, "+7") {
		return "+7 " + p[2:5] + " " + p[5:8] + " " + p[8:10] + " " + p[10:]
	}
	return p
}
