package tts

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/hotline-ivr/hotline/audio"
)

// Cache is a Synthesizer that keeps rendered replies in memory, keyed by
// engine, voice, language, rate, speed and text, so repeated prompts and
// popular answers start playing at once and cost no CPU. Replies are kept
// least-recently-used within a byte budget; prompts rendered with Prerender
// are pinned. InvalidateSource drops the renders of a knowledge-base
// article when it changes.
type Cache struct {
	next     Synthesizer
	name     string
	maxBytes int64
	log      *slog.Logger

	mu       sync.Mutex
	lru      list.List // of *cacheEntry, most recent at the front
	entries  map[string]*list.Element
	bytes    int64 // unpinned entries
	pinned   int64
	gen      map[string]uint64 // per source, bumped on invalidation
	allGen   uint64            // bumped by Purge
	hits     int64
	misses   int64
	inflight int
}

type cacheEntry struct {
	key     string
	source  string
	rate    int
	samples []int16
	pinned  bool
}

// CacheOption configures a Cache.
type CacheOption func(*Cache)

// WithCacheBytes sets the budget for unpinned renders (default 64 MiB,
// about 70 minutes of 8 kHz audio).
func WithCacheBytes(n int64) CacheOption { return func(c *Cache) { c.maxBytes = n } }

// WithCacheName names the wrapped engine in the key, so two caches over
// different engines never share entries even if they share a store.
func WithCacheName(name string) CacheOption { return func(c *Cache) { c.name = name } }

// WithCacheLogger sets the logger.
func WithCacheLogger(l *slog.Logger) CacheOption { return func(c *Cache) { c.log = l } }

// NewCache wraps next.
func NewCache(next Synthesizer, opts ...CacheOption) *Cache {
	c := &Cache{next: next, maxBytes: 64 << 20, entries: map[string]*list.Element{}, gen: map[string]uint64{}}
	for _, o := range opts {
		o(c)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c
}

// CacheStats are counters for metrics.
type CacheStats struct {
	Hits, Misses int64
	Entries      int
	Bytes        int64 // unpinned and pinned
}

// Stats returns the counters.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Hits: c.hits, Misses: c.misses, Entries: len(c.entries), Bytes: c.bytes + c.pinned}
}

func (c *Cache) key(r Request) string {
	return strings.Join([]string{c.name, r.Voice, r.Lang, strconv.Itoa(r.Rate),
		strconv.FormatFloat(r.Speed, 'f', 3, 64), strings.Join(strings.Fields(r.Text), " ")}, "\x00")
}

// Synthesize plays a cached render or renders through the wrapped engine,
// storing the result if the reply plays to the end.
func (c *Cache) Synthesize(ctx context.Context, req Request) (Stream, error) {
	req, err := req.Normalize()
	if err != nil {
		return nil, err
	}
	k := c.key(req)
	c.mu.Lock()
	if el, ok := c.entries[k]; ok {
		c.lru.MoveToFront(el)
		c.hits++
		e := el.Value.(*cacheEntry)
		c.mu.Unlock()
		return newSliceStream(ctx, e.samples, e.rate), nil
	}
	c.misses++
	gen := c.generation(req.Source)
	c.mu.Unlock()
	st, err := c.next.Synthesize(ctx, req)
	if err != nil {
		return nil, err
	}
	return &teeStream{Stream: st, c: c, key: k, req: req, gen: gen, limit: c.maxBytes / 4}, nil
}

// generation identifies the cache state a render starts from; a render
// finished after its source was invalidated is not stored. c.mu is held.
func (c *Cache) generation(source string) uint64 {
	return c.allGen<<32 + c.gen[source]
}

