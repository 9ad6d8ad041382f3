package sipload

import (
	"fmt"
	"io"
	"time"
)

// Report is a whole run: the configuration, every call and the summary.
type Report struct {
	Config  map[string]any `json:"config"`
	Started time.Time      `json:"started"`
	Wall    time.Duration  `json:"wall_ns"`
	Summary Summary        `json:"summary"`
	Calls   []CallResult   `json:"calls"`
}

// Summary is the run in numbers.
type Summary struct {
	Attempted, Answered, Failed  int
	FirstErr                     string        `json:",omitempty"`
	SetupP50, SetupP95, SetupMax time.Duration // INVITE → 200
	V2VCount                     int
	V2VP50, V2VP95, V2VMax       time.Duration
	// CPS is answered calls over the time from the first INVITE to the
	// last answer: the set-up rate the server sustained.
	CPS        float64
	Rx         RxStats // server → caller, all calls
	Sent       int     // packets caller → server
	ServerByes int     // calls the server hung up
}

func summarize(calls []CallResult, wall time.Duration) Summary {
	s := Summary{Attempted: len(calls)}
	var setups, v2v []time.Duration
	var first, last time.Time
	for _, c := range calls {
		if c.Setup > 0 {
			s.Answered++
			setups = append(setups, c.Setup)
			if first.IsZero() || c.Invited.Before(first) {
				first = c.Invited
			}
			if a := c.Invited.Add(c.Setup); a.After(last) {
				last = a
			}
		}
		if c.Err != "" {
			s.Failed++
			if s.FirstErr == "" {
				s.FirstErr = c.Err
			}
		}
		if c.V2VOK {
			v2v = append(v2v, c.VoiceToVoice)
		}
		s.Rx = s.Rx.Add(c.Rx)
		s.Sent += c.Sent
		if c.ServerBye {
			s.ServerByes++
		}
	}
	if span := last.Sub(first); s.Answered > 1 && span > 0 {
		s.CPS = float64(s.Answered-1) / span.Seconds()
	}
	s.SetupP50, s.SetupP95, s.SetupMax = Percentile(setups, 50), Percentile(setups, 95), Percentile(setups, 100)
	s.V2VCount = len(v2v)
	s.V2VP50, s.V2VP95, s.V2VMax = Percentile(v2v, 50), Percentile(v2v, 95), Percentile(v2v, 100)
	return s
}

func summaryConfig(c Config) map[string]any {
	return map[string]any{"target": c.Target, "calls": c.Calls, "total": c.Total, "rate": c.Rate,
		"codec": c.Codec, "dtmf": c.DTMF, "hold": c.Hold.String(),
		"question_s": float64(len(c.Question.Samples)) / float64(max(c.Question.Rate, 1))}
}

// Markdown writes the summary as a table.
func (r Report) Markdown(w io.Writer) {
	s := r.Summary
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/1e6) }
	fmt.Fprintf(w, "| | |\n|---|---|\n")
	fmt.Fprintf(w, "| calls answered / attempted | %d / %d (%d failed) |\n", s.Answered, s.Attempted, s.Failed)
	if s.FirstErr != "" {
		fmt.Fprintf(w, "| first error | %s |\n", s.FirstErr)
	}
	fmt.Fprintf(w, "| set-up rate sustained | %.1f calls/s |\n", s.CPS)
	fmt.Fprintf(w, "| set-up INVITE→200 p50 / p95 / max | %s / %s / %s |\n", ms(s.SetupP50), ms(s.SetupP95), ms(s.SetupMax))
	if s.V2VCount > 0 {
		fmt.Fprintf(w, "| voice-to-voice p50 / p95 / max (%d calls) | %s / %s / %s |\n", s.V2VCount, ms(s.V2VP50), ms(s.V2VP95), ms(s.V2VMax))
	}
	fmt.Fprintf(w, "| packets server→caller received / lost / late (>%v gap) | %d / %d / %d (max gap %s) |\n",
		LateGap, s.Rx.Received, s.Rx.Lost, s.Rx.Late, ms(s.Rx.MaxGap))
	fmt.Fprintf(w, "| packets caller→server sent | %d |\n", s.Sent)
	fmt.Fprintf(w, "| wall time | %s |\n", r.Wall.Round(100*time.Millisecond))
}
