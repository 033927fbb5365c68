package appscaling

import (
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed schedule expression: at(...), rate(...) or cron(...).
type Schedule struct {
	Expr string
	loc  *time.Location
	at   time.Time     // at(): the one time
	rate time.Duration // rate(): the interval
	cron *cronSpec
}

// ParseSchedule parses expr in the time zone tz (IANA name; "" is UTC).
func ParseSchedule(expr, tz string) (*Schedule, error) {
	loc := time.UTC
	if tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return nil, Validationf("Time zone %s is not a valid IANA time zone name", tz)
		}
		loc = l
	}
	s := &Schedule{Expr: expr, loc: loc}
	open := strings.IndexByte(expr, '(')
	if open < 0 || !strings.HasSuffix(expr, ")") {
		return nil, badSchedule(expr)
	}
	kind, body := expr[:open], strings.TrimSpace(expr[open+1:len(expr)-1])
	switch kind {
	case "at":
		t, err := time.ParseInLocation("2006-01-02T15:04:05", body, loc)
		if err != nil {
			return nil, Validationf("Invalid at expression %s; the format is at(yyyy-mm-ddThh:mm:ss)", expr)
		}
		s.at = t
	case "rate":
		d, err := parseRate(body)
		if err != nil {
			return nil, Validationf("Invalid rate expression %s: %s", expr, err.Error())
		}
		s.rate = d
	case "cron":
		c, err := parseCron(body)
		if err != nil {
			return nil, Validationf("Invalid cron expression %s: %s", expr, err.Error())
		}
		s.cron = c
	default:
		return nil, badSchedule(expr)
	}
	return s, nil
}

func badSchedule(expr string) error {
	return Validationf("Unsupported schedule expression %s; use at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(fields)", expr)
}

type scheduleErr string

func (e scheduleErr) Error() string { return string(e) }

func parseRate(body string) (time.Duration, error) {
	f := strings.Fields(body)
	if len(f) != 2 {
		return 0, scheduleErr("the format is rate(value unit)")
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n < 1 {
		return 0, scheduleErr("the value must be a positive whole number")
	}
	unit := map[string]time.Duration{"minute": time.Minute, "minutes": time.Minute, "hour": time.Hour, "hours": time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour}[f[1]]
	if unit == 0 {
		return 0, scheduleErr("the unit must be minute(s), hour(s) or day(s)")
	}
	if (n == 1) != !strings.HasSuffix(f[1], "s") {
		return 0, scheduleErr("use the singular unit for 1 and the plural otherwise")
	}
	return time.Duration(n) * unit, nil
}

// Next returns the first time the schedule fires strictly after after
// and not after end (zero end: no end), with anchor the start of a
// rate() schedule. It reports false when the schedule never fires again.
func (s *Schedule) Next(after, anchor, end time.Time) (time.Time, bool) {
	var t time.Time
	switch {
	case s.cron != nil:
		var ok bool
		if t, ok = s.cron.next(after.In(s.loc)); !ok {
			return time.Time{}, false
		}
	case s.rate > 0:
		// A rate fires at anchor + k*rate, k >= 1.
		k := time.Duration(1)
		if after.After(anchor) {
			k = after.Sub(anchor)/s.rate + 1
		}
		t = anchor.Add(k * s.rate)
	default:
		if !s.at.After(after) {
			return time.Time{}, false
		}
		t = s.at
	}
	if !end.IsZero() && t.After(end) {
		return time.Time{}, false
	}
	return t, true
}

// cronSpec is AWS's six-field cron: minutes hours day-of-month month
// day-of-week year, with day-of-week 1-7 = SUN-SAT and "?" in one of
// the two day fields.
type cronSpec struct {
	min, hour, dom, month, dow, year []bool
	domAny, dowAny                   bool
}

var monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
var dayNames = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}

func parseCron(body string) (*cronSpec, error) {
	f := strings.Fields(body)
	if len(f) != 6 {
		return nil, scheduleErr("it needs six fields: minutes hours day-of-month month day-of-week year")
	}
	c := &cronSpec{}
	var err error
	if c.min, err = cronField(f[0], 0, 59, nil); err != nil {
		return nil, err
	}
	if c.hour, err = cronField(f[1], 0, 23, nil); err != nil {
		return nil, err
	}
	if (f[2] == "?") == (f[4] == "?") {
		return nil, scheduleErr("exactly one of day-of-month and day-of-week must be ?")
	}
	if f[2] != "?" {
		if c.dom, err = cronField(f[2], 1, 31, nil); err != nil {
			return nil, err
		}
		c.dowAny = true
	} else {
		if c.dow, err = cronField(f[4], 1, 7, dayNames); err != nil {
			return nil, err
		}
		c.domAny = true
	}
	if c.month, err = cronField(f[3], 1, 12, monthNames); err != nil {
		return nil, err
	}
	if c.year, err = cronField(f[5], 1970, 2199, nil); err != nil {
		return nil, err
	}
	return c, nil
}

// cronField parses one field: *, a value, a range a-b, a step x/n, or a
// list of them.
func cronField(s string, lo, hi int, names map[string]int) ([]bool, error) {
	set := make([]bool, hi+1)
	if strings.ContainsAny(s, "LW#") && names == nil || strings.ContainsAny(s, "#") {
		return nil, scheduleErr("the L, W and # wildcards are not supported by berth (field " + s + ")")
	}
	val := func(v string) (int, error) {
		if n, ok := names[strings.ToUpper(v)]; ok {
			return n, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return 0, scheduleErr("value " + v + " is out of range " + strconv.Itoa(lo) + "-" + strconv.Itoa(hi))
		}
		return n, nil
	}
	for _, part := range strings.Split(s, ",") {
		rng, stepS, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepS)
			if err != nil || n < 1 {
				return nil, scheduleErr("bad increment in " + part)
			}
			step = n
		}
		a, b := lo, hi
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			x, y, _ := strings.Cut(rng, "-")
			var err error
			if a, err = val(x); err != nil {
				return nil, err
			}
			if b, err = val(y); err != nil {
				return nil, err
			}
			if b < a {
				return nil, scheduleErr("range " + rng + " ends before it starts")
			}
		default:
			v, err := val(rng)
			if err != nil {
				return nil, err
			}
			a = v
			if !hasStep {
				b = v
			}
		}
		for i := a; i <= b; i += step {
			set[i] = true
		}
	}
	return set, nil
}

// next finds the first minute after t (in t's location) that matches.
func (c *cronSpec) next(t time.Time) (time.Time, bool) {
	loc := t.Location()
	t = t.Truncate(time.Minute).Add(time.Minute)
	for t.Year() <= 2199 {
		y, mo, d := t.Date()
		if !c.year[y] {
			t = time.Date(y+1, 1, 1, 0, 0, 0, 0, loc)
			continue
		}
		if !c.month[mo] {
			t = time.Date(y, mo+1, 1, 0, 0, 0, 0, loc)
			continue
		}
		if !c.dayMatches(t) {
			t = time.Date(y, mo, d+1, 0, 0, 0, 0, loc)
			continue
		}
		if !c.hour[t.Hour()] {
			t = time.Date(y, mo, d, t.Hour()+1, 0, 0, 0, loc)
			continue
		}
		if !c.min[t.Minute()] {
			t = t.Add(time.Minute)
			continue
		}
		return t, true
	}
	return time.Time{}, false
}

func (c *cronSpec) dayMatches(t time.Time) bool {
	if c.domAny {
		return c.dow[int(t.Weekday())+1]
	}
	return c.dom[t.Day()]
}
