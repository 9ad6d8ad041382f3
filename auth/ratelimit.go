package auth

import (
	"sync"
	"time"
)

// limiter throttles failed logins with one token bucket per key (user name
// and client address). Only failures take tokens, so an editor who types
// the password right is never slowed down; a success empties the record.
// It is in memory on purpose: a restart forgets, which is acceptable for a
// single process and keeps the database free of attack noise.
type limiter struct {
	burst float64
	every time.Duration
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets bounds memory under a spray of made-up user names.
const maxBuckets = 10000

func (l *limiter) refill(key string) *bucket {
	now := l.now()
	b := l.buckets[key]
	if b == nil {
		if l.buckets == nil {
			l.buckets = map[string]*bucket{}
		}
		if len(l.buckets) >= maxBuckets {
			l.prune(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
		return b
	}
	if l.every > 0 {
		b.tokens += float64(now.Sub(b.last)) / float64(l.every)
	}
	b.tokens = min(b.tokens, l.burst)
	b.last = now
	return b
}

// prune drops buckets that have refilled completely: they carry no state.
func (l *limiter) prune(now time.Time) {
	for k, b := range l.buckets {
		if l.every <= 0 || b.tokens+float64(now.Sub(b.last))/float64(l.every) >= l.burst {
			delete(l.buckets, k)
		}
	}
}

// allow reports whether key may try now, and if not, how long to wait.
func (l *limiter) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key)
	if b.tokens >= 1 {
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) * float64(l.every))
}

// fail takes a token from key.
func (l *limiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key)
	b.tokens = max(b.tokens-1, 0)
}

// succeed forgets key.
func (l *limiter) succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.buckets, key)
}
