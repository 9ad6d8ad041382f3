package knowledge

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// contentFields keeps what the file format carries.
func contentFields(a Article) Article {
	return Article{ID: a.ID, Lang: a.Lang, Title: a.Title, Queue: a.Queue, Tags: a.Tags,
		Questions: a.Questions, Spoken: a.Spoken, Body: a.Body, Status: a.Status}
}

func TestEmbeddedArticlesParseValidateAndRoundTrip(t *testing.T) {
	files, err := articleFiles(Content())
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no embedded articles")
	}
	perLang := map[string]int{}
	for name, data := range files {
		a, err := ParseArticle(name, data)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if err := a.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		perLang[a.Lang]++
		out := FormatArticle(a)
		b, err := ParseArticle(name, out)
		if err != nil {
			t.Errorf("%s: reparse formatted: %v\n%s", name, err, out)
			continue
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: round trip changed the article:\n got %#v\nwant %#v", name, b, a)
		}
		if again := FormatArticle(b); string(again) != string(out) {
			t.Errorf("%s: formatting is not stable", name)
		}
	}
	t.Logf("embedded articles per language: %v", perLang)
	if _, err := fs.Stat(Content(), "content/CONTRADICTIONS.md"); err == nil {
		t.Error("content/CONTRADICTIONS.md must not be embedded")
	}
}

// TestFormatParseRoundTripRandom is a property test: any valid, normalised
// article survives Format → Parse, whatever characters its text holds.
func TestFormatParseRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("abcXYZ абвЁёЯ 0123456789 .,;:!?-—#'\"`*_[]{}()<>&%@|\\/\t\n~«»→€")
	text := func(max int) string {
		n := r.IntN(max) + 1
		var b strings.Builder
		for range n {
			b.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	special := []string{"yes", "no", "null", "~", "true", "123", "1e3", "- item", ": x", "# not a comment", "'quoted'", "\"dq\"", "---", "a: b", "[x]", "{y}", "@at", "%pct", "&anchor", "*alias", "!tag", "|", ">"}
	pick := func(max int) string {
		if r.IntN(4) == 0 {
			return special[r.IntN(len(special))]
		}
		return text(max)
	}
	for i := range 2000 {
		a := Article{
			ID: "art-" + strings.Repeat("x", i%5) + "1", Lang: Languages[i%2], Queue: Queues[i%len(Queues)],
			Status: Statuses[i%2], Title: pick(40), Spoken: pick(80), Body: text(300),
		}
		for range r.IntN(4) {
			a.Tags = append(a.Tags, pick(10))
		}
		for range r.IntN(4) {
			a.Questions = append(a.Questions, pick(40))
		}
		a = normalize(a)
		if a.Title == "" || a.Spoken == "" {
			continue
		}
		out := FormatArticle(a)
		b, err := ParseArticle("x.md", out)
		if err != nil {
			if strings.Contains(err.Error(), "does not match the file name") {
				b, err = ParseArticle(a.ID+".md", out)
			}
			if err != nil {
				t.Fatalf("case %d: %v\n%s", i, err, out)
			}
		}
		if !reflect.DeepEqual(contentFields(a), b) {
			t.Fatalf("case %d: round trip changed the article\n got %#v\nwant %#v\nfile:\n%s", i, b, contentFields(a), out)
		}
	}
}

func TestParseArticleErrorsNameFileAndField(t *testing.T) {
	valid := "---\nid: x\nlang: ru\ntitle: T\nqueue: general\ntags: []\nquestions: []\nspoken: S\nstatus: draft\n---\nbody\n"
	cases := []struct {
		name, data, field, msg string
	}{
		{"no-front.md", "just text\n", "", "missing front matter"},
		{"unclosed.md", "---\nid: unclosed\n", "", "not closed"},
		{"bad-yaml.md", "---\nid: [unclosed\n---\n", "", "not valid YAML"},
		{"unknown.md", strings.Replace(valid, "status: draft", "status: draft\nauthor: me", 1), "author", "unknown field"},
		{"dup.md", strings.Replace(valid, "title: T", "title: T\ntitle: U", 1), "title", "twice"},
		{"missing.md", strings.Replace(valid, "spoken: S\n", "", 1), "spoken", "missing"},
		{"tags.md", strings.Replace(valid, "tags: []", "tags: plain", 1), "tags", "must be a list"},
		{"title.md", strings.Replace(valid, "title: T", "title: [a, b]", 1), "title", "single text"},
		{"ru/other.md", valid, "id", "does not match the file name"},
		{"en/x.md", valid, "lang", "does not match the folder"},
	}
	for _, c := range cases {
		_, err := ParseArticle(c.name, []byte(c.data))
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: err = %v, want *FieldError", c.name, err)
			continue
		}
		if fe.File != c.name || fe.Field != c.field || !strings.Contains(fe.Msg, c.msg) {
			t.Errorf("%s: got %+v, want field %q and message containing %q", c.name, fe, c.field, c.msg)
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error does not match ErrInvalid", c.name)
		}
	}
	if _, err := ParseArticle("ru/x.md", []byte(valid)); err != nil {
		t.Errorf("valid file: %v", err)
	}
	// CRLF files (edited on Windows) parse the same.
	if _, err := ParseArticle("ru/x.md", []byte(strings.ReplaceAll(valid, "\n", "\r\n"))); err != nil {
		t.Errorf("CRLF file: %v", err)
	}
}

