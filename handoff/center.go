package handoff

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hotline-ivr/hotline/appeal"
)

// Presence is what an agent sets.
type Presence string

// Agent presence. Busy is derived: the agent holds a handoff.
const (
	Ready   Presence = "ready"
	Away    Presence = "away"
	Busy    Presence = "busy"
	Offline Presence = "offline"
)

// AgentView is an agent as the desk sees them.
type AgentView struct {
	ID        string    `json:"id"`
	State     Presence  `json:"state"`
	Skills    []string  `json:"skills,omitempty"` // empty: every queue
	Region    string    `json:"region,omitempty"`
	Since     time.Time `json:"since"`
	Connected bool      `json:"connected"`
	Offer     string    `json:"offer,omitempty"`   // handoff offered to them
	Handoff   string    `json:"handoff,omitempty"` // handoff they hold
}

// PresenceUpdate is an agent's request to change presence.
type PresenceUpdate struct {
	State  Presence `json:"state"`            // ready or away
	Skills []string `json:"skills,omitempty"` // nil keeps; empty list means every queue
	Region string   `json:"region,omitempty"`
}

type agent struct {
	id      string
	state   Presence // ready, away or offline (busy is derived)
	skills  map[string]bool
	region  string
	since   time.Time
	conns   int
	goneAt  time.Time
	offer   *Handoff
	holding *Handoff
}

func (a *agent) presence() Presence {
	if a.holding != nil {
		return Busy
	}
	return a.state
}

func (a *agent) free() bool {
	return a.conns > 0 && a.state == Ready && a.offer == nil && a.holding == nil
}

func (a *agent) serves(q *queue) bool {
	if a.skills == nil {
		return true
	}
	for _, s := range q.cfg.Skills {
		if !a.skills[s] {
			return false
		}
	}
	return true
}

func (a *agent) view() AgentView {
	v := AgentView{ID: a.id, State: a.presence(), Region: a.region, Since: a.since, Connected: a.conns > 0}
	for s := range a.skills {
		v.Skills = append(v.Skills, s)
	}
	slices.Sort(v.Skills)
	if a.offer != nil {
		v.Offer = a.offer.ID
	}
	if a.holding != nil {
		v.Handoff = a.holding.ID
	}
	return v
}

type queue struct {
	cfg     Queue
	waiting []*Handoff // queued, callback and offered, in offer order
	aht     time.Duration
	samples int
}

// Center is the live state of queues, agents and handoffs: routing, offers
// to agents, accept/decline/timeout, disconnects, reassignment, wait
// estimates and the event feed for the desk. One mutex guards all state;
// a ticker goroutine owned by the Center expires offers, applies the
// disconnect grace, releases callbacks when queues open and publishes
// queue statistics.
type Center struct {
	log          *slog.Logger
	now          func() time.Time
	offerTimeout time.Duration
	grace        time.Duration
	declineTTL   time.Duration
	tickEvery    time.Duration
	hub          *Hub

	mu       sync.Mutex
	order    []*queue
	queues   map[string]*queue
	topics   map[string]string
	agents   map[string]*agent
	handoffs map[string]*Handoff
	dirty    bool

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// Option configures a Center.
type Option func(*Center)

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(c *Center) { c.log = l } }

// WithClock injects the time source.
func WithClock(now func() time.Time) Option { return func(c *Center) { c.now = now } }

// WithOfferTimeout sets how long an agent has to accept (default 20 s);
// a missed offer sets the agent away.
func WithOfferTimeout(d time.Duration) Option { return func(c *Center) { c.offerTimeout = d } }

// WithDisconnectGrace sets how long an agent may be disconnected (a page
// reload) before their handoff returns to the queue (default 5 s).
func WithDisconnectGrace(d time.Duration) Option { return func(c *Center) { c.grace = d } }

// WithTick sets how often timeouts are checked and statistics published (default 250 ms).
func WithTick(d time.Duration) Option { return func(c *Center) { c.tickEvery = d } }

