package appeal

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/hotline-ivr/hotline/internal/redact"
)

// Limits bound appeals' sizes and time limits.
type Limits struct {
	MaxTurns           int // transcript turns per appeal (default 500)
	MaxTranscriptBytes int // bytes of transcript text per appeal (default 256 KiB)
	MaxNoteBytes       int // bytes per note (default 8 KiB)
	ProcessingDays     int // working days for accepted + in_progress (default 5)
	ApprovalDays       int // working days for under_approval (default 10)
}

// DefaultLimits are the limits used when none are set.
var DefaultLimits = Limits{MaxTurns: 500, MaxTranscriptBytes: 256 << 10, MaxNoteBytes: 8 << 10, ProcessingDays: 5, ApprovalDays: 10}

// Service is the appeals domain: every change goes through it. It is safe
// for concurrent use.
type Service struct {
	repo     Repository
	keys     *Keyring
	cal      *Calendar
	log      *slog.Logger
	now      func() time.Time
	notifier Notifier
	limits   Limits
	lookups  *attempts
}

// Option configures a Service.
type Option func(*Service)

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithClock injects the time source.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithNotifier sets where events go (use Notifiers for several).
func WithNotifier(n Notifier) Option { return func(s *Service) { s.notifier = n } }

// WithCalendar sets the working-day calendar (default: Moscow, no holidays).
func WithCalendar(c *Calendar) Option { return func(s *Service) { s.cal = c } }

// WithLimits overrides limits; zero fields keep their defaults.
func WithLimits(l Limits) Option {
	return func(s *Service) {
		d := &s.limits
		for _, p := range []struct{ dst, src *int }{
			{&d.MaxTurns, &l.MaxTurns}, {&d.MaxTranscriptBytes, &l.MaxTranscriptBytes},
			{&d.MaxNoteBytes, &l.MaxNoteBytes}, {&d.ProcessingDays, &l.ProcessingDays},
			{&d.ApprovalDays, &l.ApprovalDays},
		} {
			if *p.src > 0 {
				*p.dst = *p.src
			}
		}
	}
}

// WithLookupLimit allows burst failed caller lookups per number, one more
// per every (default 5, one per 3 minutes).
func WithLookupLimit(burst int, every time.Duration) Option {
	return func(s *Service) { s.lookups.burst, s.lookups.every = burst, every }
}

// NewService returns the service over repo, sealing contacts with keys.
func NewService(repo Repository, keys *Keyring, opts ...Option) (*Service, error) {
	if repo == nil || keys == nil {
		return nil, fmt.Errorf("%w: repository and keyring are required", ErrInvalid)
	}
	s := &Service{
		repo: repo, keys: keys,
		log:      slog.New(slog.DiscardHandler),
		now:      time.Now,
		notifier: Notifiers(nil),
		limits:   DefaultLimits,
		lookups:  &attempts{burst: 5, every: 3 * time.Minute, m: map[string]*bucket{}},
	}
	for _, o := range opts {
		o(s)
	}
	if s.cal == nil {
		cal, err := NewCalendar(nil, nil, nil)
		if err != nil {
			return nil, err
		}
		s.cal = cal
	}
	s.lookups.now = s.now
	return s, nil
}

// Limits returns the limits in force.
func (s *Service) Limits() Limits { return s.limits }

// Calendar returns the working-day calendar.
func (s *Service) Calendar() *Calendar { return s.cal }

func (s *Service) validate(na *NewAppeal) error {
	if na.Channel == "" {
		na.Channel = Voice
	}
	if !na.Channel.Valid() {
		return fmt.Errorf("%w: channel %q (voice, chat or callback)", ErrInvalid, na.Channel)
	}
	if na.Lang == "" {
		na.Lang = "ru"
	}
	if na.Lang != "ru" && na.Lang != "en" {
		return fmt.Errorf("%w: language %q (ru or en)", ErrInvalid, na.Lang)
	}
	if na.Queue == "" {
		na.Queue = "general"
	}
	if len(na.Subject) > 1000 || len(na.Contact.Name) > 200 || len(na.Contact.Email) > 200 || len(na.Contact.Phone) > 32 {
		return fmt.Errorf("%w: subject or contact field too long", ErrInvalid)
	}
	if na.Contact.Phone != "" && len(NormalizePhone(na.Contact.Phone)) < 5 {
		return fmt.Errorf("%w: phone %q has too few digits", ErrInvalid, redact.Digits(na.Contact.Phone))
	}
	if len(na.Slots) > 100 || len(na.Articles) > 100 {
		return fmt.Errorf("%w: too many slots or articles", ErrInvalid)
	}
	return s.checkTurns(na.Transcript, 0, 0)
}

