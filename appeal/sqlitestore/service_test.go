package sqlitestore_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/appeal/sqlitestore"
	"github.com/hotline-ivr/hotline/store"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type recorder struct {
	mu     sync.Mutex
	events []appeal.Event
}

func (r *recorder) Notify(_ context.Context, ev appeal.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return nil
}

func (r *recorder) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.Type+":"+string(e.Status))
	}
	return out
}

func testKey() []byte { return bytes.Repeat([]byte{7}, 32) }

type env struct {
	svc   *appeal.Service
	path  string
	clock *fakeClock
	rec   *recorder
}

func newEnv(t *testing.T, opts ...appeal.Option) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hotline.db")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	repo, err := sqlitestore.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := appeal.NewKeyring("k1", map[string][]byte{"k1": testKey()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	msk, _ := time.LoadLocation("Europe/Moscow")
	cal, err := appeal.NewCalendar(msk, []string{"2025-03-10"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{path: path, clock: &fakeClock{t: time.Date(2025, 3, 3, 9, 0, 0, 0, msk)}, rec: &recorder{}}
	opts = append([]appeal.Option{appeal.WithClock(e.clock.Now), appeal.WithNotifier(e.rec), appeal.WithCalendar(cal)}, opts...)
	if e.svc, err = appeal.NewService(repo, keys, opts...); err != nil {
		t.Fatal(err)
	}
	return e
}

func sample() appeal.NewAppeal {
	return appeal.NewAppeal{
		Channel: appeal.Voice, Lang: "ru", Queue: "social", Intent: "file_application",
		Slots:    map[string]string{"service": "пенсия"},
		Contact:  appeal.Contact{Phone: "+7 912 345-67-89", Name: "Иван Петров"},
		Articles: []string{"pension-apply"},
		Transcript: []appeal.TranscriptTurn{
			{Speaker: appeal.SpeakerCaller, Text: "Хочу подать заявление на пенсию"},
			{Speaker: appeal.SpeakerBot, Text: "Соединяю с оператором"},
		},
	}
}

func TestCreateGetRoundTrip(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, created, err := e.svc.Create(ctx, sample(), "")
	if err != nil || !created {
		t.Fatal(created, err)
	}
	if err := appeal.ValidNumber(a.Number); err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.Get(ctx, appeal.FormatNumber(a.Number))
	if err != nil {
		t.Fatal(err)
	}
	if got.Contact.Phone != "+7 912 345-67-89" || got.Slots["service"] != "пенсия" || len(got.Transcript) != 2 ||
		got.Transcript[0].Speaker != appeal.SpeakerCaller || got.Transcript[0].At.IsZero() ||
		got.Status != appeal.Accepted || len(got.History) != 1 || got.Articles[0] != "pension-apply" {
		t.Fatalf("round trip: %+v", got)
	}
	// Registered Monday 3 March: five working days end with Monday 10
	// March... which is a configured holiday, so with Tuesday 11th.
	if want := time.Date(2025, 3, 11, 21, 0, 0, 0, time.UTC); !got.Deadline.Equal(want) {
		t.Fatalf("deadline %s, want %s", got.Deadline, want)
	}
	if _, err := e.svc.Get(ctx, a.Number[:9]+string(a.Number[9]^1)); !errors.Is(err, appeal.ErrCheckDigit) {
		t.Fatalf("wrong check digit: %v", err)
	}
	other, _ := appeal.NewNumber()
	if _, err := e.svc.Get(ctx, other); !errors.Is(err, appeal.ErrNotFound) {
		t.Fatalf("unknown number: %v", err)
	}
	if got := e.rec.types(); len(got) != 1 || got[0] != "appeal.created:accepted" {
		t.Fatalf("events %v", got)
	}
}

func TestContactEncryptedAtRest(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	na := sample()
	na.Contact = appeal.Contact{Phone: "+79161234567", Name: "Zinaida Secretname", Email: "zina@example.org"}
	for i := 0; i < 20; i++ {
		if _, _, err := e.svc.Create(ctx, na, ""); err != nil {
			t.Fatal(err)
		}
	}
	var raw []byte
	for _, suffix := range []string{"", "-wal"} {
		b, _ := os.ReadFile(e.path + suffix)
		raw = append(raw, b...)
	}
	if len(raw) < 4096 {
		t.Fatal("database file empty")
	}
	for _, secret := range []string{"79161234567", "9161234567", "Secretname", "zina@example.org"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("database holds %q in clear", secret)
		}
	}
	open, repeat, err := e.svc.CallerHistory(ctx, "8 (916) 123-45-67")
	if err != nil || len(open) != 20 || !repeat {
		t.Fatalf("CallerHistory: %d open, repeat %v, %v", len(open), repeat, err)
	}
}

