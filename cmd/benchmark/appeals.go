package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/appeal/sqlitestore"
	"github.com/hotline-ivr/hotline/handoff"
	"github.com/hotline-ivr/hotline/handoff/handoffapi"
	"github.com/hotline-ivr/hotline/store"
)

// benchAppeals measures the appeals database and the agent desk: appeals
// created per second on SQLite, the latency from queueing a handoff to a
// connected agent's WebSocket receiving the offer, and memory with 10,000
// open appeals queued and 200 agents connected. It writes the body of the
// "Appeals and handoffs" section (main writes the heading). Add to
// sections():
//
//	{"Appeals and handoffs", func(ctx context.Context, b *bench, w io.Writer) error { return benchAppeals(ctx, w) }},
func benchAppeals(ctx context.Context, w io.Writer) error {
	dir, err := os.MkdirTemp("", "hotline-bench-appeals-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := store.Open(filepath.Join(dir, "hotline.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	repo, err := sqlitestore.New(ctx, db)
	if err != nil {
		return err
	}
	keys, err := appeal.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{5}, 32)}, nil)
	if err != nil {
		return err
	}
	svc, err := appeal.NewService(repo, keys)
	if err != nil {
		return err
	}

	fmt.Fprintf(w, "Machine: %d CPUs (%s/%s), SQLite (modernc.org/sqlite) in WAL mode on a temporary file; "+
		"each creation is one transaction with synchronous=FULL (fsync per commit), an encrypted contact, "+
		"a 6-turn transcript and an idempotency key.\n\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintln(w, "| concurrent creators | appeals | appeals/s | p50 latency | p99 latency |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	total := 0
	var seq atomic.Int64
	for _, workers := range []int{1, 4} {
		n, rate, p50, p99, err := createBurst(ctx, svc, &seq, workers, 6*time.Second)
		if err != nil {
			return err
		}
		total += n
		fmt.Fprintf(w, "| %d | %d | %.0f | %s | %s |\n", workers, n, rate, p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond))
	}
	// Top up to 10,000 open appeals for the memory measurement.
	for total < 10000 {
		n, _, _, _, err := createBurst(ctx, svc, &seq, 4, 0, 10000-total)
		if err != nil {
			return err
		}
		total += n
	}

	center, err := benchCenter()
	if err != nil {
		return err
	}
	defer center.Close()
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	agentGuard := func(c *gin.Context) { c.Next() }
	handoffapi.Register(r.Group("/api/v1"), center, agentGuard, agentGuard,
		handoffapi.WithActor(func(c *gin.Context) string { return c.GetHeader("X-User") }))
	srv := httptest.NewServer(r)
	defer srv.Close()

	samples, err := offerLatency(ctx, center, srv.URL, 300)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nHandoff offer latency, from `Center.Submit` to the agent's desk WebSocket (real WebSocket over loopback, "+
		"JSON decoded by the client) receiving the offer, %d handoffs: p50 %s, p99 %s, max %s.\n",
		len(samples), apct(samples, 50).Round(time.Microsecond), apct(samples, 99).Round(time.Microsecond), samples[len(samples)-1].Round(time.Microsecond))

	heap0, rss0 := memNow()
	queued, err := queueOpenAppeals(ctx, svc, center, 10000)
	if err != nil {
		return err
	}
	heap1, rss1 := memNow()
	agents, closeAgents, err := connectAgents(ctx, srv.URL, 200)
	if err != nil {
		return err
	}
	defer closeAgents()
	time.Sleep(time.Second) // snapshots delivered, queue statistics published
	heap2, rss2 := memNow()
	fmt.Fprintf(w, "\nMemory (Go heap in use after GC / process RSS), benchmark process:\n\n")
	fmt.Fprintln(w, "| state | heap | RSS |")
	fmt.Fprintln(w, "|---|---|---|")
	fmt.Fprintf(w, "| before | %s | %s |\n", mib(heap0), mib(rss0))
	fmt.Fprintf(w, "| %d open appeals loaded from SQLite and queued as handoffs (6-turn transcripts) | %s | %s |\n", queued, mib(heap1), mib(rss1))
	fmt.Fprintf(w, "| + %d agents connected to the desk WebSocket (each got a snapshot) | %s | %s |\n", agents, mib(heap2), mib(rss2))
	fmt.Fprintf(w, "\nPer queued handoff: about %s of heap; per connected agent: about %s.\n",
		kib((heap1-heap0)/uint64(max(queued, 1))), kib((heap2-heap1)/uint64(max(agents, 1))))
	return nil
}

func sampleAppeal(i int) appeal.NewAppeal {
	return appeal.NewAppeal{
		Channel: appeal.Voice, Lang: "ru", Queue: "social", Intent: "file_application",
		Slots:   map[string]string{"service": "пенсия", "region": "77"},
		Contact: appeal.Contact{Phone: fmt.Sprintf("+7 9%02d %03d-%02d-%02d", i%100, i%1000, i%97, i%89), Name: "Иван Петров"},
		Transcript: []appeal.TranscriptTurn{
			{Speaker: appeal.SpeakerCaller, Text: "Здравствуйте, хочу подать заявление на пенсию"},
			{Speaker: appeal.SpeakerBot, Text: "Подать заявление можно на портале или в МФЦ. Нужен паспорт и СНИЛС."},
			{Speaker: appeal.SpeakerCaller, Text: "А если у меня нет доступа к порталу?"},
			{Speaker: appeal.SpeakerBot, Text: "Тогда запишитесь на приём в отделение. Соединить с оператором?"},
			{Speaker: appeal.SpeakerCaller, Text: "Да, соедините пожалуйста"},
			{Speaker: appeal.SpeakerBot, Text: "Соединяю, оставайтесь на линии."},
		},
	}
}

