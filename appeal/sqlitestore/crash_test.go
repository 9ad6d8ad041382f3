package sqlitestore_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/appeal/sqlitestore"
	"github.com/hotline-ivr/hotline/store"
)

const crashEnv = "HOTLINE_APPEAL_CRASH_DB"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashEnv); path != "" {
		crashBurst(path) // never returns: killed by the parent test
		os.Exit(3)
	}
	os.Exit(m.Run())
}

// crashBurst creates appeals from four goroutines as fast as it can and
// prints each number only after Create returned: the acknowledgement.
func crashBurst(path string) {
	ctx := context.Background()
	db, err := store.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	repo, err := sqlitestore.New(ctx, db)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	keys, _ := appeal.NewKeyring("k1", map[string][]byte{"k1": testKey()}, nil)
	svc, _ := appeal.NewService(repo, keys)
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				a, _, err := svc.Create(ctx, sample(), fmt.Sprintf("%d-w%d-%d", os.Getpid(), w, i))
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Fprintln(out, a.Number)
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func TestCrashLosesNoAcknowledgedAppeal(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: not in -short")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	for round := 0; round < 3; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnv+"="+path)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var acked []string // this round's; earlier rounds' stay in the file
		sc := bufio.NewScanner(stdout)
		killAt := 150 + round*100
		deadline := time.Now().Add(30 * time.Second)
		for sc.Scan() {
			acked = append(acked, sc.Text())
			if len(acked) == killAt || time.Now().After(deadline) {
				cmd.Process.Signal(syscall.SIGKILL)
				break
			}
		}
		// Numbers printed between the kill decision and the kill were acknowledged too.
		for sc.Scan() {
			acked = append(acked, sc.Text())
		}
		cmd.Wait()
		if len(acked) < killAt {
			t.Fatalf("round %d: helper acknowledged only %d appeals", round, len(acked))
		}

		db, err := store.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var integrity string
		if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
			t.Fatalf("integrity_check: %q %v", integrity, err)
		}
		present := map[string]bool{}
		rows, err := db.Query(`SELECT number FROM appeals`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var n string
			rows.Scan(&n)
			present[n] = true
		}
		rows.Close()
		var orphans int
		db.QueryRow(`SELECT count(*) FROM appeals a WHERE NOT EXISTS (SELECT 1 FROM appeal_history h WHERE h.number = a.number)`).Scan(&orphans)
		db.Close()
		lost := 0
		for _, n := range acked {
			if !present[n] {
				lost++
			}
		}
		t.Logf("round %d: %d acknowledged, %d in the database, %d lost, %d without history", round, len(acked), len(present), lost, orphans)
		if lost > 0 || orphans > 0 {
			t.Fatalf("round %d: %d acknowledged appeals lost, %d appeals without history", round, lost, orphans)
		}
	}
}