func (s *Service) checkTurns(turns []TranscriptTurn, haveTurns, haveBytes int) error {
	n, size := haveTurns+len(turns), haveBytes
	for i, t := range turns {
		if !t.Speaker.Valid() {
			return fmt.Errorf("%w: turn %d: speaker %q (caller, bot or agent)", ErrInvalid, i, t.Speaker)
		}
		size += len(t.Text)
	}
	if n > s.limits.MaxTurns || size > s.limits.MaxTranscriptBytes {
		return fmt.Errorf("%w: %d turns and %d bytes, the limits are %d turns and %d bytes",
			ErrTranscriptTooLarge, n, size, s.limits.MaxTurns, s.limits.MaxTranscriptBytes)
	}
	return nil
}

// Create registers an appeal. With an idempotency key, repeating the same
// request returns the same appeal (created false) and a different request
// under the same key fails with ErrIdempotencyConflict.
func (s *Service) Create(ctx context.Context, na NewAppeal, idemKey string) (a Appeal, created bool, err error) {
	if err := s.validate(&na); err != nil {
		return Appeal{}, false, err
	}
	if len(idemKey) > 200 {
		return Appeal{}, false, fmt.Errorf("%w: idempotency key longer than 200 characters", ErrInvalid)
	}
	var payloadHash string
	if idemKey != "" {
		body, _ := json.Marshal(na)
		payloadHash = s.keys.mac(body)
		if a, ok, err := s.replay(ctx, idemKey, payloadHash); ok || err != nil {
			return a, false, err
		}
	}
	actor := na.Actor
	if actor == "" {
		actor = "bot"
	}
	now := s.now().UTC()
	deadline := s.cal.AddWorkingDays(now, s.limits.ProcessingDays).UTC()
	for attempt := 0; ; attempt++ {
		number, err := NewNumber()
		if err != nil {
			return Appeal{}, false, err
		}
		sealed, keyID, err := s.keys.seal(number, na.Contact)
		if err != nil {
			return Appeal{}, false, err
		}
		for i := range na.Transcript {
			if na.Transcript[i].At.IsZero() {
				na.Transcript[i].At = now
			}
		}
		rec := Record{
			Appeal: Appeal{
				Number: number, Channel: na.Channel, Lang: na.Lang, Queue: na.Queue, Intent: na.Intent,
				Region: na.Region, Subject: na.Subject, Slots: na.Slots, Articles: na.Articles,
				Transcript: na.Transcript, Status: Accepted, StatusSince: now, Deadline: &deadline,
				CreatedAt: now, UpdatedAt: now,
			},
			SealedContact: sealed, KeyID: keyID, PhoneHash: s.keys.PhoneHash(na.Contact.Phone),
		}
		first := HistoryEntry{To: Accepted, Actor: actor, At: now}
		err = s.repo.Create(ctx, rec, first, Idempotency{Key: idemKey, PayloadHash: payloadHash, Number: number, CreatedAt: now})
		switch {
		case err == nil:
			a = rec.Appeal
			a.Contact = na.Contact
			a.History = []HistoryEntry{first}
			s.log.Info("appeal created", "number", number, "channel", na.Channel, "queue", na.Queue)
			s.notify(ctx, a, Event{Type: EventCreated, Status: Accepted, Actor: actor})
			return a, true, nil
		case errors.Is(err, ErrDuplicateNumber) && attempt < 5:
			continue
		case errors.Is(err, ErrDuplicateKey):
			// A concurrent request with the same key won the race.
			a, ok, err := s.replay(ctx, idemKey, payloadHash)
			if !ok && err == nil {
				err = fmt.Errorf("appeal: idempotency key %q vanished", idemKey)
			}
			return a, false, err
		default:
			return Appeal{}, false, fmt.Errorf("appeal: create: %w", err)
		}
	}
}

