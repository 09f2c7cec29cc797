package insights

import "sort"

type statsGroup struct {
	by    []Value
	aggs  []aggState
	order int
}

type statsStage struct {
	c      *statsCmd
	next   stage
	groups map[string]*statsGroup
	byVals []Value
	buf    []byte
	rows   int
}

func newStatsStage(c *statsCmd, next stage) *statsStage {
	return &statsStage{c: c, next: next, groups: map[string]*statsGroup{}, byVals: make([]Value, len(c.by))}
}

// MaxGroups bounds the groups one stats holds; the service's results stop
// at 10,000 rows, and a by over a field of high cardinality would
// otherwise grow without bound.
const MaxGroups = 1_000_000

func (s *statsStage) push(r *Row) bool {
	s.rows++
	s.buf = s.buf[:0]
	for i, b := range s.c.by {
		v := b.x.eval(r)
		s.byVals[i] = v
		s.buf = appendKey(s.buf, v)
	}
	g := s.groups[string(s.buf)]
	if g == nil {
		if len(s.groups) >= MaxGroups {
			return true
		}
		g = &statsGroup{by: make([]Value, len(s.byVals)), aggs: make([]aggState, len(s.c.aggs)), order: len(s.groups)}
		for i, v := range s.byVals {
			g.by[i] = detachValue(v)
		}
		for i, a := range s.c.aggs {
			g.aggs[i] = newAgg(a)
		}
		s.groups[string(s.buf)] = g
	}
	for i, a := range s.c.aggs {
		if a.arg == nil {
			g.aggs[i].add(null, r)
			continue
		}
		if v := a.arg.eval(r); v.k != kNull {
			g.aggs[i].add(v, r)
		}
	}
	return true
}

// emit makes one row per group, ordered by the by values ascending (the
// order of a timeline); a stats without by over no rows still gives its
// one row.
func (s *statsStage) emit(next stage) {
	groups := make([]*statsGroup, 0, len(s.groups))
	for _, g := range s.groups {
		groups = append(groups, g)
	}
	if len(groups) == 0 && len(s.c.by) == 0 {
		g := &statsGroup{aggs: make([]aggState, len(s.c.aggs))}
		for i, a := range s.c.aggs {
			g.aggs[i] = newAgg(a)
		}
		groups = append(groups, g)
	}
	sort.Slice(groups, func(i, j int) bool {
		for k := range groups[i].by {
			if c := naturalOrNull(groups[i].by[k], groups[j].by[k]); c != 0 {
				return c < 0
			}
		}
		return groups[i].order < groups[j].order
	})
	vals := make([]Value, len(s.c.aggs))
	for n, g := range groups {
		for i, a := range g.aggs {
			vals[i] = a.result()
		}
		r := &Row{agg: true, seen: n, aggVals: vals}
		for i, b := range s.c.by {
			r.set = append(r.set, kv{b.name, g.by[i]})
		}
		for _, o := range s.c.outs {
			r.set = append(r.set, kv{o.name, o.x.eval(r)})
		}
		r.aggVals = nil
		if !next.push(r) {
			return
		}
	}
}

func (s *statsStage) finish() {
	s.emit(s.next)
	s.next.finish()
}