// New builds the center over queues and starts its ticker; call Close.
func New(queues []Queue, opts ...Option) (*Center, error) {
	c := &Center{
		log: slog.New(slog.DiscardHandler), now: time.Now,
		offerTimeout: 20 * time.Second, grace: 5 * time.Second, declineTTL: time.Minute, tickEvery: 250 * time.Millisecond,
		hub: NewHub(), queues: map[string]*queue{}, topics: map[string]string{},
		agents: map[string]*agent{}, handoffs: map[string]*Handoff{},
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	for _, o := range opts {
		o(c)
	}
	if len(queues) == 0 {
		return nil, fmt.Errorf("%w: no queues", ErrInvalid)
	}
	for _, cfg := range queues {
		if err := cfg.normalize(); err != nil {
			return nil, err
		}
		if _, dup := c.queues[cfg.Name]; dup {
			return nil, fmt.Errorf("%w: queue %q twice", ErrInvalid, cfg.Name)
		}
		q := &queue{cfg: cfg, aht: cfg.HandleTime}
		c.queues[cfg.Name] = q
		c.order = append(c.order, q)
		for _, t := range cfg.Topics {
			c.topics[strings.ToLower(t)] = cfg.Name
		}
	}
	for _, q := range c.order {
		if q.cfg.OverflowTo != "" && c.queues[q.cfg.OverflowTo] == nil {
			return nil, fmt.Errorf("%w: queue %s overflows to unknown %q", ErrUnknownQueue, q.cfg.Name, q.cfg.OverflowTo)
		}
	}
	go c.run()
	return c, nil
}

// Hub is the event feed.
func (c *Center) Hub() *Hub { return c.hub }

// Close stops the ticker and waits for it. It is idempotent.
func (c *Center) Close() error {
	c.once.Do(func() { close(c.stop) })
	<-c.done
	return nil
}

func (c *Center) run() {
	defer close(c.done)
	t := time.NewTicker(c.tickEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.Tick()
		}
	}
}

// Tick expires offers, returns handoffs of agents gone past the grace,
// releases due callbacks, dispatches and publishes statistics. The ticker
// calls it; tests with an injected clock call it directly.
func (c *Center) Tick() {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for _, a := range c.agents {
		if a.offer != nil && !now.Before(a.offer.OfferExpires) {
			h := a.offer
			h.declined[a.id] = now
			c.revoke(h, "timeout", now)
			a.state, a.since = Away, now
			c.log.Info("handoff offer missed: agent set away", "handoff", h.ID, "agent", a.id)
			c.hub.Publish(Event{Type: EventAgent, At: now, Agents: []AgentView{a.view()}})
		}
		if a.conns == 0 && !a.goneAt.IsZero() && now.Sub(a.goneAt) >= c.grace {
			c.agentGone(a, now)
		}
	}
	c.dispatch(now)
	if c.dirty {
		c.dirty = false
		c.hub.Publish(Event{Type: EventQueues, At: now, Queues: c.stats(now)})
	}
}

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (c *Center) resolve(req Request) (*queue, error) {
	name := strings.ToLower(req.Queue)
	if name == "" && strings.EqualFold(req.Region, "abroad") {
		name = c.topics["abroad"]
	}
	if name == "" {
		name = c.topics[strings.ToLower(req.Topic)]
	}
	if name == "" {
		name = c.topics[strings.ToLower(req.Intent)]
	}
	if name == "" {
		if q, ok := c.queues["general"]; ok {
			return q, nil
		}
		return c.order[0], nil
	}
	q, ok := c.queues[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownQueue, name)
	}
	return q, nil
}

// position is where a handoff of priority p would join q (1 = next).
func (q *queue) position(p int) int {
	n := 1
	for _, h := range q.waiting {
		if h.State != Callback && h.Priority >= p {
			n++
		}
	}
	return n
}

// ewt estimates the wait of position pos in q: the handoffs ahead that
// ready agents cannot take at once, times the moving average handle time,
// shared among the agents who work the queue.
func (c *Center) ewt(q *queue, pos int) time.Duration {
	ready, staffed := 0, 0
	for _, a := range c.agents {
		if a.conns == 0 || !a.serves(q) {
			continue
		}
		if a.free() {
			ready++
		}
		if a.state == Ready || a.holding != nil {
			staffed++
		}
	}
	if pos <= ready {
		return 0
	}
	return time.Duration(float64(pos-ready) * float64(q.aht) / float64(max(staffed, 1)))
}

