package sphinx

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hotline-ivr/hotline/asr"
	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/internal/speechdata"
)

// shared is one engine for the tests that do not test the engine's own
// life cycle: loading a decoder takes a while.
var shared struct {
	once sync.Once
	e    *Engine
	err  error
}

func engine(t testing.TB) *Engine {
	t.Helper()
	shared.once.Do(func() { shared.e, shared.err = New(WithMaxStreams(4)) })
	if shared.err != nil {
		t.Fatalf("sphinx engine: %v", shared.err)
	}
	return shared.e
}

type recording struct {
	speechdata.Utterance
	pcm  []int16
	rate int
}

func corpus(t testing.TB) []recording {
	t.Helper()
	us, src, err := speechdata.Corpus("en")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("English recordings: %d from %s", len(us), src)
	var rs []recording
	for _, u := range us {
		pcm, info, err := audio.ReadWAVFile(u.Path)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, recording{u, pcm, info.Rate})
	}
	return rs
}

// transcribe streams pcm in 20 ms frames and returns the joined finals.
func transcribe(t testing.TB, rec asr.Recognizer, pcm []int16, rate int) (string, []asr.Result) {
	t.Helper()
	rs, err := asr.Transcribe(context.Background(), rec, asr.StreamConfig{Lang: "en", SampleRate: rate}, pcm)
	if err != nil {
		t.Fatalf("transcribe: %v", err)
	}
	return asr.FinalText(rs), rs
}

// rssKB is the resident set of the process, C allocations included.
func rssKB(t testing.TB) int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	t.Skip("no VmRSS")
	return 0
}
