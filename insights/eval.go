package insights

import (
	"bytes"
	"math"
	"strings"
)

func (x *fieldRef) eval(r *Row) Value { return r.get(x.name) }
func (x *lit) eval(*Row) Value        { return x.v }
func (x *aggRef) eval(r *Row) Value {
	if x.slot < len(r.aggVals) {
		return r.aggVals[x.slot]
	}
	return null
}
func (x *durLit) eval(*Row) Value   { return num(float64(x.ms)) }
func (x *regexLit) eval(*Row) Value { return str(x.re.String()) }

func (x *neg) eval(r *Row) Value {
	f, ok := x.x.eval(r).number()
	if !ok {
		return null
	}
	return num(-f)
}

func (x *notX) eval(r *Row) Value { return boolean(!x.x.eval(r).truthy()) }

func (x *andX) eval(r *Row) Value { return boolean(x.l.eval(r).truthy() && x.r.eval(r).truthy()) }
func (x *orX) eval(r *Row) Value  { return boolean(x.l.eval(r).truthy() || x.r.eval(r).truthy()) }

func (x *arith) eval(r *Row) Value {
	lv, rv := x.l.eval(r), x.r.eval(r)
	a, ok1 := lv.number()
	b, ok2 := rv.number()
	if !ok1 || !ok2 {
		return null
	}
	var f float64
	switch x.op {
	case '+':
		f = a + b
	case '-':
		f = a - b
	case '*':
		f = a * b
	case '/':
		if b == 0 {
			return null
		}
		f = a / b
	case '%':
		if b == 0 {
			return null
		}
		f = math.Mod(a, b)
	case '^':
		f = math.Pow(a, b)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return null
	}
	// Time plus or minus a number stays a time.
	if (lv.k == kTime) != (rv.k == kTime) && (x.op == '+' || x.op == '-') {
		return timeMs(f)
	}
	return num(f)
}

func (x *cmpX) eval(r *Row) Value {
	c, ok := compare(x.l.eval(r), x.r.eval(r))
	if !ok {
		return boolean(false)
	}
	switch x.op {
	case "=":
		return boolean(c == 0)
	case "!=":
		return boolean(c != 0)
	case "<":
		return boolean(c < 0)
	case "<=":
		return boolean(c <= 0)
	case ">":
		return boolean(c > 0)
	}
	return boolean(c >= 0)
}

func (x *inList) eval(r *Row) Value {
	v := x.x.eval(r)
	if v.k == kNull {
		return boolean(false)
	}
	for _, it := range x.items {
		if c, ok := compare(v, it.eval(r)); ok && c == 0 {
			return boolean(!x.not)
		}
	}
	return boolean(x.not)
}

func (x *likeX) eval(r *Row) Value { return boolean(x.match(r) != x.not) }

// match tests the pattern, straight on the event's bytes when the subject
// is @message, so that a filter that rejects an event costs no copy.
func (x *likeX) match(r *Row) bool {
	if f, ok := x.x.(*fieldRef); ok && f.name == "@message" && !r.agg && !r.hasMsg && !r.assigned("@message") {
		m := r.ev.Message
		switch {
		case x.re == nil:
			return bytes.Contains(m, []byte(x.sub))
		case x.lit != nil:
			return bytes.Contains(m, x.lit)
		}
		return x.re.Match(m)
	}
	v := x.x.eval(r)
	if v.k == kNull {
		return false
	}
	s := v.text()
	if x.re == nil {
		return strings.Contains(s, x.sub)
	}
	if x.lit != nil {
		return strings.Contains(s, string(x.lit))
	}
	return x.re.MatchString(s)
}

func (r *Row) assigned(name string) bool {
	for i := range r.set {
		if r.set[i].name == name {
			return true
		}
	}
	return false
}

func (x *callX) eval(r *Row) Value {
	var buf [4]Value
	args := buf[:0]
	for _, a := range x.args {
		args = append(args, a.eval(r))
	}
	return x.fn(args)
}
