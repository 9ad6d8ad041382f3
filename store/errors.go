package store

import "errors"

var (
	// ErrNoPath is returned when no database path is configured.
	ErrNoPath = errors.New("store: no database path configured")
	// ErrSchemaTooNew means the database was written by a newer Hotline.
	ErrSchemaTooNew = errors.New("store: database schema is newer than this binary")
)
