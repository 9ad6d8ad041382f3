package nlu

import (
	"context"
	"maps"
	"testing"
)

func TestChecksums(t *testing.T) {
	for _, tt := range []struct {
		s    string
		fn   func(string) bool
		want bool
	}{
		{"11223344595", ValidSNILS, true},
		{"11223344596", ValidSNILS, false},
		{"00100100000", ValidSNILS, true}, // issued before check sums
		{"1122334459", ValidSNILS, false},
		{"7707083893", ValidINN, true},
		{"7707083894", ValidINN, false},
		{"500100732259", ValidINN, true},
		{"500100732258", ValidINN, false},
		{"77070838a3", ValidINN, false},
		{"", ValidINN, false},
	} {
		if got := tt.fn(tt.s); got != tt.want {
			t.Errorf("check(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestSlots(t *testing.T) {
	p := testParser(t)
	tests := []struct {
		text   string
		hint   Hint
		want   map[string]string
		intent string
	}{
		{"перезвоните мне на восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь", Hint{}, map[string]string{"phone": "89161234567"}, "callback"},
		{"call me back at +7 (916) 555-01-23", Hint{}, map[string]string{"phone": "79165550123"}, "callback"},
		{"статус обращения номер три три пять ноль восемь один", Hint{}, map[string]string{"application_number": "335081"}, "check_status"},
		{"my request number is 77-31-0045 whats the status", Hint{}, map[string]string{"application_number": "77310045"}, "check_status"},
		{"пять пять один ноль девять два три", Hint{Expect: ExpectAppealNumber}, map[string]string{"application_number": "5510923"}, "check_status"},
		{"мой снилс сто двенадцать двести тридцать три четыреста сорок пять девяносто пять", Hint{}, map[string]string{"snils": "11223344595"}, ""},
		{"снилс 112-233-445 96", Hint{}, map[string]string{}, ""}, // bad check sum: no slot
		{"инн 7707083893", Hint{}, map[string]string{"inn": "7707083893"}, ""},
		{"паспорт серия 45 06 номер 123456", Hint{}, map[string]string{"passport": "4506123456"}, ""},
		{"запишите на двадцать пятое марта", Hint{}, map[string]string{"date": "2026-03-25"}, ""},
		{"can you call me tomorrow", Hint{}, map[string]string{"date": "2026-03-11"}, ""},
		{"on March 25th please", Hint{}, map[string]string{"date": "2026-03-25"}, ""},
		{"приходите 25.03.2027", Hint{}, map[string]string{"date": "2027-03-25"}, ""},
		{"в пятницу", Hint{}, map[string]string{"date": "2026-03-13"}, ""},
		{"говорите по-английски пожалуйста", Hint{}, map[string]string{"lang": "en"}, "switch_language"},
		{"я плохо понимаю по-английски давайте по-русски", Hint{}, map[string]string{"lang": "ru"}, "switch_language"},
		{"can we switch to russian", Hint{}, map[string]string{"lang": "ru"}, "switch_language"},
		{"i dont speak russian can you help in english", Hint{Expect: ExpectLanguage}, map[string]string{"lang": "en"}, ""},
		{"в 18:00 удобно", Hint{}, map[string]string{}, ""},
	}
	for _, tt := range tests {
		r, err := p.Parse(context.Background(), tt.text, tt.hint)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(r.Slots, tt.want) {
			t.Errorf("%q: slots %v, want %v", tt.text, r.Slots, tt.want)
		}
		if tt.intent != "" && r.Intent != tt.intent {
			t.Errorf("%q: intent %s, want %s", tt.text, r.Intent, tt.intent)
		}
	}
}

func TestAppealValidator(t *testing.T) {
	arts, _ := EmbeddedArticles()
	p, err := New(WithArticles(arts), WithAppealValidator(func(s string) bool { return s == "1234567890" }))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := p.Parse(context.Background(), "статус обращения 1234567890", Hint{})
	if r.Slots[SlotAppealNumber] != "1234567890" || r.Slots[SlotAppealInvalid] != "" {
		t.Errorf("valid number: slots %v", r.Slots)
	}
	r, _ = p.Parse(context.Background(), "статус обращения 1234567891", Hint{})
	if r.Slots[SlotAppealNumber] != "1234567891" || r.Slots[SlotAppealInvalid] != "true" {
		t.Errorf("invalid number: slots %v", r.Slots)
	}
	if got := FirstReply(r); got == Prompt("ru", PromptCheckAppeal, map[string]string{"number": "1234567891"}) {
		t.Errorf("reply to an invalid number = %q", got)
	}
}

func TestDetectLang(t *testing.T) {
	for _, tt := range []struct {
		text    string
		want    string
		minConf float64
	}{
		{"Здравствуйте, подскажите график работы", "ru", 0.9},
		{"what are your opening hours", "en", 0.9},
		{"да", "ru", 0.5},
		{"yes", "en", 0.5},
		{"ok", "en", 0.3},
		{"ок", "ru", 0.3},
		{"Do you speak English? Я не понимаю.", "en", 0.5},
		{"Короче, дайте оператора, у меня problem с кабинетом", "ru", 0.7},
		{"spasibo zayavlenie", "ru", 0.5},
		{"12345", "", 0},
		{"", "", 0},
		{"🙂🙂", "", 0},
	} {
		got, conf := DetectLang(tt.text)
		if got != tt.want || conf < tt.minConf {
			t.Errorf("DetectLang(%q) = %s %.2f, want %s ≥ %.2f", tt.text, got, conf, tt.want, tt.minConf)
		}
	}
}
