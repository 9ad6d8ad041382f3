// Package sip answers phone calls over SIP (UDP, TCP, optionally TLS) on
// github.com/emiago/sipgo and gives each answered call to a CallHandler as
// a *Call: decoded 20 ms frames in, paced frames out, DTMF, hold state,
// transfer and hangup. Media (RTP, jitter buffer, RTCP, RFC 4733) lives in
// telephony/media and codecs in telephony/codec; this package negotiates
// SDP and runs the dialog.
//
// # Call lifecycle
//
// An INVITE is checked in this order: source allow-list (403), re-INVITE
// routing (To tag present), digest authentication (401 challenge, 403 for
// a wrong password), draining (503 + Retry-After), call limit (486),
// session timer (400 for a malformed Session-Expires or Min-SE, 422 below
// our Min-SE), SDP and SRTP negotiation (488 + Warning). Then an RTP port pair is
// allocated, 100 and 180 are sent, the optional ring time passes (a
// CANCEL ends the attempt with 487, sent by the transaction layer), 200
// with our SDP answer (or our offer, see Late offer) goes out and is
// retransmitted until ACK. Only then the handler runs, in the
// INVITE's goroutine: the transaction, the dialog, the media session and
// the handler share one scope, and when the handler returns everything is
// torn down in order (BYE if the caller is still there, media closed and
// waited for, ports released, call unregistered).
//
// The handler's ctx is cancelled with a cause: ErrRemoteHangup (BYE),
// ErrRTPTimeout (no RTP for WithNoRTPTimeout while not on hold: the peer
// vanished), ErrSessionExpired (the session timer ran out: the peer's
// signalling vanished, on hold too), ErrShuttingDown (grace period over).
//
// # Behind a proxy
//
// Responses copy Record-Route, in-dialog requests (BYE, REFER) follow the
// route set, and without one they go to the INVITE's source address rather
// than its Contact (NAT). Contact carries the advertised host
// (WithPublicAddress) and the transport's port. OPTIONS answer 200 (with
// Allow and Supported: timer) while
// serving and 503 while draining, so a Kamailio dispatcher in front of
// several instances takes a draining node out of rotation. The allow-list
// then holds the proxy's address.
//
// # Codecs
//
// G.722 is preferred whenever offered (16 kHz speech for ASR), then PCMU,
// then PCMA; telephone-event/8000 is accepted with whatever dynamic payload
// type the caller offers. The answer has exactly one codec plus
// telephone-event, ptime 20. A re-INVITE (or an UPDATE with SDP) may move
// media, change the direction (hold: sendonly/inactive, or c=0.0.0.0) and
// change the codec: the call keeps its codec while the re-offer still has
// it, and otherwise switches to our best codec of the offer (a PBX
// re-anchors media after a transfer). The media switches at a frame
// boundary; the call's SampleRate does not change (a G.722 call moved to
// PCMU still reads and writes 16 kHz, converted in the media), and the
// answer names the new codec. An SDP describing an unchanged session
// keeps its o= version (RFC 3264 §8). The answer keeps the offer's
// transport (RTP/AVP, RTP/AVPF, RTP/SAVP, RTP/SAVPF).
//
// # SRTP
//
// SRTP keyed by SDES (RFC 4568) follows WithSRTP: SRTPOptional (the
// default) encrypts when the caller offers RTP/SAVP or SAVPF with a=crypto
// (or "best effort" a=crypto in an RTP/AVP offer) and takes plain RTP
// otherwise; SRTPRequired refuses plain offers with 488; SRTPOff refuses
// RTP/SAVP with 488. Of the caller's crypto lines, each parsed strictly
// (media.ParseCrypto), the one whose suite we prefer most
// (media.SRTPSuites: AES_CM_128_HMAC_SHA1_80 first) is answered with the
// same tag and a fresh random key of ours; no acceptable line is a 488
// naming each line's fault (keys never reach logs or Warning headers). A
// re-INVITE repeating the caller's key keeps both keys; a new key from
// the caller re-keys both directions; switching SRTP on or off mid-call
// is refused. DTLS-SRTP (UDP/TLS/RTP/SAVP) is not supported.
//
// # Late offer
//
// An INVITE without SDP gets our offer in the 200: every codec in
// preference order plus telephone-event/8000 (payload type 101), plain
// RTP/AVP, or RTP/SAVP with a crypto line per suite under SRTPRequired.
// The caller's answer comes in the ACK; the media session starts then
// and the handler runs. An ACK without SDP, or with an answer we cannot
// use, ends the call at once with a BYE whose Reason header (RFC 3326)
// says why; a re-INVITE before that ACK gets 491.
//
// # Session timers
//
// RFC 4028, so trunks and PBXs that refresh sessions keep their calls, and
// a call whose peer's signalling vanished ends even on hold (no RTP to
// time out). An INVITE's Session-Expires is answered in the 200 (with
// Require: timer when the caller supports timers), the caller refreshing
// unless it asked us to (refresher=uas) or does not support timers; below
// our Min-SE (WithMinSE, 90 s) a caller that supports timers gets 422
// with Min-SE, another is raised to it. An INVITE without one gets our
// interval (WithSessionExpires, 30 min; 0: none). Every re-INVITE or
// UPDATE (with or without SDP) answered 2xx refreshes, and its 2xx
// carries the interval. When we refresh, we send at half the interval an
// UPDATE without SDP if the caller's INVITE allows UPDATE (a 405 or 501
// to it switches to re-INVITEs), else a re-INVITE offering the unchanged
// session (same SDP, same version); no
// answer, 408 or 481 ends the call, 491 and other failures are tried
// again. A session not refreshed by its expiry (the interval less
// min(32 s, a third of it)) ends with a BYE whose Reason says so
// (cause 408) and the cause ErrSessionExpired. Responses and OPTIONS say
// Supported: timer; a 200 over UDP too large for sipgo (a late offer with
// every SRTP suite) leaves out Allow and, for a caller without timer
// support, the timer headers.
//
// # Next: the voice pipeline
//
// The pipeline (asr + bot + tts per call) plugs in as a CallHandler:
// ReadFrame feeds the recogniser (skip while Held), WriteFrame plays TTS
// frames (blocking paces the synthesiser to real time), ClearPlayback
// implements barge-in, DTMF drives menus, Transfer hands over to the
// operator queue with the appeal number, Draining asks it to wrap up.
package sip
