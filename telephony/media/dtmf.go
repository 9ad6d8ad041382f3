package media

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Digit is one DTMF key: '0'-'9', '*', '#', 'A'-'D'.
type Digit struct {
	Key      byte
	Duration time.Duration // zero when the end was not seen (SIP INFO, lost end packets)
}

func (d Digit) String() string { return string(d.Key) }

const dtmfKeys = "0123456789*#ABCD"

// EventCode maps a key to its RFC 4733 event code.
func EventCode(key byte) (uint8, error) {
	if key >= 'a' && key <= 'd' {
		key -= 'a' - 'A'
	}
	for i := range len(dtmfKeys) {
		if dtmfKeys[i] == key {
			return uint8(i), nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrBadDigit, key)
}

// dtmfEvent is the 4-byte RFC 4733 telephone-event payload.
type dtmfEvent struct {
	Code     uint8
	End      bool
	Volume   uint8
	Duration uint16 // in RTP clock units
}

func parseDTMF(p []byte) (dtmfEvent, bool) {
	if len(p) < 4 {
		return dtmfEvent{}, false
	}
	return dtmfEvent{
		Code:     p[0],
		End:      p[1]&0x80 != 0,
		Volume:   p[1] & 0x3f,
		Duration: binary.BigEndian.Uint16(p[2:4]),
	}, true
}

func (e dtmfEvent) marshal(dst []byte) []byte {
	b1 := e.Volume & 0x3f
	if e.End {
		b1 |= 0x80
	}
	return append(dst, e.Code, b1, byte(e.Duration>>8), byte(e.Duration))
}

// dtmfReceiver turns telephone-event packets into digits. Every event has
// its own RTP timestamp, repeated by all its packets (and the three
// redundant end packets), so the timestamp is the de-duplication key. A
// digit is reported on the first packet seen, not on the end: a caller
// navigating a menu should not wait for the key release, and the start
// packet is the one most often lost.
type dtmfReceiver struct {
	clock   int
	haveTS  bool
	lastTS  uint32
	ended   bool
	pending *Digit
}

// receive returns a digit when the packet starts a new event.
func (r *dtmfReceiver) receive(ts uint32, payload []byte) (Digit, bool) {
	ev, ok := parseDTMF(payload)
	if !ok || int(ev.Code) >= len(dtmfKeys) {
		return Digit{}, false
	}
	if r.haveTS && ts == r.lastTS {
		return Digit{}, false
	}
	r.haveTS, r.lastTS = true, ts
	d := Digit{Key: dtmfKeys[ev.Code]}
	if ev.End && r.clock > 0 {
		d.Duration = time.Duration(ev.Duration) * time.Second / time.Duration(r.clock)
	}
	return d, true
}
