package knowledge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// The fields of the front matter, in the order FormatArticle writes them.
var frontMatterFields = []string{"id", "lang", "title", "queue", "tags", "questions", "spoken", "status"}

// ParseArticle reads one article file: YAML front matter between "---"
// lines, then the Markdown body. name is used in errors and, when it looks
// like "<lang>/<id>.md", must agree with the front matter so that files
// cannot silently shadow each other. Errors are *FieldError.
func ParseArticle(name string, data []byte) (Article, error) {
	fail := func(field, format string, args ...any) (Article, error) {
		return Article{}, &FieldError{File: name, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	text = strings.TrimPrefix(text, "\ufeff")
	if !strings.HasPrefix(text, "---\n") {
		return fail("", "missing front matter: the file must start with a line \"---\"")
	}
	rest := text[len("---\n"):]
	var front, body string
	if strings.HasPrefix(rest, "---\n") || rest == "---" {
		front, body = "", strings.TrimPrefix(rest, "---")
	} else if i := strings.Index(rest, "\n---\n"); i >= 0 {
		front, body = rest[:i+1], rest[i+len("\n---\n"):]
	} else if strings.HasSuffix(rest, "\n---") {
		front, body = rest[:len(rest)-len("---")], ""
	} else {
		return fail("", "front matter is not closed by a line \"---\"")
	}

	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(front), &doc); err != nil {
		return fail("", "front matter is not valid YAML: %v", err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return fail("", "front matter is empty")
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return fail("", "front matter must be a mapping of fields (line %d)", m.Line)
	}
	a := Article{Tags: []string{}, Questions: []string{}}
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		field := k.Value
		if !slices.Contains(frontMatterFields, field) {
			return fail(field, "unknown field (line %d); known fields are %s", k.Line, strings.Join(frontMatterFields, ", "))
		}
		if seen[field] {
			return fail(field, "appears twice (line %d)", k.Line)
		}
		seen[field] = true
		switch field {
		case "tags", "questions":
			list, err := stringList(v)
			if err != nil {
				return fail(field, "%v (line %d)", err, v.Line)
			}
			if field == "tags" {
				a.Tags = list
			} else {
				a.Questions = list
			}
		default:
			if v.Kind != yaml.ScalarNode {
				return fail(field, "must be a single text value (line %d)", v.Line)
			}
			s := v.Value
			if v.Tag == "!!null" {
				s = ""
			}
			switch field {
			case "id":
				a.ID = s
			case "lang":
				a.Lang = s
			case "title":
				a.Title = s
			case "queue":
				a.Queue = s
			case "spoken":
				a.Spoken = s
			case "status":
				a.Status = s
			}
		}
	}
	for _, f := range []string{"id", "lang", "title", "queue", "spoken", "status"} {
		if !seen[f] {
			return fail(f, "is missing")
		}
	}
	a.Body = body
	a = normalize(a)

	// "ru/<id>.md" (or ".../content/ru/<id>.md") must match the front matter.
	if base, ok := strings.CutSuffix(path.Base(name), ".md"); ok {
		if base != a.ID {
			return fail("id", "%q does not match the file name %q", a.ID, path.Base(name))
		}
		if dir := path.Base(path.Dir(name)); slices.Contains(Languages, dir) && dir != a.Lang {
			return fail("lang", "%q does not match the folder %q", a.Lang, dir)
		}
	}
	return a, nil
}

func stringList(n *yaml.Node) ([]string, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return []string{}, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("must be a list")
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("entry on line %d must be text, not a nested structure", c.Line)
		}
		out = append(out, c.Value)
	}
	return out, nil
}

// FormatArticle writes the article in the file format ParseArticle reads.
// For a normalised article (as stored) ParseArticle(FormatArticle(a))
// returns the same content fields. Plain YAML is used where it is safe for
// readability; anything else is double-quoted (JSON strings are valid YAML).
func FormatArticle(a Article) []byte {
	var b bytes.Buffer
	b.WriteString("---\n")
	fmt.Fprintf(&b, "id: %s\n", scalar(a.ID, false))
	fmt.Fprintf(&b, "lang: %s\n", scalar(a.Lang, false))
	fmt.Fprintf(&b, "title: %s\n", scalar(a.Title, false))
	fmt.Fprintf(&b, "queue: %s\n", scalar(a.Queue, false))
	b.WriteString("tags: [")
	for i, t := range a.Tags {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(scalar(t, true))
	}
	b.WriteString("]\n")
	if len(a.Questions) == 0 {
		b.WriteString("questions: []\n")
	} else {
		b.WriteString("questions:\n")
		for _, q := range a.Questions {
			fmt.Fprintf(&b, "  - %s\n", scalar(q, false))
		}
	}
	if foldable(a.Spoken) {
		fmt.Fprintf(&b, "spoken: >-\n  %s\n", a.Spoken)
	} else {
		fmt.Fprintf(&b, "spoken: %s\n", quote(a.Spoken))
	}
	fmt.Fprintf(&b, "status: %s\n", scalar(a.Status, false))
	b.WriteString("---\n")
	if a.Body != "" {
		b.WriteString(a.Body)
		b.WriteString("\n")
	}
	return b.Bytes()
}

// plainSafe is deliberately conservative: letters and digits first, then
// common prose punctuation. Anything else gets quoted.
var (
	plainBlock = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N} .,;?!()«»"'’“”„/%№+=—–\-]*$`)
	plainFlow  = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N} .«»/№—–\-]*$`)
	yamlWords  = regexp.MustCompile(`(?i)^(null|true|false|yes|no|on|off|y|n|~|[-+]?(\.inf|\.nan))$`)
	numberLike = regexp.MustCompile(`^[-+]?[0-9][0-9_.:eExXoObB+-]*$`)
)

func scalar(s string, flow bool) string {
	re := plainBlock
	if flow {
		re = plainFlow
	}
	if s != strings.TrimSpace(s) || !re.MatchString(s) || yamlWords.MatchString(s) || numberLike.MatchString(s) {
		return quote(s)
	}
	return s
}

// foldable reports whether s can be written as a one-line ">-" block: that
// reads best for the spoken text, but folding only round-trips a single line.
func foldable(s string) bool {
	return s != "" && s == strings.TrimSpace(s) && !strings.ContainsAny(s, "\n\r\t\u0085\u2028\u2029\ufeff") && !hasControl(s)
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}

func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // encoding a string cannot fail
	return strings.TrimSuffix(b.String(), "\n")
}
