package insights

import (
	"math"
	"sort"
)

var aggregates = map[string]bool{
	"count": true, "count_distinct": true, "sum": true, "avg": true, "min": true, "max": true,
	"pct": true, "stddev": true, "earliest": true, "latest": true, "sortsfirst": true, "sortslast": true,
}

func isAggregate(name string) bool { return aggregates[name] }

// aggState accumulates one aggregate of one stats group. Missing values
// never reach it: an aggregate skips rows without its field.
type aggState interface {
	add(v Value, r *Row)
	result() Value
}

func newAgg(a *aggSpec) aggState {
	switch a.fn {
	case "count":
		return &countAgg{}
	case "count_distinct":
		return &distinctAgg{seen: map[string]struct{}{}}
	case "sum":
		return &sumAgg{}
	case "avg":
		return &sumAgg{avg: true}
	case "min":
		return &minMaxAgg{sign: -1}
	case "max":
		return &minMaxAgg{sign: 1}
	case "pct":
		return &pctAgg{p: a.pct}
	case "stddev":
		return &stddevAgg{}
	case "earliest":
		return &timeAgg{sign: -1}
	case "latest":
		return &timeAgg{sign: 1}
	case "sortsfirst":
		return &sortsAgg{sign: -1}
	}
	return &sortsAgg{sign: 1}
}

type countAgg struct{ n int64 }

func (a *countAgg) add(Value, *Row) { a.n++ }
func (a *countAgg) result() Value   { return num(float64(a.n)) }

// MaxDistinct bounds the values count_distinct remembers per group; past
// it the count is a lower bound (the service also calls its count of a
// field of very high cardinality an approximation).
const MaxDistinct = 100_000

type distinctAgg struct{ seen map[string]struct{} }

func (a *distinctAgg) add(v Value, _ *Row) {
	if len(a.seen) < MaxDistinct {
		a.seen[v.text()] = struct{}{}
	}
}
func (a *distinctAgg) result() Value { return num(float64(len(a.seen))) }

type sumAgg struct {
	sum float64
	n   int64
	avg bool
}

func (a *sumAgg) add(v Value, _ *Row) {
	if f, ok := v.number(); ok {
		a.sum += f
		a.n++
	}
}

func (a *sumAgg) result() Value {
	if a.n == 0 {
		return null
	}
	if a.avg {
		return num(a.sum / float64(a.n))
	}
	return num(a.sum)
}

type minMaxAgg struct {
	best Value
	sign int
}

func (a *minMaxAgg) add(v Value, _ *Row) {
	f, ok := v.number()
	if !ok {
		return
	}
	if b, _ := a.best.number(); a.best.k == kNull || (f-b)*float64(a.sign) > 0 {
		if v.k == kTime {
			a.best = v
		} else {
			a.best = num(f)
		}
	}
}
func (a *minMaxAgg) result() Value { return a.best }

// stddevAgg is the sample standard deviation (n-1), by Welford's method.
type stddevAgg struct {
	n        int64
	mean, m2 float64
}

func (a *stddevAgg) add(v Value, _ *Row) {
	f, ok := v.number()
	if !ok {
		return
	}
	a.n++
	d := f - a.mean
	a.mean += d / float64(a.n)
	a.m2 += d * (f - a.mean)
}

func (a *stddevAgg) result() Value {
	if a.n < 2 {
		if a.n == 1 {
			return num(0)
		}
		return null
	}
	return num(math.Sqrt(a.m2 / float64(a.n-1)))
}

type timeAgg struct {
	v    Value
	ts   int64
	have bool
	sign int
}

func (a *timeAgg) add(v Value, r *Row) {
	ts := r.ev.Timestamp
	if r.agg {
		ts = int64(r.seen)
	}
	if !a.have || (a.sign < 0 && ts < a.ts) || (a.sign > 0 && ts >= a.ts) {
		a.v, a.ts, a.have = detachValue(v), ts, true
	}
}
func (a *timeAgg) result() Value { return a.v }

type sortsAgg struct {
	v    Value
	sign int
}

func (a *sortsAgg) add(v Value, _ *Row) {
	if a.v.k == kNull || naturalCompare(v, a.v)*a.sign > 0 {
		a.v = detachValue(v)
	}
}
func (a *sortsAgg) result() Value { return a.v }

