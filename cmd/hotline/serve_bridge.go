package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/appeal/webhook"
	"github.com/hotline-ivr/hotline/auth"
	"github.com/hotline-ivr/hotline/bot"
	"github.com/hotline-ivr/hotline/calls"
	"github.com/hotline-ivr/hotline/handoff"
	"github.com/hotline-ivr/hotline/telephony/webrtc"
	"github.com/hotline-ivr/hotline/web"
)

// callLinks is what the SIP and WebRTC call handlers share beyond the
// bot: the bridges that join a held caller to the agent's browser leg,
// the queues for the estimated wait, and the call-end webhook.
type callLinks struct {
	Bridges *calls.Bridges
	Center  *handoff.Center
	Hooks   *webhook.Notifier
	Log     *slog.Logger
	// MaxHold bounds a caller's hold for an agent (default 10 min).
	MaxHold time.Duration
}

// options are the calls.Handler options for links.
func (l *callLinks) options() []calls.Option {
	if l == nil {
		return nil
	}
	var opts []calls.Option
	if l.Bridges != nil && l.Center != nil {
		opts = append(opts, calls.WithBridges(l.Bridges, l.Center, l.MaxHold, 0))
	}
	if l.Hooks != nil {
		opts = append(opts, calls.WithOnEnd(l.callEnded))
	}
	return opts
}

// CallEnded is the body of a call.ended webhook.
type CallEnded struct {
	Type         string               `json:"type"` // "call.ended"
	CallID       string               `json:"call_id"`
	Channel      string               `json:"channel"`
	StartedAt    time.Time            `json:"started_at"`
	EndedAt      time.Time            `json:"ended_at"`
	Reason       string               `json:"reason"`
	Lang         string               `json:"lang,omitempty"`
	AppealNumber string               `json:"appeal_number,omitempty"`
	Handoff      *calls.HandoffRecord `json:"handoff,omitempty"`
	Summary      CallSummary          `json:"summary"`
	Turns        int                  `json:"turns"`
}

// CallSummary is what the call was about: the caller's last question
// and the bot's last answer, and the intents recognised in order.
type CallSummary struct {
	LastQuestion string   `json:"last_question,omitempty"`
	LastAnswer   string   `json:"last_answer,omitempty"`
	Intents      []string `json:"intents,omitempty"`
}

func callEndedBody(c calls.Call) CallEnded {
	ev := CallEnded{Type: webhook.EventCallEnded, CallID: c.ID, Channel: c.Channel, StartedAt: c.StartedAt,
		Reason: c.Reason, Lang: c.Lang, AppealNumber: c.AppealNumber, Handoff: c.Handoff}
	if c.EndedAt != nil {
		ev.EndedAt = *c.EndedAt
	}
	if ev.AppealNumber == "" && c.Handoff != nil {
		ev.AppealNumber = c.Handoff.CallbackAppeal
	}
	for _, t := range c.Turns {
		switch t.Speaker {
		case bot.SpeakerCaller:
			ev.Turns++
			if !strings.HasPrefix(t.Text, "[") { // "[DTMF 0]" is not a question
				ev.Summary.LastQuestion = t.Text
			}
			if t.Intent != "" && (len(ev.Summary.Intents) == 0 || ev.Summary.Intents[len(ev.Summary.Intents)-1] != t.Intent) {
				ev.Summary.Intents = append(ev.Summary.Intents, t.Intent)
			}
		case bot.SpeakerBot:
			ev.Summary.LastAnswer = t.Text
		}
	}
	return ev
}

func (l *callLinks) callEnded(c calls.Call) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ev := callEndedBody(c)
	if err := l.Hooks.Publish(ctx, webhook.EventCallEnded, ev.AppealNumber, ev); err != nil && l.Log != nil {
		l.Log.Error("call.ended webhook not queued", "call_id", c.ID, "error", err)
	}
}

