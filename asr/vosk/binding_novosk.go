//go:build novosk

package vosk

import "github.com/hotline-ivr/hotline/asr"

// Available reports whether this build links libvosk (false with the novosk
// build tag).
const Available = false

func setLogLevel(int) {}

type model struct{}

func loadModel(string) (*model, error) { return nil, asr.ErrEngineUnavailable }
func (*model) free()                   {}

type recognizer struct{}

func newRecognizer(*model, float64, int) (*recognizer, error) {
	return nil, asr.ErrEngineUnavailable
}
func (*recognizer) accept([]int16) (bool, error) { return false, asr.ErrEngineUnavailable }
func (*recognizer) result() string               { return "{}" }
func (*recognizer) partial() string              { return "{}" }
func (*recognizer) final() string                { return "{}" }
func (*recognizer) reset()                       {}
func (*recognizer) free()                        {}