func TestKeyRotation(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	repo, _ := sqlitestore.New(ctx, db)
	lookup := bytes.Repeat([]byte{1}, 32)
	k1, _ := appeal.NewKeyring("k1", map[string][]byte{"k1": testKey()}, lookup)
	svc1, _ := appeal.NewService(repo, k1)
	a, _, err := svc1.Create(ctx, sample(), "")
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := appeal.NewKeyring("k2", map[string][]byte{"k1": testKey(), "k2": bytes.Repeat([]byte{9}, 32)}, lookup)
	svc2, _ := appeal.NewService(repo, k2)
	b, _, err := svc2.Create(ctx, sample(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{a.Number, b.Number} {
		got, err := svc2.Get(ctx, n)
		if err != nil || got.Contact.Name != "Иван Петров" {
			t.Fatalf("after rotation %s: %+v %v", n, got.Contact, err)
		}
	}
	if open, _, _ := svc2.CallerHistory(ctx, sample().Contact.Phone); len(open) != 2 {
		t.Fatalf("lookup hash changed with rotation: %d", len(open))
	}
	if _, err := svc1.Get(ctx, b.Number); !errors.Is(err, appeal.ErrNoKey) {
		t.Fatalf("old keyring opening new key: %v", err)
	}
}

func TestIdempotency(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, created, err := e.svc.Create(ctx, sample(), "req-1")
	if err != nil || !created {
		t.Fatal(err)
	}
	b, created, err := e.svc.Create(ctx, sample(), "req-1")
	if err != nil || created || b.Number != a.Number {
		t.Fatalf("replay: %s created=%v %v", b.Number, created, err)
	}
	other := sample()
	other.Queue = "tech"
	if _, _, err := e.svc.Create(ctx, other, "req-1"); !errors.Is(err, appeal.ErrIdempotencyConflict) {
		t.Fatalf("different payload: %v", err)
	}
	// Concurrent duplicates make one appeal.
	var wg sync.WaitGroup
	numbers := make([]string, 8)
	for i := range numbers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, _, err := e.svc.Create(ctx, sample(), "req-2")
			if err != nil {
				t.Error(err)
			}
			numbers[i] = a.Number
		}()
	}
	wg.Wait()
	for _, n := range numbers {
		if n != numbers[0] {
			t.Fatalf("concurrent duplicates made %v", numbers)
		}
	}
	list, _ := e.svc.List(ctx, appeal.Filter{})
	if len(list) != 2 {
		t.Fatalf("%d appeals, want 2", len(list))
	}
}

func TestStatusChanges(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, _, _ := e.svc.Create(ctx, sample(), "")
	if _, err := e.svc.ChangeStatus(ctx, a.Number, appeal.Done, "anna", ""); !errors.Is(err, appeal.ErrTransition) {
		t.Fatalf("accepted → done: %v", err)
	}
	if _, err := e.svc.ChangeStatus(ctx, a.Number, appeal.Rejected, "anna", "  "); !errors.Is(err, appeal.ErrReasonRequired) {
		t.Fatalf("reject without reason: %v", err)
	}
	steps := []struct {
		to     appeal.Status
		reason string
	}{{appeal.InProgress, ""}, {appeal.UnderApproval, "нужна подпись"}, {appeal.InProgress, "вернули"}, {appeal.Rejected, "нет оснований"}}
	for _, s := range steps {
		e.clock.Set(e.clock.Now().Add(time.Hour))
		if _, err := e.svc.ChangeStatus(ctx, a.Number, s.to, "anna", s.reason); err != nil {
			t.Fatalf("→ %s: %v", s.to, err)
		}
	}
	got, _ := e.svc.Get(ctx, a.Number)
	if got.Status != appeal.Rejected || got.StatusReason != "нет оснований" || len(got.History) != 5 || got.Deadline != nil {
		t.Fatalf("after changes: %+v", got)
	}
	h := got.History[2]
	if h.From != appeal.InProgress || h.To != appeal.UnderApproval || h.Actor != "anna" || h.Reason != "нужна подпись" || h.At.IsZero() {
		t.Fatalf("history entry %+v", h)
	}
	if _, err := e.svc.ChangeStatus(ctx, a.Number, appeal.InProgress, "anna", ""); !errors.Is(err, appeal.ErrTransition) {
		t.Fatalf("change after rejection: %v", err)
	}
	if n := len(e.rec.types()); n != 5 {
		t.Fatalf("%d events, want 5: %v", n, e.rec.types())
	}
	// Concurrent identical changes: exactly one wins.
	b, _, _ := e.svc.Create(ctx, sample(), "")
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.svc.ChangeStatus(ctx, b.Number, appeal.InProgress, "x", ""); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, appeal.ErrTransition) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent changes won", wins)
	}
}

