package tts

import (
	"strings"
	"unicode"
)

// Chunk lengths in characters. A sentence longer than maxChunk is cut at
// clause punctuation so one chunk never keeps an engine busy for long (the
// eSpeak worker is shared) nor delays the next audio much.
const (
	maxChunk    = 160
	minClause   = 12 // a first clause shorter than this is not split off
	firstClause = 2  // words the first clause needs to be split off
)

// SplitSentences cuts prepared text into sentences at . ! ? … and line
// breaks, and long sentences further at , ; : and dashes. With firstClause
// the first clause of the first sentence becomes a chunk of its own.
// Chunks keep their punctuation, which the engines use for intonation.
func SplitSentences(text string, splitFirst bool) []string {
	var out []string
	var cur strings.Builder
	runes := []rune(text)
	flush := func() {
		if s := strings.Join(strings.Fields(cur.String()), " "); s != "" && hasLetterOrDigit(s) {
			out = append(out, s)
		}
		cur.Reset()
	}
	for i, r := range runes {
		if r == '\n' || r == '\r' {
			flush()
			continue
		}
		cur.WriteRune(r)
		if r == '.' || r == '!' || r == '?' || r == '…' {
			// A run of terminators ("?!", "...") stays together; the
			// sentence ends at a space or the end of the text.
			if i+1 == len(runes) || unicode.IsSpace(runes[i+1]) {
				flush()
			}
		}
	}
	flush()
	var chunks []string
	for i, s := range out {
		parts := splitClauses(s, maxChunk)
		if i == 0 && splitFirst {
			parts = splitFirstClause(parts)
		}
		chunks = append(chunks, parts...)
	}
	return chunks
}

// splitClauses cuts s at clause punctuation into pieces of at most max
// characters where it can; a clause longer than max is cut at a space.
func splitClauses(s string, max int) []string {
	if len([]rune(s)) <= max {
		return []string{s}
	}
	var out []string
	var cur []rune
	for _, w := range strings.Fields(s) {
		wr := []rune(w)
		if len(cur) > 0 && len(cur)+1+len(wr) > max {
			out = append(out, string(cur))
			cur = nil
		}
		if len(cur) > 0 {
			cur = append(cur, ' ')
		}
		cur = append(cur, wr...)
		last := wr[len(wr)-1]
		if (last == ',' || last == ';' || last == ':' || w == "—" || w == "–") && len(cur) > max/2 {
			out = append(out, string(cur))
			cur = nil
		}
	}
	if len(cur) > 0 {
		out = append(out, string(cur))
	}
	return out
}

// splitFirstClause splits the first chunk after its first comma (or other
// clause mark) when both sides are real clauses.
func splitFirstClause(parts []string) []string {
	first := parts[0]
	words := strings.Fields(first)
	n := 0
	for i, w := range words[:max(0, len(words)-firstClause)] {
		n += len([]rune(w)) + 1
		last := []rune(w)[len([]rune(w))-1]
		if (last == ',' || last == ';' || last == ':') && i+1 >= firstClause && n >= minClause {
			head := strings.Join(words[:i+1], " ")
			tail := strings.Join(words[i+1:], " ")
			return append([]string{head, tail}, parts[1:]...)
		}
	}
	return parts
}

func hasLetterOrDigit(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}
