package webrtc

import "github.com/hotline-ivr/hotline/voice"

// A WebRTC call plugs into the channel-independent pipeline as it is.
var _ voice.Conn = (*Call)(nil)