func TestNotesTranscriptAndLimits(t *testing.T) {
	e := newEnv(t, appeal.WithLimits(appeal.Limits{MaxTurns: 5, MaxTranscriptBytes: 300}))
	ctx := context.Background()
	a, _, _ := e.svc.Create(ctx, sample(), "")
	if _, err := e.svc.AddNote(ctx, a.Number, "anna", "перезвонить после 15:00"); err != nil {
		t.Fatal(err)
	}
	turn := []appeal.TranscriptTurn{{Speaker: appeal.SpeakerAgent, Text: "Здравствуйте"}}
	if err := e.svc.AppendTranscript(ctx, a.Number, turn); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AppendTranscript(ctx, a.Number, []appeal.TranscriptTurn{{Speaker: "robot", Text: "x"}}); !errors.Is(err, appeal.ErrInvalid) {
		t.Fatalf("bad speaker: %v", err)
	}
	big := []appeal.TranscriptTurn{{Speaker: appeal.SpeakerCaller, Text: strings.Repeat("а", 200)}}
	if err := e.svc.AppendTranscript(ctx, a.Number, big); !errors.Is(err, appeal.ErrTranscriptTooLarge) {
		t.Fatalf("oversize append: %v", err)
	}
	na := sample()
	na.Transcript = append(na.Transcript, na.Transcript...)
	na.Transcript = append(na.Transcript, na.Transcript...)
	if _, _, err := e.svc.Create(ctx, na, ""); !errors.Is(err, appeal.ErrTranscriptTooLarge) {
		t.Fatalf("oversize create: %v", err)
	}
	got, _ := e.svc.Get(ctx, a.Number)
	if len(got.Notes) != 1 || got.Notes[0].Author != "anna" || len(got.Transcript) != 3 {
		t.Fatalf("notes %v transcript %v", got.Notes, got.Transcript)
	}
	other, _ := appeal.NewNumber()
	if _, err := e.svc.AddNote(ctx, other, "anna", "x"); !errors.Is(err, appeal.ErrNotFound) {
		t.Fatalf("note on unknown: %v", err)
	}
}

func TestLookupForCaller(t *testing.T) {
	e := newEnv(t, appeal.WithLookupLimit(3, time.Minute))
	ctx := context.Background()
	a, _, _ := e.svc.Create(ctx, sample(), "")
	info, err := e.svc.LookupForCaller(ctx, appeal.FormatNumber(a.Number), "6789", "ru")
	if err != nil || info.Status != appeal.Accepted || info.Label != "Принято" || info.Meaning == "" || info.Spoken == "" {
		t.Fatalf("lookup: %+v %v", info, err)
	}
	unknown, _ := appeal.NewNumber()
	_, errWrong := e.svc.LookupForCaller(ctx, a.Number, "0000", "ru")
	_, errUnknown := e.svc.LookupForCaller(ctx, unknown, "6789", "ru")
	if !errors.Is(errWrong, appeal.ErrLookupFailed) || errWrong != errUnknown {
		t.Fatalf("wrong factor %v, unknown number %v: must be the same error", errWrong, errUnknown)
	}
	if _, err := e.svc.LookupForCaller(ctx, a.Number[:9]+string(a.Number[9]^1), "6789", "ru"); !errors.Is(err, appeal.ErrCheckDigit) {
		t.Fatalf("misheard: %v", err)
	}
	e.svc.LookupForCaller(ctx, a.Number, "1111", "ru")
	e.svc.LookupForCaller(ctx, a.Number, "2222", "ru")
	if _, err := e.svc.LookupForCaller(ctx, a.Number, "6789", "ru"); !errors.Is(err, appeal.ErrRateLimited) {
		t.Fatalf("after 3 failures: %v", err)
	}
	e.clock.Set(e.clock.Now().Add(time.Minute))
	if _, err := e.svc.LookupForCaller(ctx, a.Number, "6789", "en"); err != nil {
		t.Fatalf("after a minute: %v", err)
	}
}

