package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Session is a logged-in user. Token is the secret for the cookie or the
// bearer header; CSRF is what cookie clients echo in X-Hotline-CSRF.
type Session struct {
	Token     string
	CSRF      string
	User      User
	ExpiresAt time.Time
}

const tokenBytes = 32

// RateLimitError is ErrRateLimited with the time to wait.
type RateLimitError struct{ RetryAfter time.Duration }

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%v, try again in %s", ErrRateLimited, e.RetryAfter.Round(time.Second))
}
func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// Login checks the password and starts a session. clientAddr (the remote
// IP) scopes the failed-login throttle together with the user name.
func (s *Service) Login(ctx context.Context, username, password, clientAddr string) (Session, error) {
	username = strings.ToLower(strings.TrimSpace(username))
	key := username + "\x00" + clientAddr
	if ok, wait := s.limiter.allow(key); !ok {
		s.log.Warn("login throttled", "user", username, "addr", clientAddr)
		return Session{}, &RateLimitError{RetryAfter: wait}
	}
	var (
		hash     string
		disabled bool
	)
	err := s.db.QueryRowContext(ctx, `SELECT password_hash, disabled FROM users WHERE username = ?`, username).Scan(&hash, &disabled)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		hash, disabled = s.dummyHash, true
	case err != nil:
		return Session{}, fmt.Errorf("auth: login: %w", err)
	}
	ok, err := checkPassword(hash, password)
	if err != nil {
		s.log.Error("stored password hash is unreadable", "user", username)
	}
	if !ok || disabled || len(password) > maxPassword {
		s.limiter.fail(key)
		s.log.Info("login failed", "user", username, "addr", clientAddr)
		return Session{}, ErrInvalidCredentials
	}
	s.limiter.succeed(key)

	token, err := randomToken(tokenBytes)
	if err != nil {
		return Session{}, err
	}
	now := s.now().UTC()
	expires := now.Add(s.sessionTTL)
	// Sweep expired sessions here: logins are rare and this keeps the table
	// small without a background goroutine.
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, now.UnixMilli()); err != nil {
		return Session{}, fmt.Errorf("auth: sweep sessions: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO sessions (token_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		hashToken(token), username, now.UnixMilli(), expires.UnixMilli()); err != nil {
		return Session{}, fmt.Errorf("auth: create session: %w", err)
	}
	u, err := s.User(ctx, username)
	if err != nil {
		return Session{}, err
	}
	s.log.Info("login", "user", username, "addr", clientAddr)
	return Session{Token: token, CSRF: csrfToken(token), User: u, ExpiresAt: expires}, nil
}

// Authenticate returns the session for token, or ErrNoSession when it is
// unknown, expired, or its user is disabled.
func (s *Service) Authenticate(ctx context.Context, token string) (Session, error) {
	if token == "" || len(token) > 128 {
		return Session{}, ErrNoSession
	}
	var (
		username string
		expires  int64
	)
	err := s.db.QueryRowContext(ctx, `SELECT username, expires_at FROM sessions WHERE token_hash = ?`, hashToken(token)).Scan(&username, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("auth: read session: %w", err)
	}
	exp := time.UnixMilli(expires).UTC()
	if !s.now().Before(exp) {
		return Session{}, ErrNoSession
	}
	u, err := s.User(ctx, username)
	if errors.Is(err, ErrUserNotFound) || (err == nil && u.Disabled) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, err
	}
	return Session{Token: token, CSRF: csrfToken(token), User: u, ExpiresAt: exp}, nil
}

// Logout ends the session of token; ending an unknown one is not an error.
func (s *Service) Logout(ctx context.Context, token string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hashToken(token)); err != nil {
		return fmt.Errorf("auth: logout: %w", err)
	}
	return nil
}

// hashToken is what the database keeps: a stolen database file does not
// hand out live sessions. Tokens are 256-bit random, so a plain SHA-256
// (no salt, no stretching) is enough.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// csrfToken derives the CSRF token from the session token. It is a
// one-way function of the session (domain-separated from hashToken), so
// it reveals nothing about the cookie and needs no storage.
func csrfToken(token string) string {
	sum := sha256.Sum256([]byte("hotline-csrf\x00" + token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// CheckCSRF reports whether header is the CSRF token of the session token.
func CheckCSRF(token, header string) bool {
	if token == "" || header == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(csrfToken(token)), []byte(header)) == 1
}
