package vosk

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/asr"
	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/internal/speechdata"
)

// modelDir returns the installed model for lang or skips the test. It
// looks where `hotline models pull` puts models (HOTLINE_VOSK_MODEL_<LANG>
// overrides).
func modelDir(t *testing.T, lang string) string {
	t.Helper()
	if d := os.Getenv("HOTLINE_VOSK_MODEL_" + strings.ToUpper(lang)); d != "" {
		return d
	}
	name := OfficialModels[lang]
	root := repoRoot()
	for _, d := range []string{filepath.Join(root, "data", "models", name), filepath.Join(root, "models", name)} {
		if CheckModel(d) == nil {
			return d
		}
	}
	t.Skipf("no Vosk %s model in %s: run 'hotline models pull %s' or unpack %s.zip there",
		lang, filepath.Join(root, "data", "models"), lang, name)
	return ""
}

func repoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return dir
}

// TestCorpusWER runs the same streaming WER test as the sphinx engine on
// both languages, when a model is installed.
func TestCorpusWER(t *testing.T) {
	for _, tc := range []struct {
		lang   string
		maxWER float64
	}{
		{"en", 0.35},
		{"ru", 0.40},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			dir := modelDir(t, tc.lang)
			e, err := New(WithModel(tc.lang, dir))
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			us, src, err := speechdata.Corpus(tc.lang)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d recordings from %s", len(us), src)
			var tot asr.ErrorCounts
			for _, u := range us {
				pcm, info, err := audio.ReadWAVFile(u.Path)
				if err != nil {
					t.Fatal(err)
				}
				rs, err := asr.Transcribe(context.Background(), e, asr.StreamConfig{Lang: tc.lang, SampleRate: info.Rate}, pcm)
				if err != nil {
					t.Fatal(err)
				}
				c := asr.WER(u.Text, asr.FinalText(rs))
				tot = tot.Add(c)
				t.Logf("%.2f %q", c.Rate(), asr.FinalText(rs))
			}
			t.Logf("%s WER %.3f", tc.lang, tot.Rate())
			if tot.Rate() > tc.maxWER {
				t.Errorf("%s WER %.3f above %.2f", tc.lang, tot.Rate(), tc.maxWER)
			}
		})
	}
}

// TestTelephoneRecognition: the G.711 path at 8 kHz, judged by recognition
// (the sphinx model is wideband only and cannot judge it).
func TestTelephoneRecognition(t *testing.T) {
	for _, lang := range []string{"en", "ru"} {
		t.Run(lang, func(t *testing.T) {
			dir := modelDir(t, lang)
			e, err := New(WithModel(lang, dir))
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			us, _, err := speechdata.Corpus(lang)
			if err != nil {
				t.Fatal(err)
			}
			var wide, phone asr.ErrorCounts
			for _, u := range us {
				pcm, info, err := audio.ReadWAVFile(u.Path)
				if err != nil {
					t.Fatal(err)
				}
				narrow, err := audio.Resample(pcm, info.Rate, 8000)
				if err != nil {
					t.Fatal(err)
				}
				narrow = audio.DecodeMulaw(nil, audio.EncodeMulaw(nil, narrow))
				rw, err1 := asr.Transcribe(context.Background(), e, asr.StreamConfig{Lang: lang, SampleRate: info.Rate}, pcm)
				rp, err2 := asr.Transcribe(context.Background(), e, asr.StreamConfig{Lang: lang, SampleRate: 8000}, narrow)
				if err1 != nil || err2 != nil {
					t.Fatal(err1, err2)
				}
				wide = wide.Add(asr.WER(u.Text, asr.FinalText(rw)))
				phone = phone.Add(asr.WER(u.Text, asr.FinalText(rp)))
			}
			t.Logf("%s WER wideband %.3f, G.711 8 kHz %.3f", lang, wide.Rate(), phone.Rate())
			if phone.Rate() > wide.Rate()+0.15 {
				t.Errorf("telephone path WER %.3f vs %.3f wideband", phone.Rate(), wide.Rate())
			}
		})
	}
}

