package handoff

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Moscow on systems without a zoneinfo database
)

// Span is the opening hours of one day, as offsets from midnight.
type Span struct {
	Open, Close time.Duration
}

// ParseSpan reads "08:00-20:00"; "closed" or "" is a nil span.
func ParseSpan(s string) (*Span, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "closed" {
		return nil, nil
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return nil, fmt.Errorf("%w: hours %q: want HH:MM-HH:MM", ErrInvalid, s)
	}
	open, err1 := clock(a)
	closeAt, err2 := clock(b)
	if err1 != nil || err2 != nil || closeAt <= open {
		return nil, fmt.Errorf("%w: hours %q: want HH:MM-HH:MM, opening before closing", ErrInvalid, s)
	}
	return &Span{Open: open, Close: closeAt}, nil
}

func clock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		if strings.TrimSpace(s) == "24:00" {
			return 24 * time.Hour, nil
		}
		return 0, err
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// Schedule is a queue's operator hours in a time zone: one span per
// weekday (nil: closed) and holidays that override the weekday.
type Schedule struct {
	Loc      *time.Location
	Week     [7]*Span         // indexed by time.Weekday
	Holidays map[string]*Span // "2006-01-02" → hours that day, nil: closed
}

// DefaultSchedule is the hotline's operator hours in Moscow time:
// Mon–Fri 08:00–20:00, Sat 09:00–18:00, Sun 10:00–16:00.
func DefaultSchedule() (*Schedule, error) {
	loc, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		return nil, fmt.Errorf("handoff: load Moscow time zone: %w", err)
	}
	wd := &Span{8 * time.Hour, 20 * time.Hour}
	return &Schedule{
		Loc: loc,
		Week: [7]*Span{
			time.Sunday: {10 * time.Hour, 16 * time.Hour}, time.Monday: wd, time.Tuesday: wd, time.Wednesday: wd,
			time.Thursday: wd, time.Friday: wd, time.Saturday: {9 * time.Hour, 18 * time.Hour},
		},
		Holidays: map[string]*Span{},
	}, nil
}

// WithHolidays returns a copy with holidays added: date → "closed" or "HH:MM-HH:MM".
func (s *Schedule) WithHolidays(h map[string]string) (*Schedule, error) {
	c := *s
	c.Holidays = make(map[string]*Span, len(s.Holidays)+len(h))
	for d, sp := range s.Holidays {
		c.Holidays[d] = sp
	}
	for d, v := range h {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return nil, fmt.Errorf("%w: holiday %q: want YYYY-MM-DD", ErrInvalid, d)
		}
		sp, err := ParseSpan(v)
		if err != nil {
			return nil, err
		}
		c.Holidays[d] = sp
	}
	return &c, nil
}

func (s *Schedule) span(day time.Time) *Span {
	if sp, ok := s.Holidays[day.Format(time.DateOnly)]; ok {
		return sp
	}
	return s.Week[day.Weekday()]
}

// Open reports whether operators work at t.
func (s *Schedule) Open(t time.Time) bool {
	t = t.In(s.Loc)
	sp := s.span(t)
	if sp == nil {
		return false
	}
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, s.Loc)
	off := t.Sub(midnight)
	return off >= sp.Open && off < sp.Close
}

// NextOpen returns t when open, otherwise the start of the next working
// period (zero when nothing opens within 60 days).
func (s *Schedule) NextOpen(t time.Time) time.Time {
	if s.Open(t) {
		return t
	}
	t = t.In(s.Loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, s.Loc)
	for i := 0; i < 60; i++ {
		d := day.AddDate(0, 0, i)
		if sp := s.span(d); sp != nil {
			open := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, s.Loc).Add(sp.Open)
			if open.After(t) {
				return open
			}
		}
	}
	return time.Time{}
}
