package handoff

import "errors"

var (
	// ErrUnknownQueue means no queue has the name.
	ErrUnknownQueue = errors.New("handoff: unknown queue")
	// ErrNotFound means no live handoff has the id.
	ErrNotFound = errors.New("handoff: not found")
	// ErrNotOffered means the handoff is not offered to (or held by) this agent.
	ErrNotOffered = errors.New("handoff: not offered to this agent")
	// ErrAgentBusy means the agent already has an offer or a conversation.
	ErrAgentBusy = errors.New("handoff: agent busy")
	// ErrAgentUnknown means the agent is not connected to the desk.
	ErrAgentUnknown = errors.New("handoff: agent not connected")
	// ErrInvalid means a request field is missing or malformed.
	ErrInvalid = errors.New("handoff: invalid")
	// ErrClosed means the center is closed.
	ErrClosed = errors.New("handoff: closed")
)
