package sphinx

// #cgo pkg-config: pocketsphinx
// #include <stdlib.h>
// #include <pocketsphinx.h>
// #include <sphinxbase/err.h>
//
// // hl_init builds a decoder from argv. cmd_ln_init is variadic, which cgo
// // cannot call, so the arguments go through cmd_ln_parse_r.
// static ps_decoder_t *hl_init(int argc, char **argv) {
// 	cmd_ln_t *cfg = cmd_ln_parse_r(NULL, ps_args(), argc, argv, 1);
// 	if (cfg == NULL) return NULL;
// 	ps_decoder_t *ps = ps_init(cfg);
// 	cmd_ln_free_r(cfg); // ps_init holds its own reference
// 	return ps;
// }
//
// // hl_quiet turns off sphinxbase logging, which otherwise writes the whole
// // configuration and per-utterance statistics to stderr. It is process
// // global, and nothing in Hotline wants that output.
// static void hl_quiet(void) { err_set_logfp(NULL); }
//
// static double hl_prob(ps_decoder_t *ps, int32 logp) {
// 	return logmath_exp(ps_get_logmath(ps), logp);
// }
import "C"

import (
	"fmt"
	"strings"
	"time"
	"unsafe"
)

// psDecoder is one ps_decoder_t. It is used by one goroutine at a time.
type psDecoder struct {
	ps      *C.ps_decoder_t
	started bool // inside ps_start_utt/ps_end_utt
	// base is the frame count of earlier utterances in the stream:
	// segment frames count from the start of the stream, not of the
	// utterance.
	base int
}

func newPSDecoder(args []string) (*psDecoder, error) {
	C.hl_quiet()
	argv := make([]*C.char, len(args))
	for i, a := range args {
		argv[i] = C.CString(a)
	}
	defer func() {
		for _, p := range argv {
			C.free(unsafe.Pointer(p))
		}
	}()
	// argv lives in C memory only through its elements; the array itself is
	// Go memory holding C pointers, which cgo allows passing.
	ps := C.hl_init(C.int(len(argv)), (**C.char)(unsafe.Pointer(&argv[0])))
	if ps == nil {
		return nil, errInit
	}
	return &psDecoder{ps: ps}, nil
}

// startStream resets the per-stream state (frame count, and the cepstral
// mean and noise estimates, which belong to one caller's channel).
func (d *psDecoder) startStream() {
	C.ps_start_stream(d.ps)
	d.base = 0
}

func (d *psDecoder) free() {
	if d.ps != nil {
		C.ps_free(d.ps)
		d.ps = nil
	}
}

func (d *psDecoder) process(pcm []int16) error {
	if !d.started {
		if C.ps_start_utt(d.ps) < 0 {
			return fmt.Errorf("sphinx: ps_start_utt failed")
		}
		d.started = true
	}
	if C.ps_process_raw(d.ps, (*C.int16)(unsafe.Pointer(&pcm[0])), C.size_t(len(pcm)), 0, 0) < 0 {
		return fmt.Errorf("sphinx: ps_process_raw failed")
	}
	return nil
}

func (d *psDecoder) hyp() string {
	if !d.started {
		return ""
	}
	var score C.int32
	h := C.ps_get_hyp(d.ps, &score)
	if h == nil {
		return ""
	}
	return C.GoString(h)
}

// frameDur is PocketSphinx's default frame rate (-frate 100).
const frameDur = 10 * time.Millisecond

type segWord struct {
	text       string
	start, end time.Duration
	conf       float64
}

// end closes the utterance and reads the best hypothesis, its posterior,
// the word segmentation and up to nbest alternatives.
func (d *psDecoder) end(nbest int) (text string, conf float64, words []segWord, alts []string, err error) {
	if !d.started {
		return "", -1, nil, nil, nil
	}
	d.started = false
	if C.ps_end_utt(d.ps) < 0 {
		return "", -1, nil, nil, fmt.Errorf("sphinx: ps_end_utt failed")
	}
	base := d.base
	d.base += int(C.ps_get_n_frames(d.ps))
	var score C.int32
	h := C.ps_get_hyp(d.ps, &score)
	if h == nil {
		return "", -1, nil, nil, nil
	}
	text = C.GoString(h)
	conf = clamp01(float64(C.hl_prob(d.ps, C.ps_get_prob(d.ps))))
	for seg := C.ps_seg_iter(d.ps); seg != nil; seg = C.ps_seg_next(seg) {
		w, ok := cleanWord(C.GoString(C.ps_seg_word(seg)))
		if !ok {
			continue
		}
		var sf, ef C.int
		C.ps_seg_frames(seg, &sf, &ef)
		var ascr, lscr, lback C.int32
		post := C.ps_seg_prob(seg, &ascr, &lscr, &lback)
		words = append(words, segWord{
			text:  w,
			start: time.Duration(int(sf)-base) * frameDur,
			end:   time.Duration(int(ef)+1-base) * frameDur,
			conf:  clamp01(float64(C.hl_prob(d.ps, post))),
		})
	}
	// ps_get_prob is the posterior of the whole word sequence, which goes
	// to zero with length; the mean word posterior is what a dialogue
	// manager can compare across utterances.
	if len(words) > 0 {
		var sum float64
		for _, w := range words {
			sum += w.conf
		}
		conf = sum / float64(len(words))
	}
	if nbest > 0 && text != "" {
		seen := map[string]bool{text: true}
		// The A* search over the lattice can yield the same word string
		// many times (different segmentations); bound the work.
		it := C.ps_nbest(d.ps)
		for i := 0; it != nil && len(alts) < nbest && i < 20*nbest; i++ {
			var s C.int32
			if nh := C.ps_nbest_hyp(it, &s); nh != nil {
				a := cleanText(C.GoString(nh))
				if a != "" && !seen[a] {
					seen[a] = true
					alts = append(alts, a)
				}
			}
			it = C.ps_nbest_next(it)
		}
		if it != nil {
			C.ps_nbest_free(it)
		}
	}
	return text, conf, words, alts, nil
}

func (d *psDecoder) reset() {
	if d.started {
		C.ps_end_utt(d.ps)
		d.base += int(C.ps_get_n_frames(d.ps))
		d.started = false
	}
}

// cleanWord maps a segment word to output: fillers and sentence markers
// (<s>, </s>, <sil>, [NOISE], ++GARBAGE++) are dropped, alternative
// pronunciation markers ("the(2)") removed.
func cleanWord(w string) (string, bool) {
	if w == "" || strings.HasPrefix(w, "<") || strings.HasPrefix(w, "[") || strings.HasPrefix(w, "+") {
		return "", false
	}
	if i := strings.IndexByte(w, '('); i > 0 {
		w = w[:i]
	}
	return w, true
}

func cleanText(s string) string {
	var out []string
	for _, w := range strings.Fields(s) {
		if c, ok := cleanWord(w); ok {
			out = append(out, c)
		}
	}
	return strings.Join(out, " ")
}

func clamp01(x float64) float64 { return max(0, min(1, x)) }
