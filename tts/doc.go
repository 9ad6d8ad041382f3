// Package tts turns reply text into 20 ms PCM frames in the caller's
// language, streamed sentence by sentence so the first audio leaves before
// the whole reply is rendered, and cancellable mid-reply for barge-in.
//
// The package owns the Synthesizer interface the bot consumes and the
// plumbing every engine shares: text preparation for the ear (package
// textprep), sentence splitting, resampling to the requested rate, framing,
// back-pressure and cancellation (NewStream), a cache of rendered replies
// (Cache), per-language routing (ByLang) and a time-bounded fallback
// between engines (Fallback). Engines live in sub-packages (tts/espeak,
// tts/festival, tts/openai) and only implement Renderer: one prepared
// sentence in, PCM out.
package tts
