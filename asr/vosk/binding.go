//go:build !novosk

package vosk

import (
	"fmt"
	"unsafe"

	vosk "github.com/alphacep/vosk-api/go"
)

// Available reports whether this build links libvosk (false with the novosk
// build tag).
const Available = true

// The binding returns a model or recognizer wrapping a nil C pointer (and a
// nil error) when libvosk fails, and crashes on the next call. Its only
// field is that pointer and it is unexported, so it is read through unsafe;
// the size checks below make a binding whose struct changed fail loudly
// instead of reading the wrong word.
var (
	_ [unsafe.Sizeof(vosk.VoskModel{}) - unsafe.Sizeof(uintptr(0))]struct{}
	_ [unsafe.Sizeof(uintptr(0)) - unsafe.Sizeof(vosk.VoskModel{})]struct{}
	_ [unsafe.Sizeof(vosk.VoskRecognizer{}) - unsafe.Sizeof(uintptr(0))]struct{}
	_ [unsafe.Sizeof(uintptr(0)) - unsafe.Sizeof(vosk.VoskRecognizer{})]struct{}
)

func cPointer[T any](p *T) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(p)) }

// setLogLevel: Kaldi logs to stderr; -1 keeps only errors out of the way
// of the service's own structured log.
func setLogLevel(level int) { vosk.SetLogLevel(level) }

type model struct{ m *vosk.VoskModel }

func loadModel(dir string) (*model, error) {
	m, err := vosk.NewModel(dir)
	if err != nil {
		return nil, err
	}
	if m == nil || cPointer(m) == nil {
		return nil, fmt.Errorf("libvosk could not load it")
	}
	return &model{m}, nil
}

// free drops the engine's reference; recognizers hold their own, so a model
// freed while streams run stays alive until they end.
func (m *model) free() { m.m.Free() }

type recognizer struct{ r *vosk.VoskRecognizer }

func newRecognizer(m *model, rate float64, alternatives int) (*recognizer, error) {
	r, err := vosk.NewRecognizer(m.m, rate)
	if err != nil {
		return nil, err
	}
	if r == nil || cPointer(r) == nil {
		return nil, fmt.Errorf("libvosk could not create a recognizer")
	}
	r.SetWords(1)
	if alternatives > 0 {
		r.SetMaxAlternatives(alternatives + 1) // the best one plus the rest
	}
	return &recognizer{r}, nil
}

// accept feeds 16-bit PCM. It returns true when Vosk's endpointer closed
// an utterance.
func (r *recognizer) accept(pcm []int16) (bool, error) {
	// The samples are already little-endian 16-bit in memory on every
	// platform Vosk ships for; the binding copies them to C.
	b := unsafe.Slice((*byte)(unsafe.Pointer(&pcm[0])), 2*len(pcm))
	switch r.r.AcceptWaveform(b) {
	case 1:
		return true, nil
	case 0:
		return false, nil
	}
	return false, fmt.Errorf("vosk: accept_waveform failed")
}

func (r *recognizer) result() string  { return r.r.Result() }
func (r *recognizer) partial() string { return r.r.PartialResult() }
func (r *recognizer) final() string   { return r.r.FinalResult() }
func (r *recognizer) reset()          { r.r.Reset() }
func (r *recognizer) free()           { r.r.Free() }
