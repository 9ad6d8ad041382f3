package calls

// What the handler itself says after the bot's conversation, when a
// handoff could not reach a person.
const (
	msgCallback = iota
	msgNoOperator
	msgHoldWait
	msgHoldNext
	msgAgentGoodbye
	msgCallbackApp
)

var texts = map[string][6]string{
	"ru": {
		msgCallback:     "Не удалось соединить вас с оператором. Мы приняли заявку на обратный звонок, номер %s. Оператор перезвонит вам в рабочее время. До свидания.",
		msgNoOperator:   "Не удалось соединить вас с оператором. Пожалуйста, позвоните позже. До свидания.",
		msgHoldWait:     "Пожалуйста, оставайтесь на линии. Все операторы заняты, примерное время ожидания %s.",
		msgHoldNext:     "Пожалуйста, оставайтесь на линии. Оператор ответит вам следующим.",
		msgAgentGoodbye: "Оператор завершил разговор. Спасибо за обращение. До свидания.",
		msgCallbackApp:  "Не удалось соединить вас с оператором. Мы приняли вашу заявку, номер %s. Оператор ответит вам в приложении или на портале в рабочее время. До свидания.",
	},
	"en": {
		msgCallback:     "I could not connect you to an operator. Your callback request is registered, number %s. An operator will call you back during working hours. Goodbye.",
		msgNoOperator:   "I could not connect you to an operator. Please call again later. Goodbye.",
		msgHoldWait:     "Please stay on the line. All operators are busy; the estimated wait is %s.",
		msgHoldNext:     "Please stay on the line. You are next for an operator.",
		msgAgentGoodbye: "The operator has ended the conversation. Thank you for calling. Goodbye.",
		msgCallbackApp:  "I could not connect you to an operator. Your request is registered, number %s. An operator will answer you in the app or on the portal during working hours. Goodbye.",
	},
}

func text(lang string, msg int) string {
	t, ok := texts[lang]
	if !ok {
		t = texts["ru"]
	}
	return t[msg]
}
