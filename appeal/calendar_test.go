package appeal

import (
	"testing"
	"time"
)

func TestAddWorkingDays(t *testing.T) {
	cal, err := NewCalendar(nil, []string{"2025-05-01", "2025-05-02", "2025-05-08", "2025-05-09"}, []string{"2025-11-01"})
	if err != nil {
		t.Fatal(err)
	}
	msk := cal.Location()
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, msk)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		from string
		n    int
		want string
	}{
		{"2025-03-03 10:00", 5, "2025-03-11 00:00"}, // Monday → next Monday ends
		{"2025-03-07 19:00", 5, "2025-03-15 00:00"}, // Friday → next Friday, weekend skipped
		{"2025-03-08 12:00", 1, "2025-03-11 00:00"}, // Saturday → Monday
		{"2025-04-30 09:00", 1, "2025-05-06 00:00"}, // before May holidays → Monday 5th
		{"2025-05-07 09:00", 2, "2025-05-14 00:00"}, // 8th, 9th holidays, 10-11 weekend → 12, 13
		{"2025-10-31 09:00", 1, "2025-11-02 00:00"}, // transferred working Saturday
		{"2025-03-03 23:30", 10, "2025-03-18 00:00"},
	}
	for _, c := range cases {
		got := cal.AddWorkingDays(at(c.from), c.n)
		if !got.Equal(at(c.want)) {
			t.Errorf("AddWorkingDays(%s, %d) = %s, want %s", c.from, c.n, got.In(msk), c.want)
		}
	}
	// A UTC instant late on Sunday is already Monday in Moscow.
	if !cal.WorkingDay(time.Date(2025, 3, 2, 22, 0, 0, 0, time.UTC)) {
		t.Error("Sunday 22:00 UTC is Monday 01:00 in Moscow: a working day")
	}
	if _, err := NewCalendar(nil, []string{"01.05.2025"}, nil); err == nil {
		t.Error("bad holiday date accepted")
	}
}
