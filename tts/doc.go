// Package tts turns reply text into 20 ms PCM frames in the caller's
// language; engines live in sub-packages.
package tts