func TestEscalationAcrossWeekendAndHoliday(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	msk, _ := time.LoadLocation("Europe/Moscow")
	// Registered Monday 3 March 09:00; 5 working days skip the weekend and
	// the holiday on Monday 10th: limit ends at the end of Tuesday 11th.
	a, _, _ := e.svc.Create(ctx, sample(), "")
	b, _, _ := e.svc.Create(ctx, sample(), "")
	e.clock.Set(time.Date(2025, 3, 11, 23, 59, 0, 0, msk))
	if n, err := e.svc.SweepOverdue(ctx); err != nil || n != 0 {
		t.Fatalf("before the limit: %d %v", n, err)
	}
	e.clock.Set(time.Date(2025, 3, 12, 0, 1, 0, 0, msk))
	if _, err := e.svc.ChangeStatus(ctx, b.Number, appeal.InProgress, "anna", ""); err != nil {
		t.Fatal(err) // in_progress keeps the processing limit from registration
	}
	if n, err := e.svc.SweepOverdue(ctx); err != nil || n != 2 {
		t.Fatalf("after the limit: %d %v", n, err)
	}
	if n, _ := e.svc.SweepOverdue(ctx); n != 0 {
		t.Fatalf("escalated twice: %d", n)
	}
	got, _ := e.svc.Get(ctx, a.Number)
	if got.EscalatedAt == nil || len(got.Notes) != 1 || got.Notes[0].Author != "system" {
		t.Fatalf("escalated appeal %+v", got)
	}
	if l, _ := e.svc.List(ctx, appeal.Filter{Escalated: true}); len(l) != 2 {
		t.Fatalf("escalated filter %d", len(l))
	}
	// Approval: 10 working days from Wednesday 12 March → end of 26 March.
	if _, err := e.svc.ChangeStatus(ctx, b.Number, appeal.UnderApproval, "anna", "в министерство"); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(time.Date(2025, 3, 26, 23, 0, 0, 0, msk))
	if n, _ := e.svc.SweepOverdue(ctx); n != 0 {
		t.Fatalf("approval escalated early: %d", n)
	}
	e.clock.Set(time.Date(2025, 3, 27, 0, 0, 1, 0, msk))
	if n, _ := e.svc.SweepOverdue(ctx); n != 1 {
		t.Fatalf("approval not escalated: %d", n)
	}
	var escalations int
	for _, ty := range e.rec.types() {
		if strings.HasPrefix(ty, appeal.EventEscalated) {
			escalations++
		}
	}
	if escalations != 3 {
		t.Fatalf("escalation events %v", e.rec.types())
	}
}

func TestListFilters(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		na := sample()
		if i%2 == 0 {
			na.Queue = "tech"
		}
		e.clock.Set(e.clock.Now().Add(time.Minute))
		if _, _, err := e.svc.Create(ctx, na, ""); err != nil {
			t.Fatal(err)
		}
	}
	if l, _ := e.svc.List(ctx, appeal.Filter{Queue: "tech"}); len(l) != 3 {
		t.Fatalf("queue filter: %d", len(l))
	}
	page1, _ := e.svc.List(ctx, appeal.Filter{Limit: 2})
	page2, _ := e.svc.List(ctx, appeal.Filter{Limit: 2, Offset: 2})
	if len(page1) != 2 || len(page2) != 2 || page1[0].CreatedAt.Before(page1[1].CreatedAt) || page1[1].Number == page2[0].Number {
		t.Fatal("paging")
	}
	if _, err := e.svc.List(ctx, appeal.Filter{Status: "closed"}); !errors.Is(err, appeal.ErrInvalid) {
		t.Fatalf("bad status filter: %v", err)
	}
}