// detachValue copies a value's string so it does not pin a read buffer.
func detachValue(v Value) Value {
	v.s = string([]byte(v.s))
	return v
}

// pctExact is how many values pct keeps per group before it switches to a
// sketch: up to it, percentiles are exact (8 bytes a value, so at most
// 8 KiB a group, about what the sketch of values spanning 1 to 1e6 costs).
const pctExact = 1_000

// pctAgg computes a percentile: exactly over the first pctExact values of
// a group, then with a logarithmic-bucket sketch (DDSketch-style) whose
// answer is within 1% of the true value, in memory bounded by the range
// of the values (about 2,400 buckets span 1e-9 to 1e12), not their number.
type pctAgg struct {
	p      float64
	exact  []float64
	sketch *ddSketch
}

func (a *pctAgg) add(v Value, _ *Row) {
	f, ok := v.number()
	if !ok {
		return
	}
	if a.sketch != nil {
		a.sketch.add(f)
		return
	}
	a.exact = append(a.exact, f)
	if len(a.exact) > pctExact {
		a.sketch = newDDSketch()
		for _, x := range a.exact {
			a.sketch.add(x)
		}
		a.exact = nil
	}
}

func (a *pctAgg) result() Value {
	if a.sketch != nil {
		return num(a.sketch.quantile(a.p / 100))
	}
	if len(a.exact) == 0 {
		return null
	}
	// Nearest rank: the smallest value with at least p% of values at or
	// below it. Selection, not a sort: partial results ask again and again.
	s := append([]float64(nil), a.exact...)
	k := int(math.Ceil(a.p/100*float64(len(s)))) - 1
	return num(selectK(s, min(max(k, 0), len(s)-1)))
}

// selectK returns the k-th smallest element of s (0-based), reordering s
// (quickselect, median-of-three pivots).
func selectK(s []float64, k int) float64 {
	lo, hi := 0, len(s)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if s[mid] < s[lo] {
			s[mid], s[lo] = s[lo], s[mid]
		}
		if s[hi] < s[lo] {
			s[hi], s[lo] = s[lo], s[hi]
		}
		if s[hi] < s[mid] {
			s[hi], s[mid] = s[mid], s[hi]
		}
		p := s[mid]
		i, j := lo, hi
		for i <= j {
			for s[i] < p {
				i++
			}
			for s[j] > p {
				j--
			}
			if i <= j {
				s[i], s[j] = s[j], s[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return s[k]
		}
	}
	return s[k]
}

// ddSketch keeps counts of values in buckets whose bounds grow by gamma,
// so that any value in a bucket is within alpha (1%) of the bucket's
// representative.
type ddSketch struct {
	pos, neg map[int]int64
	zero     int64
	n        int64
}

const ddAlpha = 0.01

var ddGamma = (1 + ddAlpha) / (1 - ddAlpha)
var ddLogGamma = math.Log(ddGamma)

func newDDSketch() *ddSketch { return &ddSketch{pos: map[int]int64{}, neg: map[int]int64{}} }

func (s *ddSketch) add(f float64) {
	s.n++
	switch {
	case f > 1e-9:
		s.pos[int(math.Ceil(math.Log(f)/ddLogGamma))]++
	case f < -1e-9:
		s.neg[int(math.Ceil(math.Log(-f)/ddLogGamma))]++
	default:
		s.zero++
	}
}

func (s *ddSketch) quantile(q float64) float64 {
	rank := int64(math.Ceil(q*float64(s.n))) - 1
	rank = min(max(rank, 0), s.n-1)
	value := func(k int) float64 { return 2 * math.Pow(ddGamma, float64(k)) / (1 + ddGamma) }
	negKeys := sortedKeys(s.neg)
	var seen int64
	for i := len(negKeys) - 1; i >= 0; i-- { // most negative first
		seen += s.neg[negKeys[i]]
		if seen > rank {
			return -value(negKeys[i])
		}
	}
	seen += s.zero
	if seen > rank {
		return 0
	}
	for _, k := range sortedKeys(s.pos) {
		seen += s.pos[k]
		if seen > rank {
			return value(k)
		}
	}
	return 0
}

func sortedKeys(m map[int]int64) []int {
	ks := make([]int, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	return ks
}
