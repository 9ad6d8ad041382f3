package webrtc

import (
	"encoding/json"
	"time"

	"github.com/pion/webrtc/v4"

	tmedia "github.com/hotline-ivr/hotline/telephony/media"
)

// EventsLabel is the data channel the app opens for live events.
const EventsLabel = "events"

// bucket is a token-bucket rate limiter with an injected clock.
type bucket struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func (b *bucket) allow(now time.Time) bool {
	if b.last.IsZero() {
		b.tokens = b.burst
	} else {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// onDataChannel adopts the app's "events" channel; anything else is
// closed, as nothing would read it.
func (c *Call) onDataChannel(d *webrtc.DataChannel) {
	c.emu.Lock()
	if d.Label() != EventsLabel || c.dc != nil {
		c.emu.Unlock()
		c.log.Debug("refusing data channel", "label", d.Label())
		_ = d.Close()
		return
	}
	c.dc = d
	c.emu.Unlock()
	d.OnOpen(func() {
		c.emu.Lock()
		defer c.emu.Unlock()
		if c.dcDead {
			return
		}
		c.dcOpen = true
		for _, b := range c.backlog {
			_ = d.SendText(string(b))
		}
		c.backlog = nil
	})
	d.OnClose(func() {
		c.emu.Lock()
		c.dcOpen, c.dcDead = false, true
		c.emu.Unlock()
	})
	d.OnMessage(c.onMessage)
}

// onMessage runs on pion's SCTP goroutine: it must not block, so full
// channels drop and a flood is cut off.
func (c *Call) onMessage(m webrtc.DataChannelMessage) {
	c.lmu.Lock()
	ok := len(m.Data) <= c.srv.cfg.dcMaxMessage && c.limiter.allow(c.srv.cfg.now())
	c.lmu.Unlock()
	if !ok {
		c.dropEvent("rate limit or size")
		return
	}
	var ev Event
	if err := json.Unmarshal(m.Data, &ev); err != nil {
		c.dropEvent("not JSON")
		return
	}
	switch ev.Type {
	case "text":
		if ev.Text == "" {
			return
		}
		select {
		case c.text <- ev.Text:
			c.eventsIn.Add(1)
		default:
			c.dropEvent("text queue full")
		}
	case "dtmf":
		if len(ev.Digit) != 1 {
			c.dropEvent("bad digit")
			return
		}
		if _, err := tmedia.EventCode(ev.Digit[0]); err != nil {
			c.dropEvent("bad digit")
			return
		}
		select {
		case c.dtmf <- Digit{Key: ev.Digit[0]}:
			c.eventsIn.Add(1)
		default:
			c.dropEvent("dtmf queue full")
		}
	default:
		c.dropEvent("unknown type")
	}
}

// dropEvent counts a dropped inbound message; past the abuse limit the
// channel is closed (the call's audio goes on) after telling the app why.
func (c *Call) dropEvent(why string) {
	n := c.eventsDropped.Add(1)
	if n == 1 {
		c.log.Debug("dropping data channel message", "reason", why)
	}
	if n != int64(c.srv.cfg.dcAbuse) {
		return
	}
	c.log.Warn("closing events channel: message flood", "dropped", n)
	c.emu.Lock()
	d, open := c.dc, c.dcOpen
	c.dcOpen, c.dcDead = false, true
	c.emu.Unlock()
	if d == nil {
		return
	}
	if open {
		_ = d.SendText(`{"type":"error","text":"too many messages; events channel closed"}`)
	}
	// Close from a goroutine of our own: closing from inside pion's
	// message callback could wait on the goroutine we are running on.
	c.spawn(func() { _ = d.Close() })
}