// Prerender renders the requests (the bot's fixed prompts) and pins them,
// so they play without delay from the first call. It stops at the first
// error.
func (c *Cache) Prerender(ctx context.Context, reqs []Request) error {
	for _, r := range reqs {
		r, err := r.Normalize()
		if err != nil {
			return fmt.Errorf("prerender %q: %w", clipText(r.Text, 40), err)
		}
		st, err := c.next.Synthesize(ctx, r)
		if err != nil {
			return fmt.Errorf("prerender %q: %w", clipText(r.Text, 40), err)
		}
		samples, _, err := ReadAll(st)
		if err != nil {
			return fmt.Errorf("prerender %q: %w", clipText(r.Text, 40), err)
		}
		c.mu.Lock()
		c.store(c.key(r), r, samples, true)
		c.mu.Unlock()
	}
	return nil
}

// InvalidateSource drops every render whose Request.Source is source,
// including renders still in flight.
func (c *Cache) InvalidateSource(source string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen[source]++
	for k, el := range c.entries {
		if e := el.Value.(*cacheEntry); e.source == source {
			c.remove(k, el)
		}
	}
}

// Purge drops all unpinned renders, for example after the knowledge base
// was reloaded as a whole.
func (c *Cache) Purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.allGen++
	for k, el := range c.entries {
		if !el.Value.(*cacheEntry).pinned {
			c.remove(k, el)
		}
	}
}

// c.mu is held.
func (c *Cache) remove(k string, el *list.Element) {
	e := el.Value.(*cacheEntry)
	if e.pinned {
		c.pinned -= int64(len(e.samples) * 2)
	} else {
		c.bytes -= int64(len(e.samples) * 2)
	}
	c.lru.Remove(el)
	delete(c.entries, k)
}

// c.mu is held.
func (c *Cache) store(k string, req Request, samples []int16, pinned bool) {
	if el, ok := c.entries[k]; ok {
		c.remove(k, el)
	}
	size := int64(len(samples) * 2)
	if !pinned && size > c.maxBytes {
		return
	}
	e := &cacheEntry{key: k, source: req.Source, rate: req.Rate, samples: samples, pinned: pinned}
	c.entries[k] = c.lru.PushFront(e)
	if pinned {
		c.pinned += size
		return
	}
	c.bytes += size
	for c.bytes > c.maxBytes {
		el := c.lru.Back()
		for el != nil && el.Value.(*cacheEntry).pinned {
			el = el.Prev()
		}
		if el == nil {
			break
		}
		c.remove(el.Value.(*cacheEntry).key, el)
	}
}

// teeStream passes frames through and keeps a copy; a reply that plays to
// the end is stored.
type teeStream struct {
	Stream
	c       *Cache
	key     string
	req     Request
	gen     uint64
	limit   int64
	samples []int16
	rate    int
	over    bool
}

func (t *teeStream) ReadFrame() (audio.Frame, error) {
	f, err := t.Stream.ReadFrame()
	if err == nil && !t.over {
		t.rate = f.Rate
		t.samples = append(t.samples, f.Samples...)
		t.over = int64(len(t.samples)*2) > t.limit
	}
	if errors.Is(err, io.EOF) && !t.over && len(t.samples) > 0 {
		t.c.mu.Lock()
		if t.c.generation(t.req.Source) == t.gen {
			t.c.store(t.key, t.req, t.samples, false)
		}
		t.c.mu.Unlock()
		t.samples, t.over = nil, true
	}
	return f, err
}

// sliceStream plays stored samples.
type sliceStream struct {
	ctx     context.Context
	samples []int16
	rate    int
	mu      sync.Mutex
	closed  bool
}

func newSliceStream(ctx context.Context, samples []int16, rate int) *sliceStream {
	return &sliceStream{ctx: ctx, samples: samples, rate: rate}
}

func (s *sliceStream) ReadFrame() (audio.Frame, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return audio.Frame{}, ErrClosed
	}
	if err := s.ctx.Err(); err != nil {
		return audio.Frame{}, err
	}
	if len(s.samples) == 0 {
		return audio.Frame{}, io.EOF
	}
	n := min(audio.SamplesPerFrame(s.rate), len(s.samples))
	// Frames share the cached buffer read-only; a consumer that changes
	// samples must Clone first, as everywhere in the project.
	f := audio.Frame{Rate: s.rate, Samples: s.samples[:n:n]}
	s.samples = s.samples[n:]
	return f, nil
}

func (s *sliceStream) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}
