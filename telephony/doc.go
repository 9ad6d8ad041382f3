// Package telephony connects callers' audio to the bot: SIP calls
// (telephony/sip) and in-app WebRTC calls (telephony/webrtc).
package telephony
