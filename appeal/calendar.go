package appeal

import (
	"fmt"
	"time"
	_ "time/tzdata" // Europe/Moscow on systems without a zoneinfo database
)

// Calendar knows which days are working days: Monday to Friday in Moscow,
// minus holidays, plus transferred working days (a Saturday worked in
// exchange for a bridge day).
type Calendar struct {
	loc      *time.Location
	holidays map[string]bool
	workdays map[string]bool
}

// NewCalendar builds a calendar from dates "2006-01-02". A nil loc means
// Europe/Moscow.
func NewCalendar(loc *time.Location, holidays, extraWorkdays []string) (*Calendar, error) {
	if loc == nil {
		var err error
		if loc, err = time.LoadLocation("Europe/Moscow"); err != nil {
			return nil, fmt.Errorf("appeal: load Moscow time zone: %w", err)
		}
	}
	c := &Calendar{loc: loc, holidays: map[string]bool{}, workdays: map[string]bool{}}
	for _, d := range holidays {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return nil, fmt.Errorf("%w: holiday %q: want YYYY-MM-DD", ErrInvalid, d)
		}
		c.holidays[d] = true
	}
	for _, d := range extraWorkdays {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return nil, fmt.Errorf("%w: working day %q: want YYYY-MM-DD", ErrInvalid, d)
		}
		c.workdays[d] = true
	}
	return c, nil
}

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// WorkingDay reports whether the calendar day of t (in the calendar's zone)
// is a working day.
func (c *Calendar) WorkingDay(t time.Time) bool {
	t = t.In(c.loc)
	d := t.Format(time.DateOnly)
	if c.workdays[d] {
		return true
	}
	if c.holidays[d] {
		return false
	}
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// AddWorkingDays returns the end of the n-th working day after the day of
// t: the midnight that follows it. Registered on Friday with n = 5, the
// limit ends when the next Friday does (without holidays).
func (c *Calendar) AddWorkingDays(t time.Time, n int) time.Time {
	t = t.In(c.loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 12, 0, 0, 0, c.loc) // noon dodges DST edges
	for n > 0 {
		day = day.AddDate(0, 0, 1)
		if c.WorkingDay(day) {
			n--
		}
	}
	next := day.AddDate(0, 0, 1)
	return time.Date(next.Year(), next.Month(), next.Day(), 0, 0, 0, 0, c.loc)
}
