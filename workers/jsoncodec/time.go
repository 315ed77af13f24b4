package jsoncodec

import "time"

// Time reads a string holding an RFC 3339 date-time, such as JavaScript's
// toISOString writes ("2026-11-26T22:22:44.123Z"), or with a numeric offset
// ("2026-11-26T23:22:44+01:00"), up to nanosecond precision. JavaScript's
// expanded years ("+012345-01-01T00:00:00.000Z") are accepted too. The time is
// returned in UTC.
func (d *Decoder) Time() (time.Time, error) {
	if d.next() != '"' {
		return time.Time{}, d.expected("a string (a date-time)")
	}
	start := d.pos
	b, err := d.readString()
	if err != nil {
		return time.Time{}, err
	}
	t, ok := parseTime(b)
	if !ok {
		d.pos = start
		return time.Time{}, d.errorf("expected an RFC 3339 date-time, found a string in another form")
	}
	return t, nil
}

// parseTime parses YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM), where the year
// may also be ±YYYYYY.
func parseTime(b []byte) (time.Time, bool) {
	p := timeParser{b: b, ok: true}
	var year int
	switch {
	case len(b) > 0 && (b[0] == '+' || b[0] == '-'):
		p.i = 1
		year = p.digits(6)
		if b[0] == '-' {
			if year == 0 {
				return time.Time{}, false // "-000000" is not a year (ECMA-262)
			}
			year = -year
		}
	default:
		year = p.digits(4)
	}
	p.byte('-')
	month := p.digits(2)
	p.byte('-')
	day := p.digits(2)
	if !p.ok || p.i >= len(b) || b[p.i] != 'T' && b[p.i] != 't' {
		return time.Time{}, false
	}
	p.i++
	hour := p.digits(2)
	p.byte(':')
	min := p.digits(2)
	p.byte(':')
	sec := p.digits(2)
	nsec := 0
	if p.ok && p.i < len(b) && b[p.i] == '.' {
		p.i++
		n := 0
		for ; p.i < len(b) && b[p.i] >= '0' && b[p.i] <= '9'; p.i++ {
			if n < 9 {
				nsec = nsec*10 + int(b[p.i]-'0')
			}
			n++
		}
		if n == 0 {
			return time.Time{}, false
		}
		for ; n < 9; n++ {
			nsec *= 10
		}
	}
	offset := 0
	switch {
	case !p.ok || p.i >= len(b):
		return time.Time{}, false
	case b[p.i] == 'Z' || b[p.i] == 'z':
		p.i++
	case b[p.i] == '+' || b[p.i] == '-':
		sign := 1
		if b[p.i] == '-' {
			sign = -1
		}
		p.i++
		oh := p.digits(2)
		p.byte(':')
		om := p.digits(2)
		if oh > 23 || om > 59 {
			return time.Time{}, false
		}
		offset = sign * (oh*3600 + om*60)
	default:
		return time.Time{}, false
	}
	if !p.ok || p.i != len(b) ||
		month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) ||
		hour > 23 || min > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, min, sec, nsec, time.UTC)
	if offset != 0 {
		t = t.Add(-time.Duration(offset) * time.Second)
	}
	return t, true
}

type timeParser struct {
	b  []byte
	i  int
	ok bool
}

// digits reads exactly n decimal digits.
func (p *timeParser) digits(n int) int {
	if !p.ok || p.i+n > len(p.b) {
		p.ok = false
		return 0
	}
	v := 0
	for _, c := range p.b[p.i : p.i+n] {
		if c < '0' || c > '9' {
			p.ok = false
			return 0
		}
		v = v*10 + int(c-'0')
	}
	p.i += n
	return v
}

// byte reads c.
func (p *timeParser) byte(c byte) {
	if !p.ok || p.i >= len(p.b) || p.b[p.i] != c {
		p.ok = false
		return
	}
	p.i++
}

func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}
