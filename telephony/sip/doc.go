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
// a wrong password), draining (503 + Retry-After), call limit (486), SDP
// negotiation (488 + Warning). Then an RTP port pair is allocated, 100 and
// 180 are sent, the optional ring time passes (a CANCEL ends the attempt
// with 487, sent by the transaction layer), 200 with our SDP answer goes
// out and is retransmitted until ACK. Only then the handler runs, in the
// INVITE's goroutine: the transaction, the dialog, the media session and
// the handler share one scope, and when the handler returns everything is
// torn down in order (BYE if the caller is still there, media closed and
// waited for, ports released, call unregistered).
//
// The handler's ctx is cancelled with a cause: ErrRemoteHangup (BYE),
// ErrRTPTimeout (no RTP for WithNoRTPTimeout while not on hold: the peer
// vanished), ErrShuttingDown (grace period over).
//
// # Behind a proxy
//
// Responses copy Record-Route, in-dialog requests (BYE, REFER) follow the
// route set, and without one they go to the INVITE's source address rather
// than its Contact (NAT). Contact carries the advertised host
// (WithPublicAddress) and the transport's port. OPTIONS answer 200 while
// serving and 503 while draining, so a Kamailio dispatcher in front of
// several instances takes a draining node out of rotation. The allow-list
// then holds the proxy's address.
//
// # Codecs
//
// G.722 is preferred whenever offered (16 kHz speech for ASR), then PCMU,
// then PCMA; telephone-event/8000 is accepted with whatever dynamic payload
// type the caller offers. The answer has exactly one codec plus
// telephone-event, ptime 20. A re-INVITE may move media or change the
// direction (hold: sendonly/inactive, or c=0.0.0.0) but not the codec.
//
// # Not yet done
//
// SRTP (SDES) offers (RTP/SAVP) are refused with 488; late offer (INVITE
// without SDP) is refused with 488; session timers (RFC 4028) are not
// negotiated: a vanished peer is detected by the RTP timeout instead.
//
// # Next: the voice pipeline
//
// The pipeline (asr + bot + tts per call) plugs in as a CallHandler:
// ReadFrame feeds the recogniser (skip while Held), WriteFrame plays TTS
// frames (blocking paces the synthesiser to real time), ClearPlayback
// implements barge-in, DTMF drives menus, Transfer hands over to the
// operator queue with the appeal number, Draining asks it to wrap up.
package sip
