package kit

import "time"

// Macau is the time zone of every time a page shows: Asia/Macau, UTC+8 all
// year (no daylight saving since 1979), fixed when the system has no tzdata.
var Macau = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Macau"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*60*60)
}()

// Until is the moment t as a person waiting for it reads it, in Macau time:
// "15:04" on the day of now, with the date on another day. It is rounded up
// to the minute, so that whoever comes back at that minute is not early.
func Until(t, now time.Time) string {
	if r := t.Truncate(time.Minute); !r.Equal(t) {
		t = r.Add(time.Minute)
	}
	t, now = t.In(Macau), now.In(Macau)
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04")
	}
	return t.Format("2006-01-02 15:04")
}
