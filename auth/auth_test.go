package auth

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/store"
)

// cheap keeps tests fast on a shared two-core machine; the production
// costs are exercised once in TestPasswordHashRoundTrip.
var cheap = hashParams{memoryKiB: 64, time: 1, threads: 1}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

func newTestService(t *testing.T, opts ...Option) (*Service, *fakeClock) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := &fakeClock{t: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)}
	s, err := Open(context.Background(), db, append([]Option{withHashParams(cheap), WithClock(clock.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return s, clock
}

func mustCreate(t *testing.T, s *Service, name, password string, roles ...string) User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), NewUser{Username: name, Password: password, Roles: roles}, "test")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestPasswordHashRoundTrip(t *testing.T) {
	h, err := hashPassword("correct horse", defaultHashParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q does not record its parameters", h)
	}
	if ok, err := checkPassword(h, "correct horse"); !ok || err != nil {
		t.Errorf("right password: ok=%v err=%v", ok, err)
	}
	if ok, _ := checkPassword(h, "correct horsE"); ok {
		t.Error("wrong password accepted")
	}
	h2, _ := hashPassword("correct horse", defaultHashParams)
	if h == h2 {
		t.Error("two hashes of one password are equal: salt missing")
	}
	for _, bad := range []string{"", "plain", "$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAA", "$argon2i$v=19$m=64,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=64,t=1,p=1$!!$AAAA"} {
		if ok, err := checkPassword(bad, "x"); ok || !errors.Is(err, errBadHash) {
			t.Errorf("checkPassword(%q) = %v, %v; want false, errBadHash", bad, ok, err)
		}
	}
}

func TestLoginAndSessionExpiry(t *testing.T) {
	s, clock := newTestService(t, WithSessionTTL(time.Hour))
	ctx := context.Background()
	mustCreate(t, s, "olga", "s3cret-pass", RoleEditor)

	if _, err := s.Login(ctx, "olga", "wrong-pass", "10.0.0.1"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := s.Login(ctx, "nobody", "s3cret-pass", "10.0.0.1"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("unknown user: %v", err)
	}
	sess, err := s.Login(ctx, " Olga ", "s3cret-pass", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if len(sess.Token) < 43 || sess.User.Username != "olga" || !sess.ExpiresAt.Equal(clock.Now().Add(time.Hour)) {
		t.Fatalf("session = %+v", sess)
	}
	var stored string
	s.db.QueryRow(`SELECT token_hash FROM sessions`).Scan(&stored)
	if stored == sess.Token || strings.Contains(stored, sess.Token) {
		t.Error("session token stored in the clear")
	}

	clock.Advance(59 * time.Minute)
	if got, err := s.Authenticate(ctx, sess.Token); err != nil || got.User.Username != "olga" {
		t.Fatalf("before expiry: %v", err)
	}
	clock.Advance(time.Minute)
	if _, err := s.Authenticate(ctx, sess.Token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("at expiry: err = %v, want ErrNoSession", err)
	}

	sess, _ = s.Login(ctx, "olga", "s3cret-pass", "10.0.0.1")
	if err := s.Logout(ctx, sess.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, sess.Token); !errors.Is(err, ErrNoSession) {
		t.Errorf("after logout: %v", err)
	}

	sess, _ = s.Login(ctx, "olga", "s3cret-pass", "10.0.0.1")
	disabled := true
	if _, err := s.UpdateUser(ctx, "olga", UserUpdate{Disabled: &disabled}, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, sess.Token); !errors.Is(err, ErrNoSession) {
		t.Errorf("disabled user's session still valid: %v", err)
	}
	if _, err := s.Login(ctx, "olga", "s3cret-pass", "10.0.0.1"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("disabled user logged in: %v", err)
	}
}

func TestLoginRateLimit(t *testing.T) {
	s, clock := newTestService(t, WithLoginLimit(3, 10*time.Second))
	ctx := context.Background()
	mustCreate(t, s, "olga", "s3cret-pass", RoleEditor)

	for i := range 3 {
		if _, err := s.Login(ctx, "olga", "bad-guess", "10.0.0.1"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	_, err := s.Login(ctx, "olga", "s3cret-pass", "10.0.0.1")
	var rl *RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, ErrRateLimited) || rl.RetryAfter <= 0 || rl.RetryAfter > 10*time.Second {
		t.Fatalf("4th attempt: err = %v, want rate limited with retry-after", err)
	}
	if _, err := s.Login(ctx, "olga", "s3cret-pass", "10.0.0.2"); err != nil {
		t.Errorf("another address is throttled too: %v", err)
	}
	clock.Advance(10 * time.Second)
	if _, err := s.Login(ctx, "olga", "s3cret-pass", "10.0.0.1"); err != nil {
		t.Errorf("after refill: %v", err)
	}
	// A success forgets earlier failures.
	for i := range 3 {
		if _, err := s.Login(ctx, "olga", "bad-guess", "10.0.0.1"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("attempt %d after success: %v", i, err)
		}
	}
}

func TestCreateUserValidation(t *testing.T) {
	s, _ := newTestService(t)
	ctx := context.Background()
	mustCreate(t, s, "olga", "s3cret-pass", RoleEditor, "editor", "AGENT")
	u, _ := s.User(ctx, "olga")
	if strings.Join(u.Roles, ",") != "agent,editor" || u.CreatedBy != "test" {
		t.Errorf("user = %+v", u)
	}
	for _, nu := range []NewUser{
		{Username: "Olga", Password: "s3cret-pass", Roles: []string{"editor"}},
		{Username: "x", Password: "s3cret-pass", Roles: []string{"editor"}},
		{Username: "bad name", Password: "s3cret-pass", Roles: []string{"editor"}},
		{Username: "ivan", Password: "short", Roles: []string{"editor"}},
		{Username: "ivan", Password: strings.Repeat("x", 300), Roles: []string{"editor"}},
		{Username: "ivan", Password: "s3cret-pass", Roles: []string{"root"}},
		{Username: "ivan", Password: "s3cret-pass"},
	} {
		_, err := s.CreateUser(ctx, nu, "test")
		want := ErrInvalidUser
		if nu.Username == "Olga" {
			want = ErrUserExists // names are case-insensitive
		}
		if !errors.Is(err, want) {
			t.Errorf("CreateUser(%q, roles %v): err = %v, want %v", nu.Username, nu.Roles, err, want)
		}
	}
}

func TestBootstrap(t *testing.T) {
	file := filepath.Join(t.TempDir(), "data", "initial-admin-password")
	s, _ := newTestService(t, WithInitialPasswordFile(file))
	ctx := context.Background()
	path, err := s.Bootstrap(ctx)
	if err != nil || path != file {
		t.Fatalf("Bootstrap = %q, %v", path, err)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v, mode %v", err, fi.Mode())
	}
	data, _ := os.ReadFile(file)
	sess, err := s.Login(ctx, "admin", strings.TrimSpace(string(data)), "127.0.0.1")
	if err != nil {
		t.Fatalf("login with bootstrap password: %v", err)
	}
	if !sess.User.HasRole(RoleAdmin) || !sess.User.HasRole(RoleEditor) {
		t.Errorf("admin roles = %v", sess.User.Roles)
	}
	if path, err := s.Bootstrap(ctx); path != "" || err != nil {
		t.Errorf("second Bootstrap = %q, %v; want nothing done", path, err)
	}

	s2, _ := newTestService(t)
	if _, err := s2.Bootstrap(ctx); !errors.Is(err, ErrNoPasswordFile) {
		t.Errorf("without a file: %v", err)
	}
}

func TestLimiterBoundsMemory(t *testing.T) {
	now := time.Unix(0, 0)
	l := &limiter{burst: 2, every: time.Second, now: func() time.Time { return now }}
	for i := range maxBuckets + 10 {
		l.allow(string(rune(i)))
	}
	if len(l.buckets) > maxBuckets {
		t.Errorf("%d buckets kept, want at most %d", len(l.buckets), maxBuckets)
	}
}
