package tts

import "time"

// NewFakeEngine is the tests' fakeEngine (a tone per word, delay per
// chunk) for the external test package.
func NewFakeEngine(delay time.Duration) Synthesizer { return &fakeEngine{delay: delay} }
