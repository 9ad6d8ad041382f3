// Package appeal is Hotline's appeals (обращения) domain: one record per
// request from any channel (voice, chat, callback), with a public number,
// the caller's contact encrypted at rest, the conversation transcript, the
// knowledge articles the bot tried, a status machine with full history,
// notifications on every change and automatic escalation of overdue
// statuses.
//
// Decisions:
//
//   - Numbers are 9 random digits (first non-zero) and a Damm check digit,
//     said in groups "123 456 789 0". Damm catches every single-digit error
//     and every adjacent transposition, which are the two ways a number is
//     misheard or mistyped; unlike Verhoeff it needs one 10×10 table and no
//     permutations. Random numbers cannot be guessed from one's own.
//   - Statuses: accepted → in_progress → under_approval → done | rejected;
//     see Transitions. Rejection needs a reason. done and rejected are final.
//   - Time limits in working days (Moscow calendar with holidays): the
//     processing stage (accepted and in_progress) has Limits.Processing
//     days from registration, approval has Limits.Approval days from
//     entering under_approval; returning from approval to in_progress
//     starts a new processing period. An overdue appeal is escalated once
//     per stage: marked, noted and notified.
//   - The contact is sealed with AES-256-GCM bound to the appeal number, the
//     key id stored beside the ciphertext for rotation; a keyed hash of the
//     normalised phone finds a caller's open appeals without decrypting.
//   - Oversize transcripts are refused (ErrTranscriptTooLarge, HTTP 413)
//     rather than truncated: the limits (Limits.MaxTurns, MaxTranscriptBytes)
//     are far above a real conversation, so only a runaway client hits them,
//     and a silent cut would hide the bug.
//   - LookupForCaller (status by voice) needs the number and the last four
//     digits of the caller's phone. A wrong second factor and an unknown
//     number give the same ErrLookupFailed, so the lookup does not reveal
//     which numbers exist; failures are limited per number. A wrong check
//     digit is reported as such: it says nothing about existing appeals and
//     lets the bot ask the caller to repeat.
//   - Storage is behind Repository; appeal/sqlitestore implements it.
package appeal
