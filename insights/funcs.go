package insights

import (
	"math"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"
)

// fnSpec is a scalar function: its arity (max -1 = any) and either its
// implementation over evaluated arguments, or a compile step for those
// whose arguments are not plain values (durations).
type fnSpec struct {
	min, max int
	fn       func(args []Value) Value
	compile  func(args []expr) (expr, string)
}

var functions map[string]fnSpec

func init() {
	functions = map[string]fnSpec{
		"strlen": {1, 1, func(a []Value) Value {
			if a[0].k == kNull {
				return null
			}
			return num(float64(utf8.RuneCountInString(a[0].text())))
		}, nil},
		"toupper": {1, 1, strFn(strings.ToUpper), nil},
		"tolower": {1, 1, strFn(strings.ToLower), nil},
		"trim":    {1, 1, strFn(strings.TrimSpace), nil},
		"ltrim":   {1, 1, strFn(func(s string) string { return strings.TrimLeft(s, " \t\r\n") }), nil},
		"rtrim":   {1, 1, strFn(func(s string) string { return strings.TrimRight(s, " \t\r\n") }), nil},
		"concat": {1, -1, func(a []Value) Value {
			var b strings.Builder
			for _, v := range a {
				b.WriteString(v.text())
			}
			return str(b.String())
		}, nil},
		"substr": {2, 3, func(a []Value) Value {
			if a[0].k == kNull {
				return null
			}
			rs := []rune(a[0].text())
			start, ok := a[1].number()
			if !ok {
				return null
			}
			s := clampIndex(start, len(rs))
			e := len(rs)
			if len(a) == 3 {
				n, ok := a[2].number()
				if !ok {
					return null
				}
				e = s + clampIndex(n, len(rs)-s)
			}
			return str(string(rs[s:e]))
		}, nil},
		"replace": {3, 3, func(a []Value) Value {
			if a[0].k == kNull {
				return null
			}
			return str(strings.ReplaceAll(a[0].text(), a[1].text(), a[2].text()))
		}, nil},
		"strcontains": {2, 2, func(a []Value) Value {
			if a[0].k == kNull {
				return num(0)
			}
			return b2n(strings.Contains(a[0].text(), a[1].text()))
		}, nil},
		"abs":   {1, 1, numFn(math.Abs), nil},
		"ceil":  {1, 1, numFn(math.Ceil), nil},
		"floor": {1, 1, numFn(math.Floor), nil},
		"log":   {1, 1, numFn(math.Log), nil},
		"sqrt":  {1, 1, numFn(math.Sqrt), nil},
		"pow": {2, 2, func(a []Value) Value {
			x, ok1 := a[0].number()
			y, ok2 := a[1].number()
			if !ok1 || !ok2 {
				return null
			}
			return finite(math.Pow(x, y))
		}, nil},
		"greatest": {1, -1, extreme(1), nil},
		"least":    {1, -1, extreme(-1), nil},
		"frommillis": {1, 1, func(a []Value) Value {
			f, ok := a[0].number()
			if !ok {
				return null
			}
			return timeMs(f)
		}, nil},
		"tomillis": {1, 1, func(a []Value) Value {
			if a[0].k == kStr {
				if t, err := time.Parse(timeLayout, a[0].s); err == nil {
					return num(float64(t.UnixMilli()))
				}
			}
			f, ok := a[0].number()
			if !ok {
				return null
			}
			return num(f)
		}, nil},
		"isvalidip":      {1, 1, ipFn(func(a netip.Addr) bool { return true }), nil},
		"isvalidipv4":    {1, 1, ipFn(func(a netip.Addr) bool { return a.Is4() }), nil},
		"isvalidipv6":    {1, 1, ipFn(func(a netip.Addr) bool { return a.Is6() && !a.Is4In6() }), nil},
		"isipinsubnet":   {2, 2, subnetFn(nil), nil},
		"isipv4insubnet": {2, 2, subnetFn(func(a netip.Addr) bool { return a.Is4() }), nil},
		"isipv6insubnet": {2, 2, subnetFn(func(a netip.Addr) bool { return a.Is6() }), nil},
		"ispresent":      {1, 1, func(a []Value) Value { return b2n(a[0].k != kNull) }, nil},
		"isempty":        {1, 1, func(a []Value) Value { return b2n(a[0].k == kNull || a[0].text() == "") }, nil},
		"isblank": {1, 1, func(a []Value) Value {
			return b2n(a[0].k == kNull || strings.TrimSpace(a[0].text()) == "")
		}, nil},
		"coalesce": {1, -1, func(a []Value) Value {
			for _, v := range a {
				if v.k != kNull {
					return v
				}
			}
			return null
		}, nil},
		"bin":       {1, 2, nil, compileBin(false, false)},
		"datefloor": {2, 2, nil, compileBin(true, false)},
		"dateceil":  {2, 2, nil, compileBin(true, true)},
	}
}

