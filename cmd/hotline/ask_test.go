package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func runAskCmd(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb}
	err := runAsk(context.Background(), c, args)
	return out.String(), errb.String(), err
}

func TestAskLines(t *testing.T) {
	start := time.Now()
	in := strings.Join([]string{
		"соедините меня с оператором",
		"",
		"what are the operator hours on sunday",
		"хочу узнать статус обращения номер один два три четыре пять шесть",
		strings.Repeat("очень длинный текст ", 100000),
		"перезвоните мне на восемь девятьсот шестнадцать один два три сорок пять шестьдесят семь",
	}, "\n")
	out, stderr, err := runAskCmd(t, in, "--json")
	if err != nil {
		t.Fatalf("ask: %v\n%s", err, stderr)
	}
	t.Logf("ask answered in %v", time.Since(start))
	var got []askReply
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var r askReply
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		got = append(got, r)
	}
	if len(got) != 5 {
		t.Fatalf("got %d replies, want 5:\n%s", len(got), out)
	}
	want := []struct{ lang, intent string }{{"ru", "operator"}, {"en", "faq"}, {"ru", "check_status"}, {"ru", ""}, {"ru", "callback"}}
	for i, w := range want {
		if got[i].Lang != w.lang || w.intent != "" && got[i].Intent != w.intent || got[i].Answer == "" {
			t.Errorf("reply %d = %+v, want lang %s intent %s and an answer", i, got[i], w.lang, w.intent)
		}
	}
	if got[1].ArticleID == "" {
		t.Errorf("faq reply has no article: %+v", got[1])
	}
	if got[2].Slots["application_number"] != "123456" || got[2].Slots["application_number_invalid"] != "true" {
		t.Errorf("appeal slots = %v, want 123456 flagged invalid (no check digit)", got[2].Slots)
	}
	if got[4].Slots["phone"] != "89161234567" {
		t.Errorf("phone slot = %v", got[4].Slots)
	}
}

func TestAskTextArgAndUsage(t *testing.T) {
	out, _, err := runAskCmd(t, "", "--lang", "en", "bye")
	if err != nil || !strings.Contains(out, "goodbye") {
		t.Errorf("ask bye = %q, %v", out, err)
	}
	if _, _, err := runAskCmd(t, "", "--lang", "de", "hallo"); err == nil {
		t.Error("--lang de accepted")
	}
}