// createBurst creates appeals from workers goroutines for d (or until
// limit when d is 0) and returns the count, rate and latency percentiles.
func createBurst(ctx context.Context, svc *appeal.Service, seq *atomic.Int64, workers int, d time.Duration, limit ...int) (int, float64, time.Duration, time.Duration, error) {
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	stop := time.Now().Add(d)
	want := 0
	if len(limit) > 0 {
		want = limit[0]
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				mu.Lock()
				done := (d > 0 && time.Now().After(stop)) || (d == 0 && len(lat) >= want) || firstErr != nil
				mu.Unlock()
				if done {
					return
				}
				i := int(seq.Add(1))
				t0 := time.Now()
				_, _, err := svc.Create(ctx, sampleAppeal(i), "bench-"+strconv.Itoa(i))
				el := time.Since(t0)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				lat = append(lat, el)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, 0, 0, 0, firstErr
	}
	elapsed := time.Since(start)
	slices.Sort(lat)
	return len(lat), float64(len(lat)) / elapsed.Seconds(), apct(lat, 50), apct(lat, 99), ctx.Err()
}

func apct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, len(sorted)*p/100)]
}

func benchCenter() (*handoff.Center, error) {
	qs, err := handoff.DefaultQueues()
	if err != nil {
		return nil, err
	}
	always := &handoff.Schedule{Loc: time.UTC}
	for d := range always.Week {
		always.Week[d] = &handoff.Span{Open: 0, Close: 24 * time.Hour}
	}
	for i := range qs {
		qs[i].Schedule = always // measure at any hour
	}
	return handoff.New(qs, handoff.WithDisconnectGrace(0))
}

func dialDesk(ctx context.Context, base, user string) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(dctx, strings.Replace(base, "http", "ws", 1)+"/api/v1/desk/ws",
		&websocket.DialOptions{HTTPHeader: http.Header{"X-User": {user}}})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(16 << 20)
	return conn, nil
}

// offerLatency queues n handoffs one by one for one ready agent and times
// each until its offer arrives on the agent's WebSocket.
func offerLatency(ctx context.Context, center *handoff.Center, base string, n int) ([]time.Duration, error) {
	conn, err := dialDesk(ctx, base, "bench-agent")
	if err != nil {
		return nil, err
	}
	defer conn.CloseNow()
	var ev handoff.Event
	if err := wsjson.Read(ctx, conn, &ev); err != nil { // snapshot
		return nil, err
	}
	if _, err := center.SetPresence("bench-agent", handoff.PresenceUpdate{State: handoff.Ready}); err != nil {
		return nil, err
	}
	req := handoff.Request{Queue: "social", Intent: "file_application", Transcript: sampleAppeal(0).Transcript}
	var out []time.Duration
	for range n {
		start := time.Now()
		d, err := center.Submit(req)
		if err != nil {
			return nil, err
		}
		for {
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := wsjson.Read(rctx, conn, &ev)
			cancel()
			if err != nil {
				return nil, fmt.Errorf("waiting for the offer: %w", err)
			}
			if ev.Type == handoff.EventOffer && ev.Handoff.ID == d.HandoffID {
				break
			}
		}
		out = append(out, time.Since(start))
		if _, err := center.Accept("bench-agent", d.HandoffID); err != nil {
			return nil, err
		}
		if _, err := center.WrapUp("bench-agent", d.HandoffID, "bench"); err != nil {
			return nil, err
		}
	}
	center.SetPresence("bench-agent", handoff.PresenceUpdate{State: handoff.Away})
	slices.Sort(out)
	return out, nil
}

// queueOpenAppeals loads up to limit open appeals from the database and queues them.
func queueOpenAppeals(ctx context.Context, svc *appeal.Service, center *handoff.Center, limit int) (int, error) {
	n := 0
	for offset := 0; ; offset += 500 {
		list, err := svc.List(ctx, appeal.Filter{Open: true, Limit: 500, Offset: offset})
		if err != nil {
			return n, err
		}
		for _, ap := range list {
			if n == limit {
				return n, nil
			}
			full, err := svc.Get(ctx, ap.Number)
			if err != nil {
				return n, err
			}
			if _, err := center.Submit(handoff.Request{AppealNumber: full.Number, Channel: full.Channel, Lang: full.Lang,
				Queue: full.Queue, Intent: full.Intent, Slots: full.Slots, Transcript: full.Transcript}); err != nil {
				return n, err
			}
			n++
		}
		if len(list) < 500 {
			return n, nil
		}
	}
}

// connectAgents opens n desk WebSockets whose readers drain the feed.
func connectAgents(ctx context.Context, base string, n int) (int, func(), error) {
	var conns []*websocket.Conn
	var wg sync.WaitGroup
	closeAll := func() {
		for _, c := range conns {
			c.CloseNow()
		}
		wg.Wait()
	}
	for i := range n {
		conn, err := dialDesk(ctx, base, fmt.Sprintf("agent-%03d", i))
		if err != nil {
			closeAll()
			return 0, nil, err
		}
		conns = append(conns, conn)
		wg.Go(func() {
			for {
				if _, _, err := conn.Read(context.Background()); err != nil {
					return
				}
			}
		})
	}
	return len(conns), closeAll, nil
}

func memNow() (heap, rss uint64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	heap = m.HeapInuse
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseUint(f[1], 10, 64)
				rss = kb << 10
			}
		}
	}
	return heap, rss
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func kib(b uint64) string { return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10)) }
