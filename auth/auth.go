// Package auth holds Hotline's accounts, roles and login sessions: users
// with argon2id password hashes, random session tokens stored only as
// hashes, per-user-and-address login throttling, CSRF protection for
// cookie sessions, and gin middleware that guards routes by role.
//
// CSRF: a browser session is an HttpOnly, SameSite=Strict cookie; on top of
// that every state-changing request (anything but GET, HEAD, OPTIONS)
// authenticated by the cookie must carry the header X-Hotline-CSRF with the
// token returned by login and by GET /auth/me. The token is derived from
// the session token, so it needs no storage and dies with the session.
// Requests authenticated with "Authorization: Bearer" are exempt: browsers
// never attach that header on their own.
package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/hotline-ivr/hotline/store"
)

// Roles.
const (
	RoleAdmin      = "admin"
	RoleEditor     = "editor"
	RoleAgent      = "agent"
	RoleSupervisor = "supervisor"
)

// Roles lists every known role.
var allRoles = []string{RoleAdmin, RoleEditor, RoleAgent, RoleSupervisor}

// Service manages users and sessions. It is safe for concurrent use.
type Service struct {
	db           *sql.DB
	log          *slog.Logger
	now          func() time.Time
	sessionTTL   time.Duration
	passwordFile string
	secureCookie bool
	hash         hashParams
	limiter      *limiter
	// dummyHash is checked for unknown user names, so a login for a name
	// that does not exist costs as much as one that does.
	dummyHash string
}

// Option configures a Service.
type Option func(*Service)

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithClock injects the time source, for testing expiry and throttling.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithSessionTTL sets how long a session lives after login (default 12h,
// one working shift).
func WithSessionTTL(d time.Duration) Option { return func(s *Service) { s.sessionTTL = d } }

// WithInitialPasswordFile sets where Bootstrap writes the first admin's
// password.
func WithInitialPasswordFile(path string) Option {
	return func(s *Service) { s.passwordFile = path }
}

// WithSecureCookie marks the session cookie Secure; enable it when the
// service is reached over HTTPS (directly or through a proxy).
func WithSecureCookie(on bool) Option { return func(s *Service) { s.secureCookie = on } }

// WithLoginLimit allows burst failed logins per user name and address,
// refilled at one per every interval (default 5 and 1 per 12s).
func WithLoginLimit(burst int, every time.Duration) Option {
	return func(s *Service) { s.limiter.burst, s.limiter.every = float64(burst), every }
}

// withHashParams lowers hashing cost in tests.
func withHashParams(p hashParams) Option { return func(s *Service) { s.hash = p } }

var migrations = []store.Migration{
	{Name: "users and sessions", SQL: `
CREATE TABLE users (
	username      TEXT PRIMARY KEY,
	display_name  TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL,
	roles         TEXT NOT NULL DEFAULT '',
	disabled      INTEGER NOT NULL DEFAULT 0,
	created_by    TEXT NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL,
	updated_by    TEXT NOT NULL DEFAULT '',
	updated_at    INTEGER NOT NULL
);
CREATE TABLE sessions (
	token_hash  TEXT PRIMARY KEY,
	username    TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_expires ON sessions(expires_at);
`},
}

// Open applies the auth schema to db and returns the service. The caller
// keeps ownership of db.
func Open(ctx context.Context, db *sql.DB, opts ...Option) (*Service, error) {
	s := &Service{
		db:         db,
		log:        slog.New(slog.DiscardHandler),
		now:        time.Now,
		sessionTTL: 12 * time.Hour,
		hash:       defaultHashParams,
		limiter:    &limiter{burst: 5, every: 12 * time.Second},
	}
	for _, o := range opts {
		o(s)
	}
	s.limiter.now = s.now
	dummy, err := randomToken(16)
	if err != nil {
		return nil, err
	}
	if s.dummyHash, err = hashPassword(dummy, s.hash); err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx, db, "auth", migrations); err != nil {
		return nil, err
	}
	return s, nil
}

// Bootstrap makes sure someone can log in: when there are no users at
// all it creates "admin" (admin, editor, supervisor) with a random
// password written to the initial password file (mode 0600). It returns
// that file's path when it created the account, "" otherwise. The password
// itself is never logged.
func (s *Service) Bootstrap(ctx context.Context) (string, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return "", fmt.Errorf("auth: count users: %w", err)
	}
	if n > 0 {
		return "", nil
	}
	if s.passwordFile == "" {
		return "", ErrNoPasswordFile
	}
	password, err := randomToken(15) // 20 URL-safe characters
	if err != nil {
		return "", err
	}
	// The file first: an account whose password was lost would lock
	// everyone out until someone edits the database by hand.
	if err := writeSecret(s.passwordFile, password+"\n"); err != nil {
		return "", err
	}
	_, err = s.CreateUser(ctx, NewUser{
		Username:    "admin",
		DisplayName: "Administrator",
		Password:    password,
		Roles:       []string{RoleAdmin, RoleEditor, RoleSupervisor},
	}, "bootstrap")
	if err != nil {
		os.Remove(s.passwordFile)
		return "", err
	}
	s.log.Warn("created the initial admin account; its password is in the file, change it and delete the file",
		"user", "admin", "password_file", s.passwordFile)
	return s.passwordFile, nil
}

func writeSecret(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("auth: password file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("auth: password file: %w", err)
	}
	// An existing file keeps its old mode on open; tighten it explicitly.
	err = errors.Join(f.Chmod(0o600), func() error { _, err := f.WriteString(content); return err }(), f.Close())
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("auth: password file: %w", err)
	}
	return nil
}