// clampIndex bounds f to [0, n] as a float before converting it: a
// conversion of a value beyond int's range is implementation-defined in Go
// (a huge count became negative, or overflowed once added to a start).
func clampIndex(f float64, n int) int {
	if math.IsNaN(f) || f <= 0 {
		return 0
	}
	if f >= float64(n) {
		return n
	}
	return int(f)
}

func b2n(b bool) Value { return boolean(b) }

func finite(f float64) Value {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return null
	}
	return num(f)
}

func strFn(f func(string) string) func([]Value) Value {
	return func(a []Value) Value {
		if a[0].k == kNull {
			return null
		}
		return str(f(a[0].text()))
	}
}

func numFn(f func(float64) float64) func([]Value) Value {
	return func(a []Value) Value {
		x, ok := a[0].number()
		if !ok {
			return null
		}
		return finite(f(x))
	}
}

func extreme(sign int) func([]Value) Value {
	return func(a []Value) Value {
		best := null
		for _, v := range a {
			if _, ok := v.number(); !ok {
				continue
			}
			if best.k == kNull {
				best = v
				continue
			}
			if c, _ := compare(v, best); c*sign > 0 {
				best = v
			}
		}
		return best
	}
}

func ipFn(ok func(netip.Addr) bool) func([]Value) Value {
	return func(a []Value) Value {
		if a[0].k == kNull {
			return b2n(false)
		}
		ip, err := netip.ParseAddr(a[0].text())
		return b2n(err == nil && ok(ip))
	}
}

func subnetFn(family func(netip.Addr) bool) func([]Value) Value {
	return func(a []Value) Value {
		if a[0].k == kNull || a[1].k == kNull {
			return b2n(false)
		}
		ip, err := netip.ParseAddr(a[0].text())
		if err != nil || family != nil && !family(ip) {
			return b2n(false)
		}
		pfx, err := netip.ParsePrefix(a[1].text())
		return b2n(err == nil && pfx.Contains(ip.Unmap()))
	}
}

// binX rounds a time down (or up) to a multiple of a duration: bin(5m)
// over @timestamp, datefloor(field, 1h), dateceil(field, 1d).
type binX struct {
	src  expr
	d    *durLit
	ceil bool
}

func compileBin(fieldFirst, ceil bool) func(args []expr) (expr, string) {
	return func(args []expr) (expr, string) {
		var d expr
		var src expr = &fieldRef{name: "@timestamp"}
		if fieldFirst {
			src, d = args[0], args[1]
		} else {
			d = args[0]
			if len(args) == 2 {
				src = args[1]
			}
		}
		dl, ok := d.(*durLit)
		if !ok {
			return nil, "give a duration such as 5m, 1h or 1d (units ms, s, m, h, d, w, mo, q, y)"
		}
		return &binX{src: src, d: dl, ceil: ceil}, ""
	}
}

func (x *binX) eval(r *Row) Value {
	t, ok := x.src.eval(r).number()
	if !ok || math.IsNaN(t) || math.Abs(t) > maxBinMs {
		return null // beyond int64 once converted; no time is that far
	}
	return timeMs(float64(binMs(int64(t), x.d, x.ceil)))
}

// maxBinMs bounds the times bin() rounds: 2^53 ms, some 285,000 years.
const maxBinMs = 1 << 53

// binMs floors (or ceils) epoch milliseconds to the duration, in UTC;
// months, quarters and years are calendar units.
func binMs(ms int64, d *durLit, ceil bool) int64 {
	if d.ms > 0 {
		f := ms - ((ms%d.ms)+d.ms)%d.ms
		if ceil && f != ms {
			f += d.ms
		}
		return f
	}
	t := time.UnixMilli(ms).UTC()
	m := int64(t.Year())*12 + int64(t.Month()) - 1
	m -= ((m % d.months) + d.months) % d.months
	f := time.Date(int(m/12), time.Month(m%12+1), 1, 0, 0, 0, 0, time.UTC)
	if ceil && f.UnixMilli() != ms {
		f = f.AddDate(0, int(d.months), 0)
	}
	return f.UnixMilli()
}
