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