func (c *Center) decide(req Request, now time.Time) (*queue, Decision, error) {
	q, err := c.resolve(req)
	if err != nil {
		return nil, Decision{}, err
	}
	d := Decision{Queue: q.cfg.Name}
	if !q.cfg.Schedule.Open(now) {
		next := q.cfg.Schedule.NextOpen(now)
		d.Callback, d.NextOpen = true, optTime(next)
		d.Position = 0
		d.Transfer = Transfer{Mode: TransferNone}
		return q, d, nil
	}
	d.InHours = true
	d.Position = q.position(req.Priority())
	d.EstimatedWait = c.ewt(q, d.Position)
	if o := c.queues[q.cfg.OverflowTo]; o != nil && q.cfg.OverflowAfter > 0 && d.EstimatedWait > q.cfg.OverflowAfter &&
		o.cfg.Schedule.Open(now) {
		opos := o.position(req.Priority())
		if oewt := c.ewt(o, opos); oewt < d.EstimatedWait {
			d.Overflowed, d.OverflowFrom = true, q.cfg.Name
			q = o
			d.Queue, d.Position, d.EstimatedWait = o.cfg.Name, opos, oewt
		}
	}
	d.Transfer = transferFor(q, req)
	return q, d, nil
}

func transferFor(q *queue, req Request) Transfer {
	t := Transfer{Mode: TransferBridge}
	if req.Channel == appeal.Chat {
		t.Mode = TransferChat
	} else if q.cfg.ReferURI != "" {
		t.Mode, t.ReferURI = TransferRefer, q.cfg.ReferURI
	}
	if req.AppealNumber != "" {
		t.Headers = map[string]string{HeaderAppeal: req.AppealNumber}
	}
	return t
}

func validate(req *Request) error {
	if req.Channel == "" {
		req.Channel = appeal.Voice
	}
	if req.Channel != appeal.Voice && req.Channel != appeal.Chat && req.Channel != appeal.Callback {
		return fmt.Errorf("%w: channel %q", ErrInvalid, req.Channel)
	}
	if req.Lang == "" {
		req.Lang = "ru"
	}
	if req.AppealNumber != "" {
		if err := appeal.ValidNumber(req.AppealNumber); err != nil {
			return fmt.Errorf("%w: appeal number: %w", ErrInvalid, err)
		}
		req.AppealNumber = appeal.NormalizeNumber(req.AppealNumber)
	}
	size := 0
	for _, t := range req.Transcript {
		size += len(t.Text)
	}
	if len(req.Transcript) > 500 || size > 256<<10 || len(req.Attempts) > 50 {
		return fmt.Errorf("%w: transcript or bot attempts too large", appeal.ErrTranscriptTooLarge)
	}
	return nil
}

