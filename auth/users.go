package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// User is an account. The password hash never leaves the package.
type User struct {
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Roles       []string  `json:"roles"`
	Disabled    bool      `json:"disabled"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedBy   string    `json:"updated_by"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// HasRole reports whether u has any of roles.
func (u User) HasRole(roles ...string) bool {
	for _, r := range roles {
		if slices.Contains(u.Roles, r) {
			return true
		}
	}
	return false
}

// NewUser is what CreateUser needs.
type NewUser struct {
	Username    string   `json:"username"`
	DisplayName string   `json:"display_name"`
	Password    string   `json:"password"`
	Roles       []string `json:"roles"`
}

// UserUpdate changes an account; nil fields stay as they are.
type UserUpdate struct {
	DisplayName *string   `json:"display_name"`
	Password    *string   `json:"password"`
	Roles       *[]string `json:"roles"`
	Disabled    *bool     `json:"disabled"`
}

const (
	minPassword = 8
	// Argon2 hashes any length, but a megabyte "password" is an easy way
	// to make every login expensive.
	maxPassword = 256
)

var usernameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,31}$`)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidUser}, args...)...)
}

func checkPasswordPolicy(p string) error {
	switch n := utf8.RuneCountInString(p); {
	case n < minPassword:
		return invalid("password must have at least %d characters", minPassword)
	case len(p) > maxPassword:
		return invalid("password must be at most %d bytes", maxPassword)
	}
	return nil
}

// normalizeRoles checks roles and returns them sorted and without repeats.
func normalizeRoles(roles []string) ([]string, error) {
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		r = strings.ToLower(strings.TrimSpace(r))
		if !slices.Contains(allRoles, r) {
			return nil, invalid("unknown role %q (known: %s)", r, strings.Join(allRoles, ", "))
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out, nil
}

// CreateUser adds an account; actor is recorded as its creator.
func (s *Service) CreateUser(ctx context.Context, nu NewUser, actor string) (User, error) {
	name := strings.ToLower(strings.TrimSpace(nu.Username))
	if !usernameRe.MatchString(name) {
		return User{}, invalid("user name must be 2-32 characters: lower-case latin letters, digits, '.', '_', '-'")
	}
	display := strings.TrimSpace(nu.DisplayName)
	if utf8.RuneCountInString(display) > 100 {
		return User{}, invalid("display name must be at most 100 characters")
	}
	roles, err := normalizeRoles(nu.Roles)
	if err != nil {
		return User{}, err
	}
	if len(roles) == 0 {
		return User{}, invalid("a user needs at least one role")
	}
	if err := checkPasswordPolicy(nu.Password); err != nil {
		return User{}, err
	}
	hash, err := hashPassword(nu.Password, s.hash)
	if err != nil {
		return User{}, err
	}
	now := s.now().UTC()
	res, err := s.db.ExecContext(ctx, `INSERT INTO users
		(username, display_name, password_hash, roles, created_by, created_at, updated_by, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(username) DO NOTHING`,
		name, display, hash, strings.Join(roles, ","), actor, now.UnixMilli(), actor, now.UnixMilli())
	if err != nil {
		return User{}, fmt.Errorf("auth: create user: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return User{}, fmt.Errorf("%w: %s", ErrUserExists, name)
	}
	u, err := s.User(ctx, name)
	if err != nil {
		return User{}, err
	}
	s.log.Info("user created", "user", name, "roles", roles, "by", actor)
	return u, nil
}

const userColumns = `username, display_name, roles, disabled, created_by, created_at, updated_by, updated_at`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var (
		u                User
		roles            string
		created, updated int64
	)
	if err := row.Scan(&u.Username, &u.DisplayName, &roles, &u.Disabled, &u.CreatedBy, &created, &u.UpdatedBy, &updated); err != nil {
		return User{}, err
	}
	u.Roles = []string{}
	if roles != "" {
		u.Roles = strings.Split(roles, ",")
	}
	u.CreatedAt = time.UnixMilli(created).UTC()
	u.UpdatedAt = time.UnixMilli(updated).UTC()
	return u, nil
}

// User returns the named account.
func (s *Service) User(ctx context.Context, username string) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username = ?`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("%w: %s", ErrUserNotFound, username)
	}
	if err != nil {
		return User{}, fmt.Errorf("auth: read user: %w", err)
	}
	return u, nil
}

// Users lists all accounts by name.
func (s *Service) Users(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("auth: list users: %w", err)
	}
	defer rows.Close()
	users := []User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("auth: list users: %w", err)
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// UpdateUser changes an account. Changing the password or disabling the
// account ends its sessions, so a leaked session does not outlive the fix.
func (s *Service) UpdateUser(ctx context.Context, username string, up UserUpdate, actor string) (User, error) {
	u, err := s.User(ctx, username)
	if err != nil {
		return User{}, err
	}
	sets, args := []string{}, []any{}
	endSessions := false
	if up.DisplayName != nil {
		d := strings.TrimSpace(*up.DisplayName)
		if utf8.RuneCountInString(d) > 100 {
			return User{}, invalid("display name must be at most 100 characters")
		}
		sets, args = append(sets, "display_name = ?"), append(args, d)
	}
	if up.Roles != nil {
		roles, err := normalizeRoles(*up.Roles)
		if err != nil {
			return User{}, err
		}
		if len(roles) == 0 {
			return User{}, invalid("a user needs at least one role")
		}
		sets, args = append(sets, "roles = ?"), append(args, strings.Join(roles, ","))
	}
	if up.Password != nil {
		if err := checkPasswordPolicy(*up.Password); err != nil {
			return User{}, err
		}
		hash, err := hashPassword(*up.Password, s.hash)
		if err != nil {
			return User{}, err
		}
		sets, args = append(sets, "password_hash = ?"), append(args, hash)
		endSessions = true
	}
	if up.Disabled != nil {
		sets, args = append(sets, "disabled = ?"), append(args, *up.Disabled)
		endSessions = endSessions || *up.Disabled
	}
	if len(sets) == 0 {
		return u, nil
	}
	sets, args = append(sets, "updated_by = ?", "updated_at = ?"), append(args, actor, s.now().UTC().UnixMilli(), u.Username)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return User{}, fmt.Errorf("auth: update user: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE users SET `+strings.Join(sets, ", ")+` WHERE username = ?`, args...); err != nil {
		return User{}, fmt.Errorf("auth: update user: %w", err)
	}
	if endSessions {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE username = ?`, u.Username); err != nil {
			return User{}, fmt.Errorf("auth: end sessions: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return User{}, fmt.Errorf("auth: update user: %w", err)
	}
	s.log.Info("user updated", "user", u.Username, "by", actor, "sessions_ended", endSessions)
	return s.User(ctx, u.Username)
}
