package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

func TestMigrateAppliesOnceAndInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "hotline.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	steps := []Migration{
		{Name: "create", SQL: `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`},
		{Name: "add column", SQL: `ALTER TABLE t ADD COLUMN w TEXT`},
	}
	if err := Migrate(ctx, db, "demo", steps); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO t (v, w) VALUES ('a', 'b')`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := Migrate(ctx, db, "demo", steps); err != nil {
		t.Fatalf("re-running migrations: %v", err)
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM t`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("rows after reopen = %d, %v; want 1", n, err)
	}
	var mode string
	db.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
	if err := Migrate(ctx, db, "demo", steps[:1]); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("older binary against newer schema: err = %v, want ErrSchemaTooNew", err)
	}
}

func TestMigrateRollsBackBrokenStep(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	err = Migrate(ctx, db, "demo", []Migration{
		{Name: "ok", SQL: `CREATE TABLE a (id INTEGER)`},
		{Name: "broken", SQL: `CREATE TABLE b (id INTEGER); THIS IS NOT SQL`},
	})
	if err == nil {
		t.Fatal("broken migration accepted")
	}
	var v int
	db.QueryRow(`SELECT MAX(version) FROM schema_migrations WHERE component='demo'`).Scan(&v)
	if v != 1 {
		t.Errorf("recorded version = %d, want 1 (broken step not recorded)", v)
	}
}

// A transaction that reads and then writes must wait for another writer
// (busy_timeout), not fail with SQLITE_BUSY: that is what IMMEDIATE
// write transactions buy.
func TestReadThenWriteTransactionsWaitForEachOther(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER); INSERT INTO c VALUES (1, 0)`); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			for range 50 {
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					errs <- err
					return
				}
				var n int
				if err := tx.QueryRow(`SELECT n FROM c WHERE id = 1`).Scan(&n); err != nil {
					tx.Rollback()
					errs <- err
					return
				}
				if _, err := tx.Exec(`UPDATE c SET n = ? WHERE id = 1`, n+1); err != nil {
					tx.Rollback()
					errs <- err
					return
				}
				if err := tx.Commit(); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatalf("read-then-write transaction: %v", err)
		}
	}
	var n int
	db.QueryRow(`SELECT n FROM c WHERE id = 1`).Scan(&n)
	if n != 400 {
		t.Errorf("counter = %d, want 400 (lost updates)", n)
	}
}