// mountAgentMedia serves the agent's audio leg of a bridged call:
//
//	POST   /api/v1/handoffs/:id/media        application/sdp offer → 201 answer, Location (agent holding the handoff)
//	DELETE /api/v1/handoffs/:id/media/:leg   the agent hangs up → 204
//
// The agent must hold the handoff (accepted in the desk) and the caller
// must be on hold for it. The leg is a webrtc.Server leg started by
// Accept, bridged to the caller until either side hangs up.
func mountAgentMedia(api *gin.RouterGroup, srv *webrtc.Server, center *handoff.Center, bridges *calls.Bridges,
	requireAgent gin.HandlerFunc, log *slog.Logger) {
	leg := func(c *gin.Context) (string, bool) {
		id, agent := c.Param("id"), auth.Actor(c)
		v, _, err := center.Estimate(id)
		switch {
		case errors.Is(err, handoff.ErrNotFound):
			web.Problem(c, http.StatusNotFound, "No such handoff", "the handoff is over or never existed")
			return "", false
		case err != nil || v.State != handoff.Accepted || v.Agent != agent:
			web.Problem(c, http.StatusConflict, "Not your call", "accept the handoff in the desk first")
			return "", false
		}
		return agent, true
	}
	api.POST("/handoffs/:id/media", requireAgent, func(c *gin.Context) {
		agent, ok := leg(c)
		if !ok {
			return
		}
		id := c.Param("id")
		// An agent quick to accept may be here while the bot is still
		// telling the caller the wait: give the caller a moment to reach
		// the hold, while the handoff is still this agent's voice call.
		for wait := time.Now().Add(mediaHoldWait); !bridges.Waiting(id) && time.Now().Before(wait) && c.Request.Context().Err() == nil; {
			v, _, err := center.Estimate(id)
			if err != nil || v.Channel != appeal.Voice || v.State != handoff.Accepted || v.Agent != agent {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !bridges.Waiting(id) {
			web.Problem(c, http.StatusConflict, "Caller not on the line", "the caller is not holding for this handoff (hung up, or not a voice call)")
			return
		}
		if mt := strings.TrimSpace(strings.Split(c.GetHeader("Content-Type"), ";")[0]); mt != "application/sdp" {
			web.Problem(c, http.StatusUnsupportedMediaType, "Unsupported media type", "send the offer as application/sdp")
			return
		}
		body, err := readLimited(c, 64<<10)
		if err != nil {
			web.Problem(c, http.StatusRequestEntityTooLarge, "Body too large", "at most 64 KiB")
			return
		}
		ctx, cancel := context.WithTimeout(c.Request.Context(), 15*time.Second)
		defer cancel()
		legID, answer, err := srv.Accept(ctx, "agent:"+agent, body, webrtc.HandlerFunc(func(ctx context.Context, call *webrtc.Call) error {
			err := bridges.Join(ctx, id, agent, call, call.SampleRate())
			if err != nil {
				call.Logger().Info("agent leg not bridged", "handoff", id, "error", err)
			}
			return err
		}))
		if err != nil {
			status, title := webrtc.Status(err)
			web.Problem(c, status, title, err.Error())
			return
		}
		log.Info("agent joined the caller", "handoff", id, "agent", agent, "leg", legID)
		c.Header("Location", strings.TrimSuffix(api.BasePath(), "/")+"/handoffs/"+id+"/media/"+legID)
		c.Header("Cache-Control", "no-store")
		c.Data(http.StatusCreated, "application/sdp", answer)
	})
	api.DELETE("/handoffs/:id/media/:leg", requireAgent, func(c *gin.Context) {
		agent := auth.Actor(c)
		call := srv.Call(c.Param("leg"))
		if call == nil || call.Subject != "agent:"+agent {
			web.Problem(c, http.StatusNotFound, "No such leg", "the call is over")
			return
		}
		call.Hangup()
		c.Status(http.StatusNoContent)
	})
}

// mediaHoldWait is how long an agent's offer waits for the caller to
// reach the hold (the bot finishing the wait message).
var mediaHoldWait = 30 * time.Second

func readLimited(c *gin.Context, n int64) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, n))
}