func (s *Service) replay(ctx context.Context, key, payloadHash string) (Appeal, bool, error) {
	idem, err := s.repo.Idempotency(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return Appeal{}, false, nil
	}
	if err != nil {
		return Appeal{}, false, err
	}
	if subtle.ConstantTimeCompare([]byte(idem.PayloadHash), []byte(payloadHash)) != 1 {
		return Appeal{}, false, fmt.Errorf("%w: key %q belongs to appeal with different content", ErrIdempotencyConflict, key)
	}
	a, err := s.Get(ctx, idem.Number)
	return a, err == nil, err
}

// Get returns the appeal with the number (spaces allowed), contact opened.
func (s *Service) Get(ctx context.Context, number string) (Appeal, error) {
	n, err := ParseNumber(number)
	if err != nil {
		return Appeal{}, err
	}
	rec, err := s.repo.Get(ctx, n)
	if err != nil {
		return Appeal{}, err
	}
	return s.opened(rec)
}

// GetByNumber is Get, named for readers looking for it.
func (s *Service) GetByNumber(ctx context.Context, number string) (Appeal, error) {
	return s.Get(ctx, number)
}

func (s *Service) opened(rec Record) (Appeal, error) {
	c, err := s.keys.open(rec.Number, rec.KeyID, rec.SealedContact)
	if err != nil {
		return Appeal{}, err
	}
	a := rec.Appeal
	a.Contact = c
	return a, nil
}

