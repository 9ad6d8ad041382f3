package sipload

import (
	"context"
	"fmt"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// CallResult is one call as the caller saw it.
type CallResult struct {
	ID      int           `json:"id"`
	Err     string        `json:"err,omitempty"`
	Invited time.Time     `json:"invited"`
	Setup   time.Duration `json:"setup_ns"` // INVITE sent → 200 OK received
	// VoiceToVoice is the bot's reaction to the question (see
	// VoiceToVoice); zero with V2VOK false when not measured.
	VoiceToVoice time.Duration `json:"v2v_ns,omitempty"`
	V2VOK        bool          `json:"v2v_ok,omitempty"`
	// QuestionEnd is when the last speech packet of the question left.
	QuestionEnd time.Time     `json:"question_end,omitzero"`
	Rx          RxStats       `json:"rx"` // the server's stream to us
	Sent        int           `json:"sent"`
	Duration    time.Duration `json:"duration_ns"` // answer → hang-up
	ServerBye   bool          `json:"server_bye,omitempty"`
}

// call places one call and runs the caller's script.
func (r *runner) call(ctx context.Context, id int) (res CallResult) {
	res.ID = id
	cfg := &r.cfg
	ep, err := newEndpoint(cfg.LocalIP, cfg.Codec, r.silence, len(r.question) > 0)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	body := offerSDP(cfg.LocalIP, ep.port(), r.codec, id)
	uri := sip.Uri{Scheme: "sip", User: "hotline", Host: r.target.Addr().String(), Port: int(r.target.Port())}

	setupCtx, cancel := context.WithTimeout(ctx, cfg.SetupTimeout)
	defer cancel()
	t0 := time.Now()
	res.Invited = t0
	d, err := r.dc.Invite(setupCtx, uri, body, sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		ep.close()
		res.Err = fmt.Sprintf("invite: %v", err)
		return res
	}
	defer d.Close()
	if err := d.WaitAnswer(setupCtx, sipgo.AnswerOptions{}); err != nil {
		ep.close()
		res.Err = fmt.Errorf("%w: %v", ErrNoAnswer, err).Error()
		return res
	}
	res.Setup = time.Since(t0)
	if err := d.Ack(ctx); err != nil {
		ep.close()
		res.Err = fmt.Sprintf("ack: %v", err)
		return res
	}
	ans, err := parseAnswer(d.InviteResponse.Body())
	if err != nil || ans.pt != r.codec.pt {
		ep.close()
		_ = d.Bye(context.WithoutCancel(ctx))
		if err == nil {
			err = fmt.Errorf("%w: server chose payload type %d, we offered only %d", ErrSDP, ans.pt, r.codec.pt)
		}
		res.Err = err.Error()
		return res
	}
	answered := time.Now()
	ep.start(ans.remote, ans.dtmfPT)

	// ended is closed when the server hangs up (BYE) or the run stops.
	dlg := d.Context()
	ended := make(chan struct{})
	stop := context.AfterFunc(ctx, func() { close(ended) })
	sleep := func(t time.Duration) bool {
		tm := time.NewTimer(t)
		defer tm.Stop()
		select {
		case <-tm.C:
			return true
		case <-dlg.Done():
			return false
		case <-ended:
			return false
		}
	}
	from := 0
	r.script(ep, sleep, &from)

	sent, recv := ep.close()
	stopped := stop()
	res.Duration = time.Since(answered)
	select {
	case <-dlg.Done():
		res.ServerBye = true
	default:
		byeCtx, c := context.WithTimeout(context.Background(), 5*time.Second)
		if err := d.Bye(byeCtx); err != nil && stopped {
			res.Err = fmt.Sprintf("bye: %v", err)
		}
		c()
	}
	res.Sent = len(sent)
	res.Rx = Stream(recv)
	if len(r.question) > 0 {
		res.VoiceToVoice, res.QuestionEnd, res.V2VOK = VoiceToVoice(sent, from, recv)
		if !res.V2VOK && res.Err == "" {
			res.Err = "no reply heard after the question"
		}
	}
	return res
}

// script is what the caller does once answered: keys, then the question
// once the bot is quiet, then listening to the reply; or, without a
// question, the media stream for the hold time.
func (r *runner) script(ep *endpoint, sleep func(time.Duration) bool, from *int) {
	cfg := &r.cfg
	deadline := time.Now().Add(cfg.Hold)
	if cfg.DTMF != "" {
		if !sleep(cfg.DTMFDelay) {
			return
		}
		for _, k := range []byte(cfg.DTMF) {
			if err := ep.key(k); err != nil {
				return
			}
		}
	}
	if len(r.question) == 0 {
		if len(r.loop) > 0 {
			// Keep the caller talking for the whole hold: the server's
			// receive path (decode, VAD, resampling) then runs on speech.
			for n := int(cfg.Hold / (time.Duration(len(r.loop)) * 20 * time.Millisecond)); n >= 0; n-- {
				ep.play(r.loop)
			}
		}
		sleep(time.Until(deadline))
		return
	}
	// Wait for the bot to finish what it says after the keys (the
	// greeting, the menu): QuietGap without speech from it.
	if !r.waitQuiet(ep, sleep, time.Now().Add(cfg.ReplyTimeout)) {
		return
	}
	*from = ep.sentCount()
	ep.play(r.question)
	for ep.queued() > 0 {
		if !sleep(20 * time.Millisecond) {
			return
		}
	}
	asked := time.Now()
	// Listen to the reply: it started, then went quiet (or ran long).
	limit := asked.Add(cfg.ReplyTimeout)
	for ep.lastSpeechAt().Before(asked) && time.Now().Before(limit) {
		if !sleep(20 * time.Millisecond) {
			return
		}
	}
	r.waitQuiet(ep, sleep, limit)
}

// waitQuiet waits until the server has sent no speech for QuietGap.
func (r *runner) waitQuiet(ep *endpoint, sleep func(time.Duration) bool, limit time.Time) bool {
	start := time.Now()
	for time.Now().Before(limit) {
		last := ep.lastSpeechAt()
		if last.Before(start) {
			last = start
		}
		if time.Since(last) >= r.cfg.QuietGap {
			return true
		}
		if !sleep(20 * time.Millisecond) {
			return false
		}
	}
	return true
}
