// Package store opens the embedded SQLite database that appeals, the
// knowledge base and accounts live in, and applies each component's schema
// migrations in order.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Open opens (creating if needed) the SQLite database at path with WAL
// journaling, foreign keys and a busy timeout, so that concurrent writers
// wait instead of failing. Use ":memory:" only in tests.
func Open(path string) (*sql.DB, error) {
	if path == "" {
		return nil, ErrNoPath
	}
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("store: create data directory: %w", err)
		}
	}
	pragmas := []string{
		"busy_timeout(10000)",
		"foreign_keys(1)",
		"journal_mode(WAL)",
		"synchronous(NORMAL)",
	}
	// Write transactions begin IMMEDIATE: a deferred one that reads first
	// and then writes fails at once with SQLITE_BUSY when another writer
	// committed in between, without waiting out busy_timeout. Read-only
	// transactions stay deferred.
	dsn := "file:" + path + "?_pragma=" + strings.Join(pragmas, "&_pragma=") + "&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if path == ":memory:" {
		// Every new connection to :memory: is a new empty database.
		db.SetMaxOpenConns(1)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return db, nil
}

// Migration is one schema step of a component. Steps are applied in slice
// order and never edited once released: add a new step instead.
type Migration struct {
	Name string
	SQL  string
}

// Migrate applies the migrations of component that the database has not
// seen yet, each in its own transaction, and records them.
func Migrate(ctx context.Context, db *sql.DB, component string, migrations []Migration) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		component TEXT NOT NULL,
		version   INTEGER NOT NULL,
		name      TEXT NOT NULL,
		applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
		PRIMARY KEY (component, version))`); err != nil {
		return fmt.Errorf("store: create migrations table: %w", err)
	}
	var applied int
	if err := db.QueryRowContext(ctx,
		`SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE component = ?`, component).Scan(&applied); err != nil {
		return fmt.Errorf("store: read %s schema version: %w", component, err)
	}
	if applied > len(migrations) {
		return fmt.Errorf("%w: %s is at version %d, this binary knows %d", ErrSchemaTooNew, component, applied, len(migrations))
	}
	for i := applied; i < len(migrations); i++ {
		m := migrations[i]
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("store: migrate %s: %w", component, err)
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migrate %s step %d (%s): %w", component, i+1, m.Name, err)
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO schema_migrations (component, version, name) VALUES (?, ?, ?)`, component, i+1, m.Name); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: record %s step %d: %w", component, i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("store: migrate %s step %d: %w", component, i+1, err)
		}
	}
	return nil
}