// List returns appeals matching f, newest first, contacts opened.
func (s *Service) List(ctx context.Context, f Filter) ([]Appeal, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	f.Offset = max(f.Offset, 0)
	if f.Status != "" && !f.Status.Valid() {
		return nil, fmt.Errorf("%w: status %q", ErrInvalid, f.Status)
	}
	recs, err := s.repo.List(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]Appeal, 0, len(recs))
	for _, r := range recs {
		a, err := s.opened(r)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// ChangeStatus moves an appeal to status to, recording actor and reason,
// and notifies. Rejection needs a reason.
func (s *Service) ChangeStatus(ctx context.Context, number string, to Status, actor, reason string) (Appeal, error) {
	n, err := ParseNumber(number)
	if err != nil {
		return Appeal{}, err
	}
	if !to.Valid() {
		return Appeal{}, fmt.Errorf("%w: unknown status %q", ErrInvalid, to)
	}
	reason = strings.TrimSpace(reason)
	if to == Rejected && reason == "" {
		return Appeal{}, ErrReasonRequired
	}
	if len(reason) > 2000 {
		return Appeal{}, fmt.Errorf("%w: reason longer than 2000 bytes", ErrInvalid)
	}
	if actor == "" {
		actor = "system"
	}
	for attempt := 0; attempt < 3; attempt++ {
		rec, err := s.repo.Get(ctx, n)
		if err != nil {
			return Appeal{}, err
		}
		from := rec.Status
		if !CanTransition(from, to) {
			return Appeal{}, fmt.Errorf("%w: from %s to %s", ErrTransition, from, to)
		}
		now := s.now().UTC()
		deadline := s.deadline(rec.Appeal, to, now)
		h := HistoryEntry{From: from, To: to, Actor: actor, At: now, Reason: reason}
		err = s.repo.ChangeStatus(ctx, n, from, h, deadline)
		if errors.Is(err, ErrStale) {
			continue
		}
		if err != nil {
			return Appeal{}, fmt.Errorf("appeal: change status: %w", err)
		}
		a, err := s.Get(ctx, n)
		if err != nil {
			return Appeal{}, err
		}
		s.log.Info("appeal status changed", "number", n, "from", from, "to", to, "actor", actor)
		s.notify(ctx, a, Event{Type: EventStatusChanged, Status: to, From: from, Reason: reason, Actor: actor})
		return a, nil
	}
	return Appeal{}, fmt.Errorf("appeal: change status of %s: %w", n, ErrStale)
}

// deadline is the end of the time limit of status to, entered at now.
func (s *Service) deadline(a Appeal, to Status, now time.Time) *time.Time {
	var d time.Time
	switch {
	case to == InProgress && a.Status == Accepted && a.Deadline != nil:
		return a.Deadline // the processing period runs from registration
	case to == Accepted, to == InProgress:
		d = s.cal.AddWorkingDays(now, s.limits.ProcessingDays)
	case to == UnderApproval:
		d = s.cal.AddWorkingDays(now, s.limits.ApprovalDays)
	default:
		return nil
	}
	d = d.UTC()
	return &d
}

// AddNote adds an agent's note.
func (s *Service) AddNote(ctx context.Context, number, author, text string) (Note, error) {
	n, err := ParseNumber(number)
	if err != nil {
		return Note{}, err
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return Note{}, fmt.Errorf("%w: empty note", ErrInvalid)
	}
	if len(text) > s.limits.MaxNoteBytes {
		return Note{}, fmt.Errorf("%w: note of %d bytes, the limit is %d", ErrTranscriptTooLarge, len(text), s.limits.MaxNoteBytes)
	}
	note := Note{At: s.now().UTC(), Author: author, Text: text}
	if err := s.repo.AddNote(ctx, n, note); err != nil {
		return Note{}, err
	}
	return note, nil
}

// AppendTranscript adds conversation turns (a chat continuing in the desk,
// a call's later turns). Turns without a time get now.
func (s *Service) AppendTranscript(ctx context.Context, number string, turns []TranscriptTurn) error {
	n, err := ParseNumber(number)
	if err != nil {
		return err
	}
	if len(turns) == 0 {
		return nil
	}
	if err := s.checkTurns(turns, 0, 0); err != nil {
		return err
	}
	now := s.now().UTC()
	for i := range turns {
		if turns[i].At.IsZero() {
			turns[i].At = now
		}
	}
	return s.repo.AppendTranscript(ctx, n, turns, s.limits.MaxTurns, s.limits.MaxTranscriptBytes)
}

// CallerHistory tells routing whether a phone has open appeals (their
// numbers) and whether it called before (any appeal at all).
func (s *Service) CallerHistory(ctx context.Context, phone string) (open []string, repeat bool, err error) {
	h := s.keys.PhoneHash(phone)
	if h == "" {
		return nil, false, nil
	}
	open, total, err := s.repo.OpenByPhoneHash(ctx, h)
	return open, total > 0, err
}

// StatusInfo is what the bot tells a caller about an appeal.
type StatusInfo struct {
	Number   string     `json:"number"`
	Spoken   string     `json:"spoken"` // "123 456 789 0"
	Status   Status     `json:"status"`
	Label    string     `json:"label"`
	Meaning  string     `json:"meaning"`
	Reason   string     `json:"reason,omitempty"`
	Since    time.Time  `json:"since"`
	Deadline *time.Time `json:"deadline,omitempty"`
}

// LookupForCaller returns an appeal's status to a caller who knows its
// number and the last four digits of the phone it was registered with.
// Unknown numbers and wrong digits both give ErrLookupFailed; after too
// many failures on one number, ErrRateLimited.
func (s *Service) LookupForCaller(ctx context.Context, number, phoneLast4, lang string) (StatusInfo, error) {
	n, err := ParseNumber(number)
	if err != nil {
		return StatusInfo{}, err
	}
	if ok, _ := s.lookups.allow(n); !ok {
		return StatusInfo{}, ErrRateLimited
	}
	factor := NormalizePhone(phoneLast4)
	rec, err := s.repo.Get(ctx, n)
	if errors.Is(err, ErrNotFound) {
		s.lookups.fail(n)
		return StatusInfo{}, ErrLookupFailed
	}
	if err != nil {
		return StatusInfo{}, err
	}
	c, err := s.keys.open(rec.Number, rec.KeyID, rec.SealedContact)
	if err != nil {
		return StatusInfo{}, err
	}
	phone := NormalizePhone(c.Phone)
	if len(factor) != 4 || len(phone) < 4 ||
		subtle.ConstantTimeCompare([]byte(phone[len(phone)-4:]), []byte(factor)) != 1 {
		s.lookups.fail(n)
		s.log.Info("appeal lookup refused", "number", n)
		return StatusInfo{}, ErrLookupFailed
	}
	if lang != "en" {
		lang = "ru"
	}
	info := StatusInfo{
		Number: n, Spoken: FormatNumber(n), Status: rec.Status, Label: rec.Status.Label(lang),
		Meaning: rec.Status.Meaning(lang), Since: rec.StatusSince, Deadline: rec.Deadline,
	}
	if rec.Status == Rejected {
		info.Reason = rec.StatusReason
	}
	return info, nil
}

// SweepOverdue escalates open appeals past their stage's time limit: each
// is marked, gets a system note and an EventEscalated. It returns how many
// it escalated.
func (s *Service) SweepOverdue(ctx context.Context) (int, error) {
	now := s.now().UTC()
	count := 0
	for {
		recs, err := s.repo.Overdue(ctx, now, 100)
		if err != nil {
			return count, fmt.Errorf("appeal: overdue: %w", err)
		}
		progressed := false
		for _, r := range recs {
			text := fmt.Sprintf("Срок статуса «%s» истёк %s: обращение эскалировано.",
				r.Status.Label("ru"), r.Deadline.In(s.cal.Location()).Format("02.01.2006 15:04"))
			ok, err := s.repo.MarkEscalated(ctx, r.Number, r.Status, now, Note{At: now, Author: "system", Text: text})
			if err != nil {
				return count, fmt.Errorf("appeal: escalate %s: %w", r.Number, err)
			}
			if !ok {
				continue
			}
			progressed = true
			count++
			a, err := s.opened(r)
			if err != nil {
				return count, err
			}
			s.log.Warn("appeal escalated", "number", r.Number, "status", r.Status, "deadline", r.Deadline)
			s.notify(ctx, a, Event{Type: EventEscalated, Status: r.Status, Actor: "system", Reason: text})
		}
		if len(recs) < 100 || !progressed {
			return count, nil
		}
	}
}

func (s *Service) notify(ctx context.Context, a Appeal, ev Event) {
	ev.ID = newEventID()
	ev.At = s.now().UTC()
	ev.Number, ev.Channel, ev.Lang, ev.Queue = a.Number, a.Channel, a.Lang, a.Queue
	ev.Deadline = a.Deadline
	ev.Phone = a.Contact.Phone
	// The change is committed: a caller's cancelled request must not stop
	// its notification.
	if err := s.notifier.Notify(context.WithoutCancel(ctx), ev); err != nil {
		s.log.Error("appeal notification failed", "number", a.Number, "event", ev.Type, "err", err)
	}
}

// attempts limits failed lookups per number with a token bucket.
type attempts struct {
	mu    sync.Mutex
	burst int
	every time.Duration
	now   func() time.Time
	m     map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func (l *attempts) get(key string) *bucket {
	now := l.now()
	b, ok := l.m[key]
	if !ok {
		if len(l.m) > 10000 {
			for k, v := range l.m {
				if now.Sub(v.at) > time.Duration(l.burst)*l.every {
					delete(l.m, k)
				}
			}
		}
		b = &bucket{tokens: float64(l.burst), at: now}
		l.m[key] = b
	}
	b.tokens = min(float64(l.burst), b.tokens+float64(now.Sub(b.at))/float64(l.every))
	b.at = now
	return b
}

func (l *attempts) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.get(key)
	if b.tokens >= 1 {
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) * float64(l.every))
}

func (l *attempts) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.get(key).tokens--
}

// Runner sweeps overdue appeals periodically in a goroutine it owns.
type Runner struct {
	svc    *Service
	every  time.Duration
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// StartEscalation sweeps at once and then every interval until Close.
func (s *Service) StartEscalation(ctx context.Context, every time.Duration) *Runner {
	ctx, cancel := context.WithCancel(ctx)
	r := &Runner{svc: s, every: every, cancel: cancel, done: make(chan struct{})}
	go r.run(ctx)
	return r
}

func (r *Runner) run(ctx context.Context) {
	defer close(r.done)
	t := time.NewTicker(r.every)
	defer t.Stop()
	for {
		if n, err := r.svc.SweepOverdue(ctx); err != nil && ctx.Err() == nil {
			r.svc.log.Error("escalation sweep failed", "err", err)
		} else if n > 0 {
			r.svc.log.Info("escalation sweep", "escalated", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close stops the runner and waits for it. It is idempotent.
func (r *Runner) Close() error {
	r.once.Do(r.cancel)
	<-r.done
	return nil
}
