package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/bot"
	"github.com/hotline-ivr/hotline/bot/chat"
	"github.com/hotline-ivr/hotline/calls"
	"github.com/hotline-ivr/hotline/telephony/webrtc"
	"github.com/hotline-ivr/hotline/web"
)

// resumeTTL is how long a call-to-chat resume token lives.
const resumeTTL = 10 * time.Minute

// callResumes are the single-use tokens that carry an ended in-app call
// over to the web chat: the chat shows the call's transcript and goes on
// in its language.
type callResumes struct {
	st  *calls.Store
	now func() time.Time

	mu     sync.Mutex
	tokens map[string]resumeEntry
}

type resumeEntry struct {
	callID  string
	expires time.Time
}

func (r *callResumes) issue(callID string) (string, time.Time, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", time.Time{}, err
	}
	tok := "hcr1." + base64.RawURLEncoding.EncodeToString(b)
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, e := range r.tokens {
		if now.After(e.expires) {
			delete(r.tokens, k)
		}
	}
	exp := now.Add(resumeTTL)
	r.tokens[tok] = resumeEntry{callID: callID, expires: exp}
	return tok, exp, nil
}

var errResumeToken = errors.New("unknown, used or expired resume token")

// redeem is the chat's chat.ResumeFunc: the token is spent on first use.
func (r *callResumes) redeem(ctx context.Context, tok string) (chat.Resume, error) {
	r.mu.Lock()
	e, ok := r.tokens[tok]
	delete(r.tokens, tok)
	r.mu.Unlock()
	if !ok || r.now().After(e.expires) {
		return chat.Resume{}, errResumeToken
	}
	c, err := r.st.Get(ctx, e.callID)
	if err != nil {
		return chat.Resume{}, err
	}
	res := chat.Resume{Lang: c.Lang, AppealNumber: c.AppealNumber, Turns: []chat.HistoryTurn{}}
	if res.AppealNumber == "" && c.Handoff != nil {
		res.AppealNumber = c.Handoff.CallbackAppeal
	}
	for _, t := range c.Turns {
		switch t.Speaker {
		case bot.SpeakerCaller, bot.SpeakerBot, bot.SpeakerAgent:
		default:
			continue // system lines
		}
		if t.Text == "" || strings.HasPrefix(t.Text, "[") { // "[DTMF 0]"
			continue
		}
		res.Turns = append(res.Turns, chat.HistoryTurn{At: t.At, Speaker: t.Speaker, Text: t.Text})
	}
	return res, nil
}

// mountCallToChat serves POST /api/v1/calls/:id/chat (Bearer <call
// token>): the call ends and the answer is a single-use resume token for
// the web chat, valid for resumeTTL:
//
//	201 {"resume_token": "...", "chat_url": "/chat/?resume=...", "expires_at": "..."}
//
// The chat (/chat/?resume=TOKEN, or /api/v1/chat/ws?resume=TOKEN) starts
// with the call's transcript as history, in the call's language.
func mountCallToChat(api *gin.RouterGroup, app *inApp, st *calls.Store, ch *chat.Handler, log *slog.Logger) {
	if app == nil || st == nil || ch == nil {
		return
	}
	r := &callResumes{st: st, now: time.Now, tokens: map[string]resumeEntry{}}
	ch.SetResume(r.redeem)
	api.POST("/calls/:id/chat", func(c *gin.Context) {
		id := c.Param("id")
		scheme, tok, _ := strings.Cut(c.GetHeader("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") {
			tok = ""
		}
		ctx, cancel := context.WithTimeout(c.Request.Context(), 15*time.Second)
		defer cancel()
		if err := app.Server.Hangup(ctx, strings.TrimSpace(tok), id); err != nil {
			status, title := webrtc.Status(err)
			web.Problem(c, status, title, err.Error())
			return
		}
		// The call's record is written when its handler returns.
		for {
			rec, err := st.Get(ctx, id)
			if err == nil && rec.EndedAt != nil {
				break
			}
			select {
			case <-ctx.Done():
				web.Problem(c, http.StatusServiceUnavailable, "Call record not ready", "try the chat without history")
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
		rt, exp, err := r.issue(id)
		if err != nil {
			web.Problem(c, http.StatusInternalServerError, "No token", "could not issue a resume token")
			return
		}
		log.Info("in-app call moved to the chat", "call_id", id)
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusCreated, gin.H{"resume_token": rt, "chat_url": "/chat/?resume=" + rt, "expires_at": exp.UTC()})
	})
}
