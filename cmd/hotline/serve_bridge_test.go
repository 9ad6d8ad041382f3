package main

import (
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/calls"
)

func TestCallEndedBody(t *testing.T) {
	end := time.Date(2026, 3, 2, 10, 5, 0, 0, time.UTC)
	c := calls.Call{ID: "c1", Channel: "webrtc", StartedAt: end.Add(-5 * time.Minute), EndedAt: &end, Reason: calls.OutcomeBridged,
		Lang: "en", AppealNumber: "2026-000042-7",
		Handoff: &calls.HandoffRecord{Queue: "general", Mode: "bridge", Outcome: calls.OutcomeBridged,
			Agent: &calls.AgentSegment{Agent: "alice", StartedAt: end.Add(-time.Minute), EndedAt: &end, EndedBy: "agent"}},
		Turns: []calls.Turn{
			{Speaker: "bot", Text: "Hello"}, {Speaker: "caller", Text: "what are the operator hours", Intent: "faq"},
			{Speaker: "bot", Text: "Weekdays 8 to 20."}, {Speaker: "caller", Text: "[DTMF 0]", Intent: "operator"},
			{Speaker: "bot", Text: "Connecting you to an operator."},
		}}
	ev := callEndedBody(c)
	if ev.Type != "call.ended" || ev.AppealNumber != "2026-000042-7" || ev.Turns != 2 || !ev.EndedAt.Equal(end) ||
		ev.Summary.LastQuestion != "what are the operator hours" || ev.Summary.LastAnswer != "Connecting you to an operator." ||
		len(ev.Summary.Intents) != 2 || ev.Handoff.Agent.Agent != "alice" {
		t.Fatalf("%+v", ev)
	}
}
