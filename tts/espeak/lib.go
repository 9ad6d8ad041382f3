package espeak

/*
#cgo LDFLAGS: -lespeak-ng
#include <stdlib.h>
#include <espeak-ng/speak_lib.h>

extern int goEspeakSynthCallback(short *wav, int numsamples, espeak_EVENT *events);
*/
import "C"

import (
	"strings"
	"unsafe"
)

// This file is the only one that calls libespeak-ng. Every function here
// runs on the worker goroutine (see worker.go): the library keeps its state
// in process globals and is not thread-safe.

// current is the job whose audio the synthesis callback receives. It is a
// package variable because the C callback has no other way back to Go
// state; only the worker goroutine sets it, around espeak_Synth, and the
// callback runs synchronously inside that call on the same goroutine.
var current *job

//export goEspeakSynthCallback
func goEspeakSynthCallback(wav *C.short, n C.int, _ *C.espeak_EVENT) C.int {
	j := current
	if j == nil {
		return 1
	}
	if wav == nil || n <= 0 {
		return 0 // end of synthesis, or an events-only call
	}
	if err := j.ctx.Err(); err != nil {
		j.err = err
		return 1 // abort: barge-in or the stream closed
	}
	// emit does not keep the slice, so the C buffer is used in place.
	pcm := unsafe.Slice((*int16)(unsafe.Pointer(wav)), int(n))
	if err := j.emit(pcm, j.sampleRate); err != nil {
		j.err = err
		return 1
	}
	return 0
}

// libInit initialises the library for synchronous synthesis with the
// callback every chunkMS of audio, and returns its sample rate and data
// folder.
func libInit(chunkMS int) (rate int, dataDir string) {
	r := C.espeak_Initialize(C.AUDIO_OUTPUT_SYNCHRONOUS, C.int(chunkMS), nil, C.espeakINITIALIZE_DONT_EXIT)
	if r <= 0 {
		return 0, ""
	}
	C.espeak_SetSynthCallback((*C.t_espeak_callback)(C.goEspeakSynthCallback))
	var path *C.char
	C.espeak_Info(&path)
	if path != nil {
		dataDir = C.GoString(path)
	}
	return int(r), dataDir
}

// voiceInfo is one installed voice.
type voiceInfo struct {
	name, identifier string
	languages        []string
}

func libListVoices() []voiceInfo {
	list := C.espeak_ListVoices(nil)
	if list == nil {
		return nil
	}
	var out []voiceInfo
	for _, v := range unsafe.Slice(list, 10000) {
		if v == nil {
			break
		}
		vi := voiceInfo{name: C.GoString(v.name), identifier: C.GoString(v.identifier)}
		// languages: (priority byte, NUL-terminated name)* then a 0 byte.
		p := unsafe.Pointer(v.languages)
		for p != nil && *(*byte)(p) != 0 {
			lang := C.GoString((*C.char)(unsafe.Add(p, 1)))
			vi.languages = append(vi.languages, strings.ToLower(lang))
			p = unsafe.Add(p, 1+len(lang)+1)
		}
		out = append(out, vi)
	}
	return out
}

func libSetVoice(name string) bool {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	return C.espeak_SetVoiceByName(cs) == C.EE_OK
}

func libSetParams(wpm, pitch int) {
	C.espeak_SetParameter(C.espeakRATE, C.int(wpm), 0)
	C.espeak_SetParameter(C.espeakPITCH, C.int(pitch), 0)
}

// libSynth renders text through the callback; it returns when done or
// aborted.
func libSynth(text string) bool {
	cs := C.CString(text)
	defer C.free(unsafe.Pointer(cs))
	r := C.espeak_Synth(unsafe.Pointer(cs), C.size_t(len(text)+1), 0, C.POS_CHARACTER, 0,
		C.espeakCHARS_UTF8, nil, nil)
	return r == C.EE_OK
}
