package kbapi

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/knowledge"
	"github.com/hotline-ivr/hotline/web"
)

// PublicKB is what the public article view needs: published, not
// deleted articles only (*knowledge.Service's Get).
type PublicKB interface {
	Get(ctx context.Context, id, lang string) (knowledge.Article, error)
}

// RegisterPublic mounts the read-only, login-free view of published
// articles: the page GET /kb/:lang/:id (linked from the bot's answers on
// the call page and in the chat) and its JSON, GET
// /api/v1/kb/public/:lang/:id (title, spoken, body). Drafts, deleted and
// unknown articles are 404 on both.
func RegisterPublic(r *gin.Engine, kb PublicKB) {
	p := &public{kb: kb}
	r.GET("/kb/:lang/:id", p.page)
	r.GET("/api/v1/kb/public/:lang/:id", p.json)
}

type public struct{ kb PublicKB }

// PublicArticle is the public JSON of an article.
type PublicArticle struct {
	ID     string `json:"id"`
	Lang   string `json:"lang"`
	Title  string `json:"title"`
	Spoken string `json:"spoken"`
	Body   string `json:"body"`
}

// lookup returns the published article at the path, or false.
func (p *public) lookup(c *gin.Context) (knowledge.Article, bool) {
	lang, id := c.Param("lang"), c.Param("id")
	if !slices.Contains(knowledge.Languages, lang) {
		return knowledge.Article{}, false
	}
	a, err := p.kb.Get(c.Request.Context(), id, lang)
	if err != nil || a.Deleted || a.Status != knowledge.StatusPublished {
		if err != nil && !errors.Is(err, knowledge.ErrNotFound) {
			c.Error(err) //nolint:errcheck // recorded for the request log
		}
		return knowledge.Article{}, false
	}
	return a, true
}

func (p *public) json(c *gin.Context) {
	a, ok := p.lookup(c)
	if !ok {
		web.Problem(c, http.StatusNotFound, "Not Found", "no published article at this address")
		return
	}
	c.Header("Cache-Control", "no-cache")
	c.JSON(http.StatusOK, PublicArticle{ID: a.ID, Lang: a.Lang, Title: a.Title, Spoken: a.Spoken, Body: a.Body})
}

func (p *public) page(c *gin.Context) {
	web.PageHeaders(c, web.PagePolicy)
	a, ok := p.lookup(c)
	view := articleView{Lang: "ru", Back: "/call/"}
	status := http.StatusOK
	if ok {
		view.Lang, view.Title, view.Blocks = a.Lang, a.Title, textBlocks(a.Body)
		if len(view.Blocks) == 0 {
			view.Blocks = textBlocks(a.Spoken)
		}
	} else {
		status = http.StatusNotFound
		if l := c.Param("lang"); l == "en" {
			view.Lang = "en"
		}
		view.NotFound = true
	}
	view.Texts = pageTexts[view.Lang]
	c.Status(status)
	c.Header("Content-Type", "text/html; charset=utf-8")
	if err := articlePage.Execute(c.Writer, view); err != nil {
		c.Error(err) //nolint:errcheck // the status is already out
	}
}

type articleView struct {
	Lang, Title string
	Blocks      []block
	NotFound    bool
	Back        string
	Texts       map[string]string
}

// block is a paragraph or a list of the article's body, as plain text.
type block struct {
	Text  string
	Items []string
}

var pageTexts = map[string]map[string]string{
	"ru": {"notfound": "Статья не найдена", "notfoundText": "Такой статьи нет или она ещё не опубликована.", "back": "Вернуться к звонку"},
	"en": {"notfound": "Article not found", "notfoundText": "There is no such article, or it is not published yet.", "back": "Back to the call"},
}

// articlePage escapes everything: the article's text is never markup.
var articlePage = template.Must(template.New("article").Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .NotFound}}{{index .Texts "notfound"}}{{else}}{{.Title}}{{end}} — Hotline</title>
</head>
<body>
<main>
{{- if .NotFound}}
<h1>{{index .Texts "notfound"}}</h1>
<p>{{index .Texts "notfoundText"}}</p>
{{- else}}
<h1>{{.Title}}</h1>
{{- range .Blocks}}
{{- if .Items}}
<ul>{{range .Items}}<li>{{.}}</li>{{end}}</ul>
{{- else}}
<p>{{.Text}}</p>
{{- end}}
{{- end}}
{{- end}}
<p><a href="{{.Back}}">{{index .Texts "back"}}</a></p>
</main>
</body>
</html>
`))

var (
	mdLink     = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	mdListItem = regexp.MustCompile(`^\s*(?:[-*+]|\d+[.)])\s+`)
	mdHeading  = regexp.MustCompile(`^\s{0,3}#{1,6}\s+`)
	mdQuote    = regexp.MustCompile(`^\s*>\s?`)
	mdEmphasis = strings.NewReplacer("**", "", "__", "", "`", "")
)

// textBlocks turns Markdown into plain paragraphs and lists: headings,
// emphasis, code marks and link targets dropped, the link text kept.
// Raw HTML in the source stays text (the template escapes it).
func textBlocks(md string) []block {
	var out []block
	var para []string
	flush := func() {
		if len(para) > 0 {
			out = append(out, block{Text: strings.Join(para, " ")})
			para = nil
		}
	}
	inList := false
	for _, line := range strings.Split(strings.ReplaceAll(md, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "```") {
			flush()
			inList = false
			continue
		}
		if mdListItem.MatchString(line) {
			flush()
			item := plain(mdListItem.ReplaceAllString(line, ""))
			if !inList {
				out = append(out, block{})
				inList = true
			}
			last := &out[len(out)-1]
			last.Items = append(last.Items, item)
			continue
		}
		if inList && (strings.HasPrefix(line, "  ") || strings.HasPrefix(line, "\t")) {
			last := &out[len(out)-1]
			last.Items[len(last.Items)-1] += " " + plain(line)
			continue
		}
		inList = false
		if mdHeading.MatchString(line) {
			flush()
			out = append(out, block{Text: plain(mdHeading.ReplaceAllString(line, ""))})
			continue
		}
		para = append(para, plain(mdQuote.ReplaceAllString(line, "")))
	}
	flush()
	return out
}

func plain(s string) string {
	s = mdLink.ReplaceAllString(s, "$1")
	return strings.TrimSpace(mdEmphasis.Replace(s))
}