// Route previews where a request would go, without queueing it: the bot
// tells the caller the wait before connecting, or the next opening.
func (c *Center) Route(req Request) (Decision, error) {
	if err := validate(&req); err != nil {
		return Decision{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, d, err := c.decide(req, c.now())
	d.EWTSeconds = int(d.EstimatedWait.Seconds())
	return d, err
}

// Submit routes a request and queues the handoff. Out of hours it waits as
// a callback until the queue opens (Decision.NextOpen).
func (c *Center) Submit(req Request) (Decision, error) {
	if err := validate(&req); err != nil {
		return Decision{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	q, d, err := c.decide(req, now)
	if err != nil {
		return Decision{}, err
	}
	h := &Handoff{
		ID: newID(), AppealNumber: req.AppealNumber, Channel: req.Channel, Lang: req.Lang, Queue: q.cfg.Name,
		OverflowFrom: d.OverflowFrom, Intent: req.Intent, Topic: req.Topic, Region: req.Region, Slots: req.Slots,
		Transcript: req.Transcript, Attempts: req.Attempts, CallRef: req.CallRef, Priority: req.Priority(),
		Transfer: d.Transfer, State: Queued, CallerSince: now.Add(-req.WaitSoFar), EnqueuedAt: now,
		declined: map[string]time.Time{},
	}
	if d.Callback {
		h.State, h.NotBefore = Callback, *d.NextOpen
	}
	c.insert(q, h)
	c.handoffs[h.ID] = h
	d.HandoffID = h.ID
	c.log.Info("handoff queued", "handoff", h.ID, "queue", h.Queue, "appeal", h.AppealNumber, "callback", d.Callback,
		"position", d.Position, "ewt", d.EstimatedWait)
	c.publishHandoff(h, now)
	c.dispatch(now)
	d.EWTSeconds = int(d.EstimatedWait.Seconds())
	return d, nil
}

// insert places h by priority behind handoffs of equal or higher priority.
func (c *Center) insert(q *queue, h *Handoff) {
	i := len(q.waiting)
	for j, w := range q.waiting {
		if w.Priority < h.Priority {
			i = j
			break
		}
	}
	q.waiting = slices.Insert(q.waiting, i, h)
	c.dirty = true
}

func (c *Center) remove(h *Handoff) {
	if q := c.queues[h.Queue]; q != nil {
		if i := slices.Index(q.waiting, h); i >= 0 {
			q.waiting = slices.Delete(q.waiting, i, i+1)
		}
	}
	c.dirty = true
}

// requeueFront puts h back at the front of its queue, nothing lost.
func (c *Center) requeueFront(h *Handoff) {
	c.remove(h)
	h.State, h.Agent, h.AcceptedAt, h.OfferExpires = Queued, "", time.Time{}, time.Time{}
	q := c.queues[h.Queue]
	q.waiting = slices.Insert(q.waiting, 0, h)
}

func (c *Center) publishHandoff(h *Handoff, now time.Time) {
	v := h.view(now)
	c.hub.Publish(Event{Type: EventHandoff, At: now, Handoff: &v})
	c.dirty = true
}

// dispatch offers waiting handoffs to free agents, queue by queue in
// order, each queue front first.
func (c *Center) dispatch(now time.Time) {
	var free []*agent
	for _, a := range c.agents {
		if a.free() {
			free = append(free, a)
		}
	}
	if len(free) == 0 {
		return
	}
	for _, q := range c.order {
		open := q.cfg.Schedule.Open(now)
		for _, h := range q.waiting {
			if h.State == Callback {
				if !open || now.Before(h.NotBefore) {
					continue
				}
				h.State = Queued // the queue opened: call back
			}
			if h.State != Queued {
				continue
			}
			a := c.pick(free, q, h, now)
			if a == nil {
				continue
			}
			c.offer(a, h, now)
			free = slices.DeleteFunc(free, func(x *agent) bool { return x == a })
			if len(free) == 0 {
				return
			}
		}
	}
}

// pick chooses the agent for h: one who works q (or its overflow queue
// once h waited long enough) and did not just decline it; agents of the
// caller's region first, then q's own agents, then the longest idle.
func (c *Center) pick(free []*agent, q *queue, h *Handoff, now time.Time) *agent {
	var over *queue
	if o := c.queues[q.cfg.OverflowTo]; o != nil && q.cfg.OverflowAfter > 0 && now.Sub(h.EnqueuedAt) >= q.cfg.OverflowAfter {
		over = o
	}
	var best *agent
	var bestRank int
	for _, a := range free {
		if at, ok := h.declined[a.id]; ok && now.Sub(at) < c.declineTTL {
			continue
		}
		rank := 0
		switch {
		case a.serves(q):
			rank = 2
		case over != nil && a.serves(over):
			rank = 1
		default:
			continue
		}
		if h.Region != "" && a.region == h.Region {
			rank += 4
		}
		if best == nil || rank > bestRank || (rank == bestRank && a.since.Before(best.since)) {
			best, bestRank = a, rank
		}
	}
	return best
}

func (c *Center) offer(a *agent, h *Handoff, now time.Time) {
	h.State, h.Agent, h.OfferedAt, h.OfferExpires = Offered, a.id, now, now.Add(c.offerTimeout)
	a.offer = h
	v := h.view(now)
	c.hub.Publish(Event{Type: EventOffer, At: now, Agent: a.id, Handoff: &v})
	c.publishHandoff(h, now)
	c.log.Info("handoff offered", "handoff", h.ID, "queue", h.Queue, "agent", a.id)
}

// revoke ends an offer; h stays where it is in its queue.
func (c *Center) revoke(h *Handoff, reason string, now time.Time) {
	if a := c.agents[h.Agent]; a != nil && a.offer == h {
		a.offer = nil
		c.hub.Publish(Event{Type: EventOfferRevoked, At: now, Agent: a.id, HandoffID: h.ID, Reason: reason})
	}
	h.State, h.Agent, h.OfferExpires = Queued, "", time.Time{}
	c.publishHandoff(h, now)
}

// agentGone returns what a disconnected agent had to the front of its queue.
func (c *Center) agentGone(a *agent, now time.Time) {
	a.goneAt = time.Time{}
	if h := a.offer; h != nil {
		c.revoke(h, "agent_disconnected", now)
		c.requeueFront(h)
		c.publishHandoff(h, now)
	}
	if h := a.holding; h != nil {
		a.holding = nil
		c.requeueFront(h)
		c.log.Warn("agent disconnected mid-handoff: back to the queue front", "handoff", h.ID, "agent", a.id)
		c.publishHandoff(h, now)
	}
	a.state, a.since = Offline, now
	c.hub.Publish(Event{Type: EventAgent, At: now, Agents: []AgentView{a.view()}})
}

// Connect registers one desk connection of an agent (several tabs may be
// open). A new agent starts away.
func (c *Center) Connect(agentID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	a := c.agents[agentID]
	if a == nil {
		a = &agent{id: agentID, state: Away, since: now}
		c.agents[agentID] = a
	}
	if a.state == Offline {
		a.state = Away
	}
	a.conns++
	a.goneAt = time.Time{}
	c.dirty = true
	c.hub.Publish(Event{Type: EventAgent, At: now, Agents: []AgentView{a.view()}})
}

// Disconnect ends one desk connection. When the last one closes and the
// agent does not come back within the grace, their offer and handoff
// return to the front of the queue.
func (c *Center) Disconnect(agentID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.agents[agentID]
	if a == nil || a.conns == 0 {
		return
	}
	a.conns--
	if a.conns > 0 {
		return
	}
	now := c.now()
	a.goneAt = now
	c.dirty = true
	if c.grace <= 0 {
		c.agentGone(a, now)
		c.dispatch(now)
	}
}

// SetPresence sets an agent ready or away (and optionally skills, region).
func (c *Center) SetPresence(agentID string, p PresenceUpdate) (AgentView, error) {
	if p.State != Ready && p.State != Away {
		return AgentView{}, fmt.Errorf("%w: state %q (ready or away)", ErrInvalid, p.State)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.agents[agentID]
	if a == nil || a.conns == 0 {
		return AgentView{}, fmt.Errorf("%w: connect to the desk feed first", ErrAgentUnknown)
	}
	now := c.now()
	if p.Skills != nil {
		if len(p.Skills) == 0 {
			a.skills = nil
		} else {
			a.skills = map[string]bool{}
			for _, s := range p.Skills {
				a.skills[s] = true
			}
		}
	}
	if p.Region != "" {
		a.region = p.Region
	}
	if a.state != p.State {
		a.state, a.since = p.State, now
	}
	if p.State == Away && a.offer != nil {
		h := a.offer
		h.declined[a.id] = now
		c.revoke(h, "agent_away", now)
	}
	c.dirty = true
	v := a.view()
	c.hub.Publish(Event{Type: EventAgent, At: now, Agents: []AgentView{v}})
	c.dispatch(now)
	return a.view(), nil
}

// Accept gives the offered handoff to the agent.
func (c *Center) Accept(agentID, id string) (View, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, a, err := c.offered(agentID, id)
	if err != nil {
		return View{}, err
	}
	now := c.now()
	c.remove(h)
	h.State, h.AcceptedAt, h.OfferExpires = Accepted, now, time.Time{}
	a.offer, a.holding = nil, h
	c.log.Info("handoff accepted", "handoff", h.ID, "agent", a.id, "wait", now.Sub(h.CallerSince))
	c.publishHandoff(h, now)
	c.hub.Publish(Event{Type: EventAgent, At: now, Agents: []AgentView{a.view()}})
	return h.view(now), nil
}

func (c *Center) offered(agentID, id string) (*Handoff, *agent, error) {
	h := c.handoffs[id]
	if h == nil {
		return nil, nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	a := c.agents[agentID]
	if a == nil || h.State != Offered || h.Agent != agentID || a.offer != h {
		return nil, nil, fmt.Errorf("%w: %s", ErrNotOffered, id)
	}
	return h, a, nil
}

// Decline passes the offer on to the next agent.
func (c *Center) Decline(agentID, id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, a, err := c.offered(agentID, id)
	if err != nil {
		return err
	}
	now := c.now()
	h.declined[a.id] = now
	c.revoke(h, "declined", now)
	c.dispatch(now)
	return nil
}

// WrapUp finishes the agent's handoff with a reason and makes them ready.
func (c *Center) WrapUp(agentID, id, reason string) (View, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 500 {
		return View{}, fmt.Errorf("%w: a wrap-up reason of 1 to 500 bytes is needed", ErrInvalid)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.handoffs[id]
	if h == nil {
		return View{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	a := c.agents[agentID]
	if a == nil || h.State != Accepted || a.holding != h {
		return View{}, fmt.Errorf("%w: %s is not held by %s", ErrNotOffered, id, agentID)
	}
	now := c.now()
	h.State, h.WrapUp = Finished, reason
	a.holding, a.since = nil, now
	delete(c.handoffs, id)
	if q := c.queues[h.Queue]; q != nil {
		// Exponential moving average of handle time; the first real sample
		// replaces the configured default.
		sample := now.Sub(h.AcceptedAt)
		if q.samples == 0 {
			q.aht = sample
		} else {
			q.aht = time.Duration(0.8*float64(q.aht) + 0.2*float64(sample))
		}
		q.aht = max(q.aht, time.Second)
		q.samples++
	}
	c.log.Info("handoff finished", "handoff", h.ID, "agent", a.id, "wrap_up", reason)
	v := h.view(now)
	c.hub.Publish(Event{Type: EventHandoff, At: now, Handoff: &v})
	c.hub.Publish(Event{Type: EventAgent, At: now, Agents: []AgentView{a.view()}})
	c.dirty = true
	c.dispatch(now)
	return v, nil
}

// Cancel drops a handoff whose caller left before an agent took it.
func (c *Center) Cancel(id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.handoffs[id]
	if h == nil {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if h.State == Accepted {
		return fmt.Errorf("%w: %s is with an agent; they wrap it up", ErrInvalid, id)
	}
	now := c.now()
	if h.State == Offered {
		c.revoke(h, "canceled", now)
	}
	c.remove(h)
	h.State = Canceled
	delete(c.handoffs, id)
	v := h.view(now)
	c.hub.Publish(Event{Type: EventHandoff, At: now, Handoff: &v})
	return nil
}

// Reassign moves a handoff (a supervisor's decision): to another queue,
// where it goes to the front, and/or straight to an agent as an offer. The
// agent who had it is freed.
func (c *Center) Reassign(id, toAgent, toQueue string) (View, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.handoffs[id]
	if h == nil {
		return View{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if toAgent == "" && toQueue == "" {
		return View{}, fmt.Errorf("%w: name an agent or a queue", ErrInvalid)
	}
	var target *agent
	if toAgent != "" {
		target = c.agents[toAgent]
		if target == nil || target.conns == 0 {
			return View{}, fmt.Errorf("%w: %s", ErrAgentUnknown, toAgent)
		}
		if (target.offer != nil && target.offer != h) || (target.holding != nil && target.holding != h) {
			return View{}, fmt.Errorf("%w: %s", ErrAgentBusy, toAgent)
		}
	}
	if toQueue != "" && c.queues[toQueue] == nil {
		return View{}, fmt.Errorf("%w: %q", ErrUnknownQueue, toQueue)
	}
	now := c.now()
	switch h.State {
	case Offered:
		c.revoke(h, "reassigned", now)
	case Accepted:
		if a := c.agents[h.Agent]; a != nil && a.holding == h {
			a.holding, a.since = nil, now
			c.hub.Publish(Event{Type: EventOfferRevoked, At: now, Agent: a.id, HandoffID: h.ID, Reason: "reassigned"})
			c.hub.Publish(Event{Type: EventAgent, At: now, Agents: []AgentView{a.view()}})
		}
	}
	if toQueue != "" && toQueue != h.Queue {
		c.remove(h)
		h.Queue = toQueue
		q := c.queues[toQueue]
		q.waiting = append(q.waiting, h) // requeueFront moves it to the front
	}
	c.requeueFront(h)
	if target != nil {
		c.offer(target, h, now)
	} else {
		c.publishHandoff(h, now)
	}
	c.log.Info("handoff reassigned", "handoff", h.ID, "queue", h.Queue, "agent", toAgent)
	c.dispatch(now)
	return h.view(now), nil
}

// Message adds a chat turn to a live handoff and sends it to the desk (the
// agent holding it) and to anyone subscribed to the handoff.
func (c *Center) Message(id string, turn appeal.TranscriptTurn) (View, error) {
	if !turn.Speaker.Valid() || strings.TrimSpace(turn.Text) == "" || len(turn.Text) > 4096 {
		return View{}, fmt.Errorf("%w: a message needs a speaker and 1 to 4096 bytes of text", ErrInvalid)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.handoffs[id]
	if h == nil {
		return View{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if len(h.Transcript) >= 500 {
		return View{}, fmt.Errorf("%w: the conversation has 500 turns", appeal.ErrTranscriptTooLarge)
	}
	now := c.now()
	if turn.At.IsZero() {
		turn.At = now
	}
	h.Transcript = append(h.Transcript, turn)
	c.hub.Publish(Event{Type: EventMessage, At: now, Agent: h.Agent, HandoffID: h.ID, Turn: &turn})
	return h.view(now), nil
}

// Get returns a live handoff.
func (c *Center) Get(id string) (View, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.handoffs[id]
	if h == nil {
		return View{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return h.view(c.now()), nil
}

// Estimate returns a live handoff's card and its current estimated wait:
// a voice caller on hold hears it every so often. The wait is zero once
// an agent has it.
func (c *Center) Estimate(id string) (View, time.Duration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.handoffs[id]
	if h == nil {
		return View{}, 0, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	now := c.now()
	var wait time.Duration
	if q := c.queues[h.Queue]; q != nil && (h.State == Queued || h.State == Offered) {
		pos := 1
		for _, w := range q.waiting {
			if w == h {
				break
			}
			if w.State != Callback {
				pos++
			}
		}
		wait = c.ewt(q, pos)
	}
	return h.view(now), wait, nil
}

// HeldBy reports whether agentID holds or is offered handoff id.
func (c *Center) HeldBy(id, agentID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.handoffs[id]
	return h != nil && h.Agent == agentID
}

// Queues returns every queue's statistics.
func (c *Center) Queues() []QueueStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats(c.now())
}

func (c *Center) stats(now time.Time) []QueueStats {
	out := make([]QueueStats, 0, len(c.order))
	for _, q := range c.order {
		s := QueueStats{Name: q.cfg.Name, Title: q.cfg.Title, Open: q.cfg.Schedule.Open(now),
			AHTSeconds: int(q.aht.Seconds()), OverflowTo: q.cfg.OverflowTo}
		if !s.Open {
			s.NextOpen = optTime(q.cfg.Schedule.NextOpen(now))
		}
		for _, h := range q.waiting {
			if h.State == Callback {
				s.Callbacks++
				continue
			}
			s.Waiting++
			s.OldestWaitSec = max(s.OldestWaitSec, int(now.Sub(h.CallerSince).Seconds()))
		}
		for _, a := range c.agents {
			if a.conns == 0 || !a.serves(q) {
				continue
			}
			if a.holding != nil {
				s.BusyAgents++
			} else if a.state == Ready {
				s.ReadyAgents++
			}
		}
		s.EWTSeconds = int(c.ewt(q, q.position(0)).Seconds())
		out = append(out, s)
	}
	return out
}

// Agents returns every known agent.
func (c *Center) Agents() []AgentView {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]AgentView, 0, len(c.agents))
	for _, a := range c.agents {
		out = append(out, a.view())
	}
	slices.SortFunc(out, func(x, y AgentView) int { return strings.Compare(x.ID, y.ID) })
	return out
}

const snapshotMax = 200

// Subscribe opens the desk feed of an agent (their offers and messages,
// queue statistics, every handoff and agent change) or of a supervisor
// (everything). The first event is a snapshot.
func (c *Center) Subscribe(agentID string, supervisor bool) *Subscription {
	filter := func(ev Event) bool { return ev.Agent == "" || ev.Agent == agentID }
	if supervisor {
		filter = nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	sub := c.hub.Subscribe(filter, 256)
	snap := Event{Type: EventSnapshot, At: now, Queues: c.stats(now)}
	for _, a := range c.agents {
		if supervisor || a.id == agentID {
			snap.Agents = append(snap.Agents, a.view())
		}
	}
	// Live handoffs, queue fronts first, at most snapshotMax: a desk needs
	// the next ones, not a backlog of thousands.
	for _, q := range c.order {
		for _, h := range q.waiting {
			if len(snap.Handoffs) < snapshotMax {
				snap.Handoffs = append(snap.Handoffs, h.view(now))
			}
		}
	}
	for _, a := range c.agents {
		if h := a.holding; h != nil && (supervisor || a.id == agentID) && len(snap.Handoffs) < snapshotMax {
			snap.Handoffs = append(snap.Handoffs, h.view(now))
		}
	}
	sub.c <- snap // the buffer is empty: never blocks
	if a := c.agents[agentID]; a != nil && a.offer != nil {
		v := a.offer.view(now)
		sub.c <- Event{Type: EventOffer, At: now, Agent: agentID, Handoff: &v}
	}
	return sub
}
