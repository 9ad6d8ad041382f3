package nlu

import (
	"strings"
	"unicode"
)

// translit holds Russian words callers type or recognisers spell in Latin
// letters ("spasibo", "zayavlenie"); they count as Russian.
var translit = map[string]bool{
	"privet": true, "spasibo": true, "pozhaluysta": true, "pozhalujsta": true, "pozhalusta": true,
	"zdravstvuyte": true, "zdravstvujte": true, "zayavlenie": true, "zayavka": true, "obrashchenie": true,
	"nomer": true, "operator": false, "khorosho": true, "horosho": true, "poka": true, "net": false,
	"gosuslugi": true, "da": false, "ladno": true, "davayte": true, "pensiya": true,
}

// DetectLang tells Russian from English by script, the dominant script
// winning in mixed utterances. Latin-spelled Russian words count as
// Russian. It returns "" when the text has no letters. The confidence is
// the dominant share, damped for very short texts, where one word says
// little ("ok" is said in both languages).
func DetectLang(text string) (string, float64) {
	var cyr, lat float64
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
		var c, l int
		for _, r := range w {
			switch {
			case unicode.Is(unicode.Cyrillic, r):
				c++
			case unicode.Is(unicode.Latin, r):
				l++
			}
		}
		if l > 0 && c == 0 && translit[w] {
			c, l = l, 0
		}
		if w == "ok" || w == "okay" || w == "ок" || w == "окей" {
			continue // said in both languages
		}
		cyr += float64(c)
		lat += float64(l)
	}
	total := cyr + lat
	if total == 0 {
		if strings.Contains(strings.ToLower(text), "ok") {
			return "en", 0.5
		}
		if strings.Contains(strings.ToLower(text), "ок") {
			return "ru", 0.5
		}
		return "", 0
	}
	lang, share := "ru", cyr/total
	if lat > cyr {
		lang, share = "en", lat/total
	}
	damp := 0.6 + total/25
	if damp > 1 {
		damp = 1
	}
	return lang, share * damp
}