// TestModelFolders runs here without a model: a missing folder, an empty
// one, and folders with all the file names but truncated or garbage
// content must give clear errors, never a crash in libvosk.
func TestModelFolders(t *testing.T) {
	if !Available {
		t.Skip("built without libvosk")
	}
	ctx := context.Background()
	missing := filepath.Join(t.TempDir(), "vosk-model-small-ru-0.22")
	e, err := New(WithModel("ru", missing))
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.NewStream(ctx, asr.StreamConfig{Lang: "ru", SampleRate: 8000})
	if !errors.Is(err, asr.ErrModelMissing) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing folder: %v", err)
	}
	if _, err := e.NewStream(ctx, asr.StreamConfig{Lang: "en", SampleRate: 8000}); !errors.Is(err, asr.ErrUnsupportedLanguage) {
		t.Errorf("unconfigured language: %v", err)
	}
	e.Close()

	empty := t.TempDir()
	if err := CheckModel(empty); !errors.Is(err, asr.ErrModelBroken) || !strings.Contains(err.Error(), "am/final.mdl") {
		t.Errorf("empty folder: %v", err)
	}

	for _, tc := range []struct {
		name  string
		files map[string]string
	}{
		{"garbage", map[string]string{
			"am/final.mdl": "not a model", "conf/mfcc.conf": "--use-energy=false\n",
			"graph/HCLr.fst": "x", "graph/Gr.fst": "y",
		}},
		{"truncated", map[string]string{
			"am/final.mdl":   "\x00B<TransitionModel> <Topology> \x00\x00",
			"conf/mfcc.conf": "--sample-frequency=16000\n--use-energy=false\n",
			"conf/model.conf": "--min-active=200\n--max-active=3000\n--beam=10.0\n" +
				"--lattice-beam=2.0\n--acoustic-scale=1.0\n--frame-subsampling-factor=3\n",
			"graph/HCLG.fst":   "\xd6\xfd\xb2~\x07\x00\x00\x00vector",
			"graph/words.txt":  "<eps> 0\nhello 1\n",
			"ivector/final.ie": "\x00B<IvectorExtractor>",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for rel, content := range tc.files {
				p := filepath.Join(dir, rel)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			e, err := New(WithModel("en", dir))
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			err = e.Load("en")
			if !errors.Is(err, asr.ErrModelBroken) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("%s model: %v, want ErrModelBroken naming the folder", tc.name, err)
			}
			t.Log(err)
			// A second try reports it again rather than a cached nil.
			if _, err := e.NewStream(ctx, asr.StreamConfig{Lang: "en"}); !errors.Is(err, asr.ErrModelBroken) {
				t.Errorf("second attempt: %v", err)
			}
		})
	}
}

func TestParseResult(t *testing.T) {
	for _, tc := range []struct {
		name, js string
		text     string
		words    int
		conf     float64
		alts     int
	}{
		{"words", `{"result":[{"conf":1.0,"end":1.02,"start":0.51,"word":"ten"},{"conf":0.5,"end":1.5,"start":1.02,"word":"clubs"}],"text":"ten clubs"}`, "ten clubs", 2, 0.75, 0},
		{"empty", `{"text":""}`, "", 0, -1, 0},
		{"alternatives", `{"alternatives":[{"confidence":215.7,"result":[{"end":0.9,"start":0.3,"word":"ten"}],"text":"ten"},{"confidence":210.1,"result":[],"text":"then"},{"confidence":200,"result":[],"text":"ten"}]}`, "ten", 1, -1, 1},
	} {
		res, err := parseResult(tc.js)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if res.Text != tc.text || len(res.Words) != tc.words || res.Confidence != tc.conf || len(res.Alternatives) != tc.alts {
			t.Errorf("%s: %+v", tc.name, res)
		}
	}
	if _, err := parseResult("not json"); err == nil {
		t.Error("bad JSON accepted")
	}
	res, _ := parseResult(`{"result":[{"conf":1,"end":1.25,"start":0.5,"word":"a"}],"text":"a"}`)
	if w := res.Words[0]; w.Start != 500*time.Millisecond || w.End != 1250*time.Millisecond {
		t.Errorf("word times %v-%v", w.Start, w.End)
	}
}

func TestRebase(t *testing.T) {
	d := &decoder{fed: 3 * SampleRate, uttStart: 2 * SampleRate}
	res := asr.Result{Words: []asr.Word{{Start: 2100 * time.Millisecond, End: 2900 * time.Millisecond}}}
	d.rebase(&res)
	if w := res.Words[0]; w.Start != 100*time.Millisecond || w.End != 900*time.Millisecond {
		t.Errorf("running-clock times not rebased: %+v", w)
	}
	res = asr.Result{Words: []asr.Word{{Start: 100 * time.Millisecond, End: 900 * time.Millisecond}}}
	d.rebase(&res)
	if w := res.Words[0]; w.Start != 100*time.Millisecond {
		t.Errorf("utterance-clock times changed: %+v", w)
	}
}

// TestStreamsNoLeak: with a model, many streams open and close without
// leaking goroutines; without one, the failing path must not leak either.
func TestStreamsNoLeak(t *testing.T) {
	if !Available {
		t.Skip("built without libvosk")
	}
	before := runtime.NumGoroutine()
	e, _ := New(WithModel("en", filepath.Join(t.TempDir(), "missing")))
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s, err := e.NewStream(context.Background(), asr.StreamConfig{Lang: "en"}); err == nil {
				s.Close()
			}
		}()
	}
	wg.Wait()
	e.Close()
	time.Sleep(50 * time.Millisecond)
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines, %d before", n, before)
	}
}
