// Package webrtc answers in-app calls (mobile app, web portal) over
// WebRTC with pion: the same bot pipeline as SIP calls, with a data
// channel for live transcript and typed input.
//
// # Signalling
//
// WHIP-style over HTTP (see Register). The app's backend or signed-in user
// gets a call token (POST /api/v1/calls/token): HMAC-SHA256 signed, bound to
// a subject and a single-use call id, valid for a few minutes. The app then
// POSTs its SDP offer with "Authorization: Bearer <token>" and gets the
// answer (201, Location /api/v1/calls/<call id>). Its own ICE candidates may
// follow by PATCH (trickle ICE, application/trickle-ice-sdpfrag); DELETE
// hangs up. The answer already holds all of the server's candidates.
//
// # Media
//
// Opus (libopus via cgo, 48 kHz mono, 20 ms, VoIP, FEC, PLC for lost
// packets) is used whenever offered, else PCMU. DTLS-SRTP is always on, as
// WebRTC requires. Call.ReadFrame yields 20 ms frames at Call.SampleRate;
// Call.WriteFrame takes any supported rate and plays at real time; silence
// is sent while nothing is queued.
//
// # Events
//
// The app opens a data channel labelled "events". The server sends JSON
// {"type": "partial"|"final"|"reply"|"handoff"|"appeal"|"end", "text", ...}
// with Call.SendEvent; the app sends {"type":"text","text":...} (Call.Text)
// and {"type":"dtmf","digit":"1"} (Call.DTMF). Inbound messages are rate
// limited; a flood closes the channel, not the call.
//
// # Production: STUN/TURN with coturn
//
// Apps behind symmetric NAT or strict firewalls need a TURN relay. Run
// coturn next to Hotline:
//
//	# /etc/turnserver.conf
//	listening-port=3478
//	tls-listening-port=5349
//	realm=hotline.example.org
//	use-auth-secret
//	static-auth-secret=<long random secret>
//	cert=/etc/ssl/hotline.pem
//	pkey=/etc/ssl/hotline.key
//	min-port=49160
//	max-port=49200
//	no-multicast-peers
//	denied-peer-ip=10.0.0.0-10.255.255.255   # and other private ranges
//
// and configure the server with WithTURNSecret(secret,
// "turn:hotline.example.org:3478?transport=udp",
// "turns:hotline.example.org:5349?transport=tcp"): every call token then
// carries TURN credentials that expire (coturn's REST API scheme), so no
// permanent password ships in an app. Limit the server's own UDP ports with
// WithUDPPortRange and, on a cloud VM with a public 1:1 NAT address, set
// WithNAT1To1IPs.
package webrtc
