package kbapi

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotline-ivr/hotline/internal/browsertest"
	"github.com/hotline-ivr/hotline/knowledge"
)

// TestEditorInChromium drives the real editor in headless Chromium against
// the real server: log in, find an article, edit its spoken answer, save,
// publish, find the new text with "test the bot", hit an edit conflict and
// reload, and check that markup in an article is shown as text.
//
// Set HOTLINE_E2E_SCREENSHOTS=DIR to keep screenshots of each step.
func TestEditorInChromium(t *testing.T) {
	browser := browsertest.Start(t, browsertest.WithWindowSize(1600, 1100)) // skips under -short or without Chromium
	e := newEnvWith(t, []Option{WithSpeaker(newSpeaker(t))}, knowledge.WithSeed(knowledge.Content()))
	ctx := t.Context()

	// The article the editor will work on: a seeded Russian one about
	// passports, turned into a draft so that publishing is part of the test.
	found, _, err := e.kb.List(ctx, knowledge.ListFilter{Lang: "ru", Query: "паспорт", Limit: 1})
	if err != nil || len(found) == 0 {
		t.Fatalf("no seeded passport article: %v", err)
	}
	target, err := e.kb.Unpublish(ctx, found[0].ID, "ru", found[0].Version, "test")
	if err != nil {
		t.Fatal(err)
	}
	const evil = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>`
	if _, err := e.kb.Create(ctx, knowledge.Article{
		ID: "markup-check", Lang: "en", Title: "Markup " + evil, Queue: "general",
		Questions: []string{"markup?"}, Spoken: "Plain answer " + evil, Body: evil, Status: knowledge.StatusPublished,
	}, "test"); err != nil {
		t.Fatal(err)
	}

	bctx, cancelTimeout := context.WithTimeout(browser.Context(), 2*time.Minute)
	defer cancelTimeout()

	page := browsertest.Steps{T: t, Ctx: bctx}
	step, until, js, shot := page.Step, page.Until, page.JS, page.Shot
	// replaceText empties a field and types text into it like a user.
	replaceText := func(id, text string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			if _, err := chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(el => { el.value = ''; el.focus(); })(document.getElementById(%q))`, id))(ctx, tg); err != nil {
				return chromedp.Void{}, err
			}
			return chromedp.SendKeys(chromedp.ID(id), text)(ctx, tg)
		}
	}

	// choose picks an option of a select the way a user's change would.
	choose := func(id, value string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
			`(el => { el.value = %q; el.dispatchEvent(new Event('change')); })(document.getElementById(%q))`, value, id))
	}

	// Log in: the editor sends an anonymous visitor to the login page.
	step("open editor", chromedp.Navigate(e.srv.URL+"/editor/"), chromedp.WaitVisible(chromedp.ID("login-user")))
	until("on the login page", `location.pathname + location.search === '/login?next=%2Feditor%2F'`)
	shot("0-login")
	step("log in",
		chromedp.SendKeys(chromedp.ID("login-user"), "olga"),
		chromedp.SendKeys(chromedp.ID("login-pass"), testPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#article-list .article-item")),
	)
	until("user shown", `document.getElementById('who').textContent === 'olga'`)

	// Search the list and open the article.
	item := fmt.Sprintf(`#article-list .article-item[data-id=%q][data-lang="ru"]`, target.ID)
	step("search list", replaceText("list-q", "паспорт"))
	until("list filtered", `document.getElementById('article-list').dataset.q === 'паспорт'`)
	step("find article", chromedp.WaitVisible(chromedp.CSS(item)))
	step("open article", chromedp.Click(chromedp.CSS(item)))
	until("article loaded", fmt.Sprintf(`document.getElementById('ru-spoken').value === %q`, target.Spoken))
	until("both languages side by side", `document.getElementById('col-ru') && document.getElementById('col-en')`)
	shot("1-opened")

	// Edit the spoken answer: the live preview follows, then save.
	const phrase = "квазиоранжевый" // in no seeded article
	spoken := "Паспорт меняют в МФЦ. Кодовое слово " + phrase + "."
	step("edit spoken", replaceText("ru-spoken", spoken))
	until("preview updated", fmt.Sprintf(`document.querySelector('#col-ru [data-ref="preview-text"]').textContent === %q`, spoken))
	until("preview counts words", `document.querySelector('#col-ru [data-ref="stats"]').textContent.startsWith('7 words')`)

	// The play button speaks the unsaved text: the audio element gets the
	// server's WAV as a blob and the browser decodes it.
	until("play enabled", `!document.getElementById('ru-play').disabled`)
	step("play", chromedp.Click(chromedp.ID("ru-play")))
	until("audio loaded", `(a => a && a.src.startsWith('blob:') && !a.error && a.readyState >= 1 && a.duration > 1)(document.getElementById('speech-audio'))`)
	if st := js(`document.getElementById('ru-play').dataset.state + '|' + document.getElementById('notice').hidden`); st != "playing|true" && st != "idle|true" {
		t.Errorf("after play: button state|notice hidden = %s", st)
	}
	step("save", chromedp.Click(chromedp.ID("ru-save")))
	until("saved", fmt.Sprintf(`document.querySelector('#col-ru [data-ref="meta"]').textContent.startsWith('version %d ')`, target.Version+1))
	if got, _ := e.kb.Get(ctx, target.ID, "ru"); got.Spoken != spoken || got.UpdatedBy != "olga" || got.Status != knowledge.StatusDraft {
		t.Fatalf("after save: %q by %s (%s)", got.Spoken, got.UpdatedBy, got.Status)
	}

	// A draft is not what callers get: the bot box finds it only once published.
	ask := func(name string) {
		step(name, replaceText("bot-q", phrase), chromedp.Click(chromedp.ID("bot-ask")))
	}
	ask("ask before publishing")
	until("no hit for a draft", `document.querySelector('#bot-hits li') && !document.getElementById('bot-hits').textContent.includes('`+phrase+`')`)
	step("publish", chromedp.Click(chromedp.ID("ru-publish")))
	until("published", `document.querySelector('#col-ru [data-ref="badge"]').textContent === 'published'`)
	ask("ask after publishing")
	until("bot finds new text", `document.getElementById('bot-hits').textContent.includes('`+phrase+`')`)
	hit := js(`document.querySelector('#bot-hits .hit').textContent`)
	if !containsAll(hit, target.Title, "score", "confidence", phrase) {
		t.Errorf("top hit = %q; want the article's title, score, confidence and the new text", hit)
	}
	shot("2-published-and-found")

	// The list search finds it too.
	step("filter published", choose("list-status", "published"))
	until("list shows published article", `document.getElementById('article-list').dataset.status === 'published' && document.querySelector('`+item+` .badge.published')`)

	// Someone else edits meanwhile: saving now is refused and says so.
	cur, _ := e.kb.Get(ctx, target.ID, "ru")
	cur.Title = "Изменено коллегой"
	if _, err := e.kb.Update(ctx, cur, cur.Version, "ivan"); err != nil {
		t.Fatal(err)
	}
	step("stale edit", replaceText("ru-title", "Моя правка"), chromedp.Click(chromedp.ID("ru-save")))
	until("conflict shown", `!document.getElementById('banner').hidden && document.getElementById('banner').textContent.includes('Conflict')`)
	shot("3-conflict")
	if got, _ := e.kb.Get(ctx, target.ID, "ru"); got.Title != "Изменено коллегой" {
		t.Fatalf("stale edit overwrote the colleague's: title %q", got.Title)
	}
	step("reload after conflict", chromedp.Click(chromedp.CSS("#banner button")))
	until("colleague's text loaded", `document.getElementById('ru-title').value === 'Изменено коллегой'`)
	until("banner gone", `document.getElementById('banner').hidden`)

	// History: the colleague's change shows in the diff; revert it.
	step("open history", chromedp.Click(chromedp.ID("ru-history")))
	until("diff of the latest version", `document.getElementById('diff').textContent.includes('+ Изменено коллегой')`)
	shot("4-history")
	revertTo := fmt.Sprintf(`#history-list button[data-revert="%d"]`, target.Version+2)
	step("revert", chromedp.Click(chromedp.CSS(revertTo)))
	until("reverted", fmt.Sprintf(`document.getElementById('ru-title').value === %q`, target.Title))
	if got, _ := e.kb.Get(ctx, target.ID, "ru"); got.Title != target.Title || got.Spoken != spoken || got.Version != target.Version+4 || got.UpdatedBy != "olga" {
		t.Errorf("after revert: %q / %q v%d by %s", got.Title, got.Spoken, got.Version, got.UpdatedBy)
	}

	// Markup in article text is displayed, never executed.
	step("search markup article", replaceText("list-q", "markup"), choose("list-status", ""))
	until("list filtered for markup", `document.getElementById('article-list').dataset.q === 'markup' && document.getElementById('article-list').dataset.status === ''`)
	step("open markup article", chromedp.Click(chromedp.CSS(`.article-item[data-id="markup-check"]`)))
	until("markup article loaded", `document.getElementById('en-title').value.startsWith('Markup')`)
	step("ask for markup", replaceText("bot-q", "markup"), choose("bot-lang", "en"), chromedp.Click(chromedp.ID("bot-ask")))
	until("markup hit shown", `document.querySelector('#bot-hits .hit-title')?.textContent.startsWith('Markup')`)
	shot("5-markup")
	if v := js(`String(window.__xss)`); v != "undefined" {
		t.Errorf("article markup ran as script: window.__xss = %s", v)
	}
	if n := js(`String(document.querySelectorAll('main img, main script').length)`); n != "0" {
		t.Errorf("article markup became %s DOM element(s)", n)
	}
	for _, sel := range []string{`.article-item[data-id="markup-check"] .item-title`, `#bot-hits .hit-title`} {
		if got := js(fmt.Sprintf(`document.querySelector(%q).textContent`, sel)); got != "Markup "+evil {
			t.Errorf("%s shows %q, want the markup as text", sel, got)
		}
	}
	if got := js(`document.querySelector('#col-en [data-ref="preview-text"]').textContent`); got != "Plain answer "+evil {
		t.Errorf("spoken preview shows %q", got)
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
