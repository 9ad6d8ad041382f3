// Package calls is the channel-independent handler of voice calls and
// their records. A telephony channel (SIP here, WebRTC later) gives each
// answered call to Handler.Handle as a voice.Conn with a CallInfo; the
// handler runs the voice pipeline (voice.Run), performs the handoff the
// bot decided on (a blind SIP REFER to the queue's configured address, or
// a callback request when the call cannot be handed over), and records
// the call with its turns and per-turn latencies in SQLite, served at
// /api/v1/calls.
//
// Caller numbers are stored masked (redact.Digits: the last digits
// only); the full number lives sealed in the appeal the bot created, when
// it created one.
package calls
