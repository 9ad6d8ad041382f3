package calls

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/handoff"
	"github.com/hotline-ivr/hotline/voice"
)

// Outcomes of a bridged handoff.
const (
	OutcomeBridged  = "bridged"   // an agent talked to the caller
	OutcomeHoldOver = "hold_over" // nobody took the call within the max hold: callback
)

// AgentSegment is the part of a call an agent spent with the caller.
type AgentSegment struct {
	Agent     string     `json:"agent"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	// EndedBy is "agent" or "caller".
	EndedBy string `json:"ended_by,omitempty"`
}

// holdTone is the hold music: a soft, slow four-note figure (a major
// arpeggio, C5 E5 G5 E5) with smooth attacks and decays, then a rest; it
// is generated here, so there is no recording to license.
type holdTone struct {
	rate int
	pos  int // samples into the pattern
}

const (
	holdNote = 450 * time.Millisecond
	holdRest = 1200 * time.Millisecond
)

var holdNotes = []float64{523.25, 659.25, 783.99, 659.25}

func (h *holdTone) frame() audio.Frame {
	n := audio.SamplesPerFrame(h.rate)
	noteLen := int(holdNote.Seconds() * float64(h.rate))
	period := noteLen*len(holdNotes) + int(holdRest.Seconds()*float64(h.rate))
	s := make([]int16, n)
	for i := range s {
		p := (h.pos + i) % period
		k := p / noteLen
		if k >= len(holdNotes) {
			continue // rest
		}
		t := float64(p%noteLen) / float64(h.rate)
		d := holdNote.Seconds()
		// Raised-cosine swell over the note, with a quieter octave above.
		env := 0.5 - 0.5*math.Cos(2*math.Pi*t/d)
		f := holdNotes[k]
		v := math.Sin(2*math.Pi*f*t) + 0.25*math.Sin(2*math.Pi*2*f*t)
		s[i] = int16(2600 * env * v)
	}
	h.pos = (h.pos + n) % period
	return audio.Frame{Rate: h.rate, Samples: s}
}

// holdAndBridge keeps a caller handed to a queue without a REFER address
// on the line: hold music, every holdEvery the wait message with the
// current estimate, until an agent's leg joins (then the two talk until
// either hangs up), the caller hangs up, or maxHold passes. It returns
// the outcome ("" when the hold ran out: the caller is offered a
// callback).
func (h *Handler) holdAndBridge(ctx context.Context, conn voice.Conn, info CallInfo, cfg voice.Config, ho voice.Handoff,
	lang string, r *HandoffRecord, emit func(voice.Event), log *slog.Logger) string {
	legs, leave := h.bridges.hold(ho.HandoffID)
	defer leave()
	log.Info("caller on hold for an agent", "handoff", ho.HandoffID, "queue", ho.Queue, "max_hold", h.maxHold)
	tone := &holdTone{rate: cmpInt(info.Rate, audio.Rate8k)}
	start := h.now()
	nextMsg := start.Add(h.holdEvery)
	for {
		select {
		case leg := <-legs:
			return h.bridgeAgent(ctx, conn, info, cfg, lang, r, leg, emit, log)
		case <-conn.Done():
			return OutcomeLeftQueued
		case <-ctx.Done():
			return OutcomeLeftQueued
		default:
		}
		now := h.now()
		if now.Sub(start) >= h.maxHold {
			log.Info("nobody took the call within the max hold", "handoff", ho.HandoffID, "waited", now.Sub(start))
			return ""
		}
		if !now.Before(nextMsg) {
			nextMsg = now.Add(h.holdEvery)
			v, wait, err := h.queue.Estimate(ho.HandoffID)
			if err != nil {
				log.Info("the handoff left the queue while the caller held", "handoff", ho.HandoffID, "error", err)
				return ""
			}
			if v.State == handoff.Queued || v.State == handoff.Offered {
				emit(voice.Event{Type: voice.EventHandoff, Lang: lang, Queue: v.Queue, AppealNumber: ho.AppealNumber,
					EstimatedWaitSeconds: int(wait.Round(time.Second) / time.Second)})
				h.say(ctx, conn, cfg, lang, waitMessage(lang, wait))
				continue
			}
		}
		if err := conn.WriteFrame(tone.frame()); err != nil {
			return OutcomeLeftQueued
		}
	}
}

// bridgeAgent connects the caller to the agent's leg until either hangs
// up. When the agent hangs up first the caller hears a goodbye and the
// call ends: the agent has dealt with the request and wraps it up in the
// desk; handing the caller back to the bot would leave them with a
// machine after a person, and the appeal is already with the agent.
func (h *Handler) bridgeAgent(ctx context.Context, conn voice.Conn, info CallInfo, cfg voice.Config, lang string,
	r *HandoffRecord, leg *agentLeg, emit func(voice.Event), log *slog.Logger) string {
	defer close(leg.done)
	conn.ClearPlayback()
	seg := &AgentSegment{Agent: leg.agent, StartedAt: h.now()}
	r.Agent = seg
	log.Info("caller bridged to an agent", "agent", leg.agent)
	emit(voice.Event{Type: EventAgent, Text: leg.agent, Lang: lang})
	agentLeft := bridge(ctx, conn, cmpInt(info.Rate, audio.Rate8k), leg)
	t := h.now()
	seg.EndedAt = &t
	seg.EndedBy = "caller"
	if agentLeft {
		seg.EndedBy = "agent"
		h.say(ctx, conn, cfg, lang, text(lang, msgAgentGoodbye))
	}
	log.Info("agent bridge ended", "agent", leg.agent, "ended_by", seg.EndedBy, "duration", t.Sub(seg.StartedAt).Round(time.Second))
	return OutcomeBridged
}

// EventAgent tells the caller's screen an agent has joined (Text: the
// agent's name).
const EventAgent = "agent"

func waitMessage(lang string, wait time.Duration) string {
	min := int(math.Ceil(wait.Minutes()))
	if wait <= 0 {
		return text(lang, msgHoldNext)
	}
	if lang == "en" {
		unit := "minutes"
		if min == 1 {
			unit = "minute"
		}
		return fmt.Sprintf(text(lang, msgHoldWait), fmt.Sprintf("%d %s", min, unit))
	}
	return fmt.Sprintf(text(lang, msgHoldWait), fmt.Sprintf("%d %s", min, ruMinutes(min)))
}

func ruMinutes(n int) string {
	switch {
	case n%10 == 1 && n%100 != 11:
		return "минута"
	case n%10 >= 2 && n%10 <= 4 && (n%100 < 12 || n%100 > 14):
		return "минуты"
	}
	return "минут"
}

func cmpInt(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}