func TestValidate(t *testing.T) {
	ok := Article{ID: "main-number", Lang: "ru", Title: "T", Queue: "general", Spoken: "S", Status: StatusDraft}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid article: %v", err)
	}
	cases := []struct {
		field  string
		mutate func(*Article)
	}{
		{"id", func(a *Article) { a.ID = "" }},
		{"id", func(a *Article) { a.ID = "Main_Number" }},
		{"id", func(a *Article) { a.ID = "номер" }},
		{"id", func(a *Article) { a.ID = "a--b" }},
		{"lang", func(a *Article) { a.Lang = "de" }},
		{"title", func(a *Article) { a.Title = " " }},
		{"title", func(a *Article) { a.Title = strings.Repeat("я", MaxTitle+1) }},
		{"spoken", func(a *Article) { a.Spoken = "" }},
		{"spoken", func(a *Article) { a.Spoken = strings.Repeat("a", MaxSpoken+1) }},
		{"body", func(a *Article) { a.Body = strings.Repeat("a", MaxBody+1) }},
		{"queue", func(a *Article) { a.Queue = "vip" }},
		{"status", func(a *Article) { a.Status = "archived" }},
		{"questions", func(a *Article) { a.Questions = make([]string, MaxQuestions+1) }},
		{"questions[0]", func(a *Article) { a.Questions = []string{strings.Repeat("q", MaxQuestion+1)} }},
		{"tags", func(a *Article) { a.Tags = make([]string, MaxTags+1) }},
	}
	for _, c := range cases {
		a := ok
		c.mutate(&a)
		err := a.Validate()
		var ve *ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ValidationError", c.field, err)
			continue
		}
		found := false
		for _, p := range ve.Problems {
			found = found || p.Field == c.field
		}
		if !found {
			t.Errorf("%s: problems %+v do not name the field", c.field, ve.Problems)
		}
	}
	// Title and spoken limits count characters, not bytes (Cyrillic is 2 bytes).
	a := ok
	a.Title = strings.Repeat("я", MaxTitle)
	if err := a.Validate(); err != nil {
		t.Errorf("%d Cyrillic letters: %v", MaxTitle, err)
	}
}

func TestLineDiff(t *testing.T) {
	got := LineDiff("a\nb\nc", "a\nc\nd")
	want := "  a\n- b\n  c\n+ d\n"
	if got != want {
		t.Errorf("LineDiff = %q, want %q", got, want)
	}
	if LineDiff("", "x") != "+ x\n" || LineDiff("x", "") != "- x\n" {
		t.Error("LineDiff with an empty side")
	}
}
