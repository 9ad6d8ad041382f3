package adapters_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/appeal/sqlitestore"
	"github.com/hotline-ivr/hotline/bot"
	"github.com/hotline-ivr/hotline/bot/adapters"
	"github.com/hotline-ivr/hotline/handoff"
	"github.com/hotline-ivr/hotline/nlu"
	"github.com/hotline-ivr/hotline/store"
)

var ruDigits = []string{"ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"}

// spell says digits one by one, the way a recogniser writes a caller
// dictating a number.
func spell(digits string) string {
	var w []string
	for _, r := range digits {
		w = append(w, ruDigits[r-'0'])
	}
	return strings.Join(w, " ")
}

// TestVoiceStatusCheckWithSpokenNumbers runs a voice session (text in, as
// from the recogniser) on the real nlu, knowledge base, appeals and
// handoff center: numbers are dictated as words.
func TestVoiceStatusCheckWithSpokenNumbers(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the nlu models; skipped with -short")
	}
	ctx := context.Background()
	p, err := nlu.OpenEmbedded(ctx, nil, nlu.WithAppealValidator(func(s string) bool { return appeal.ValidNumber(s) == nil }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	db, err := store.Open(filepath.Join(t.TempDir(), "hotline.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	repo, err := sqlitestore.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := appeal.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{3}, 32)}, nil)
	svc, err := appeal.NewService(repo, keys)
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := svc.Create(ctx, appeal.NewAppeal{Channel: appeal.Voice, Lang: "ru", Contact: appeal.Contact{Phone: "+79161234567"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	queues, _ := handoff.DefaultQueues()
	center, err := handoff.New(queues)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { center.Close() })

	s, err := bot.New(bot.Deps{
		Understander: adapters.Understander{P: p.Parser}, Answerer: adapters.Answerer{S: p.KB},
		Appeals: adapters.Appeals{S: svc}, Router: adapters.Router{C: center},
	}, bot.Config{Channel: bot.ChannelVoice, Lang: "ru", NoInput: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	turn := func(text string) string {
		t.Helper()
		if text != "" {
			if err := s.Send(ctx, bot.Input{Kind: bot.InputFinal, Text: text}); err != nil {
				t.Fatal(err)
			}
		}
		var out []string
		for ev := range s.Events() {
			switch ev.Kind {
			case bot.EventReply:
				out = append(out, ev.Text)
			case bot.EventReplyEnd, bot.EventEnd:
				got := strings.Join(out, " ")
				t.Logf("> %s\n< %s", text, got)
				return got
			}
		}
		return strings.Join(out, " ")
	}
	has := func(got string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Fatalf("%q does not contain %q", got, w)
			}
		}
	}
	has(turn(""), "Разговор записывается", "Чем могу помочь?")
	has(turn("мне нужно узнать статус моего обращения"), "Назовите номер обращения")
	has(turn(spell(a.Number)), appeal.FormatNumber(a.Number), "Верно?")
	has(turn("да верно"), "последние 4 цифры")
	has(turn("четыре пять шесть семь"), "«Принято»", "зарегистрировано")
	has(turn("нет спасибо до свидания"), "До свидания")
}

func TestTurnsForAppeal(t *testing.T) {
	at := time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)
	got := adapters.Turns([]bot.Turn{
		{At: at, Speaker: bot.SpeakerBot, Text: "Чем могу помочь?"},
		{At: at, Speaker: bot.SpeakerSystem, Text: "no input"},
		{At: at, Speaker: bot.SpeakerCaller, Text: "  "},
		{At: at, Speaker: bot.SpeakerAgent, Text: "Слушаю"},
	})
	if len(got) != 3 || got[1].Speaker != appeal.SpeakerBot || got[1].Text != "[no input]" || got[2].Speaker != appeal.SpeakerAgent {
		t.Fatalf("turns %+v", got)
	}
}
