package knowledge

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
)

// changeLog records WithOnChange calls.
type changeLog struct {
	mu   sync.Mutex
	keys []string
}

func (l *changeLog) add(id, lang string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.keys = append(l.keys, lang+"/"+id)
}

// take returns the calls since the last take.
func (l *changeLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := l.keys
	l.keys = nil
	slices.Sort(k)
	return k
}

func TestOnChangeAfterEveryWrite(t *testing.T) {
	ctx := context.Background()
	var log changeLog
	var s *Service
	// The hook reads the service: it runs outside the writer lock.
	hook := func(id, lang string) {
		if _, err := s.GetAny(ctx, id, lang); err != nil {
			t.Errorf("hook cannot read %s/%s: %v", lang, id, err)
		}
		log.add(id, lang)
	}
	s, _ = openTest(t, WithOnChange(func(id, lang string) {
		if s == nil {
			log.add(id, lang) // seeding runs inside Open
			return
		}
		hook(id, lang)
	}))
	if got := log.take(); len(got) != 9 {
		t.Errorf("seeding notified %d articles, want 9: %v", len(got), got)
	}

	expect := func(step string, want ...string) {
		t.Helper()
		if got := log.take(); !slices.Equal(got, want) {
			t.Errorf("%s: notified %v, want %v", step, got, want)
		}
	}
	a, err := s.Create(ctx, newArticle("hooked", "ru"), "alice")
	if err != nil {
		t.Fatal(err)
	}
	expect("create", "ru/hooked")
	if _, err := s.Create(ctx, newArticle("hooked", "ru"), "alice"); !errors.Is(err, ErrExists) {
		t.Fatal(err)
	}
	expect("failed create")

	a.Spoken = "Новый ответ."
	if a, err = s.Update(ctx, a, 1, "alice"); err != nil {
		t.Fatal(err)
	}
	expect("update", "ru/hooked")
	if _, err := s.Update(ctx, a, a.Version, "alice"); err != nil {
		t.Fatal(err)
	}
	expect("no-op update")
	if _, err := s.Update(ctx, a, 1, "bob"); !errors.Is(err, ErrConflict) {
		t.Fatal(err)
	}
	expect("conflicting update")

	if a, err = s.Publish(ctx, "hooked", "ru", a.Version, "alice"); err != nil {
		t.Fatal(err)
	}
	expect("publish", "ru/hooked")
	if a, err = s.Unpublish(ctx, "hooked", "ru", a.Version, "alice"); err != nil {
		t.Fatal(err)
	}
	expect("unpublish", "ru/hooked")
	if a, err = s.Revert(ctx, "hooked", "ru", 1, a.Version, "alice"); err != nil {
		t.Fatal(err)
	}
	expect("revert", "ru/hooked")
	if err := s.Delete(ctx, "hooked", "ru", a.Version, "alice"); err != nil {
		t.Fatal(err)
	}
	expect("delete", "ru/hooked")
	if _, err := s.Restore(ctx, "hooked", "ru", "alice"); err != nil {
		t.Fatal(err)
	}
	expect("restore", "ru/hooked")

	same, _ := s.Get(ctx, "main-number", "en")
	changed, _ := s.Get(ctx, "main-number", "ru")
	changed.Spoken += " Изменено."
	fresh := newArticle("brand-new", "ru")
	fresh.Status = StatusDraft
	files := map[string][]byte{
		"en/main-number.md": FormatArticle(same),
		"ru/main-number.md": FormatArticle(changed),
		"ru/brand-new.md":   FormatArticle(fresh),
	}
	if _, err := s.Import(ctx, files, "importer"); err != nil {
		t.Fatal(err)
	}
	expect("import", "ru/brand-new", "ru/main-number") // not the unchanged one
	files["en/broken.md"] = []byte("not an article")
	if _, err := s.Import(ctx, files, "importer"); err == nil {
		t.Fatal("a broken import succeeded")
	}
	expect("failed import")
}
