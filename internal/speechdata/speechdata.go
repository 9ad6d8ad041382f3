// Package speechdata finds recordings with reference transcripts for tests
// and benchmarks: the project's shared corpus (../shared/speech/<lang> next
// to the repository) when it is there, otherwise recordings that Debian
// packages install (pocketsphinx-testdata for English, festvox-ru for
// Russian), so tests also run on a fresh clone.
package speechdata

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Utterance is one recording and what is said in it.
type Utterance struct {
	Path string
	Text string
}

// ErrNoCorpus means no recordings were found for the language.
var ErrNoCorpus = errors.New("speechdata: no recordings found")

// EnvSharedDir overrides where the shared folder is (tests point it at a
// missing folder to check the fallback).
const EnvSharedDir = "HOTLINE_SHARED_DIR"

// Debian locations of the fallback data.
var (
	PocketSphinxTestData = "/usr/share/pocketsphinx/test/data"
	FestvoxRu            = "/usr/share/festival/voices/russian/msu_ru_nsh_clunits"
)

// festvoxMax bounds the Russian fallback to its shortest recordings, like
// the shared corpus, to keep test time reasonable.
const festvoxMax = 20

// SharedDir returns the shared data folder: $HOTLINE_SHARED_DIR if set,
// else ../shared beside the repository root (the folder with go.mod, found
// by walking up from the working directory). It may not exist.
func SharedDir() string {
	if d := os.Getenv(EnvSharedDir); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(dir), "shared")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Corpus returns the recordings for lang ("en" or "ru") and a short
// description of where they came from.
func Corpus(lang string) ([]Utterance, string, error) {
	if shared := SharedDir(); shared != "" {
		dir := filepath.Join(shared, "speech", lang)
		if us, err := readTSV(filepath.Join(dir, "transcripts.tsv")); err == nil && len(us) > 0 {
			return us, dir, nil
		}
	}
	switch lang {
	case "en":
		us, err := pocketsphinxData()
		if err != nil {
			return nil, "", err
		}
		return us, PocketSphinxTestData + " (Debian pocketsphinx-testdata)", nil
	case "ru":
		us, err := festvoxData()
		if err != nil {
			return nil, "", err
		}
		return us, FestvoxRu + " (Debian festvox-ru)", nil
	}
	return nil, "", fmt.Errorf("%w for language %q", ErrNoCorpus, lang)
}

func readTSV(path string) ([]Utterance, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dir := filepath.Dir(path)
	var us []Utterance
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, text, ok := strings.Cut(sc.Text(), "\t")
		if !ok || strings.TrimSpace(name) == "" {
			continue
		}
		p := filepath.Join(dir, strings.TrimSpace(name))
		if _, err := os.Stat(p); err != nil {
			continue
		}
		us = append(us, Utterance{Path: p, Text: strings.TrimSpace(text)})
	}
	return us, sc.Err()
}

// sphinxLine is "<s> words </s> (id)" in pocketsphinx transcription files.
var sphinxLine = regexp.MustCompile(`^\s*(?:<s>)?(.*?)(?:</s>)?\s*\(([^()]+)\)\s*$`)

func pocketsphinxData() ([]Utterance, error) {
	var us []Utterance
	for _, set := range []struct{ dir, file string }{
		{"cards", "cards.transcription"},
		{"librivox", "transcription"},
	} {
		dir := filepath.Join(PocketSphinxTestData, set.dir)
		data, err := os.ReadFile(filepath.Join(dir, set.file))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			m := sphinxLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			p := filepath.Join(dir, m[2]+".wav")
			if _, err := os.Stat(p); err != nil {
				continue
			}
			us = append(us, Utterance{Path: p, Text: strings.Join(strings.Fields(m[1]), " ")})
		}
	}
	if len(us) == 0 {
		return nil, fmt.Errorf("%w for en: neither ../shared/speech/en nor %s (install pocketsphinx-testdata)", ErrNoCorpus, PocketSphinxTestData)
	}
	return us, nil
}

// festvoxLine is `( ru_0001 "text" )` in etc/txt.done.data.
var festvoxLine = regexp.MustCompile(`^\(\s*(\S+)\s+"(.*)"\s*\)\s*$`)

func festvoxData() ([]Utterance, error) {
	data, err := os.ReadFile(filepath.Join(FestvoxRu, "etc", "txt.done.data"))
	if err != nil {
		return nil, fmt.Errorf("%w for ru: neither ../shared/speech/ru nor %s (install festvox-ru)", ErrNoCorpus, FestvoxRu)
	}
	type sized struct {
		u    Utterance
		size int64
	}
	var all []sized
	for _, line := range strings.Split(string(data), "\n") {
		m := festvoxLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		p := filepath.Join(FestvoxRu, "wav", m[1]+".wav")
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		// Stress marks (+) are for the synthesiser; the rest of the
		// punctuation is left for asr.Normalize.
		text := strings.ToLower(strings.ReplaceAll(m[2], "+", ""))
		all = append(all, sized{Utterance{Path: p, Text: text}, st.Size()})
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%w for ru in %s", ErrNoCorpus, FestvoxRu)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].size < all[j].size })
	var us []Utterance
	for _, s := range all[:min(festvoxMax, len(all))] {
		us = append(us, s.u)
	}
	return us, nil
}
