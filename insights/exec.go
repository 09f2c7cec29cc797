package insights

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// MaxRows is the most rows a query returns, and the default limit.
const MaxRows = 10_000

// MaxHeldRows bounds the rows a sort holds when nothing after it limits
// them (sort, then filter): past it the query fails rather than grow
// without bound.
const MaxHeldRows = 1_000_000

// Stats are a query's statistics, as GetQueryResults reports them.
type Stats struct {
	RecordsScanned int64
	RecordsMatched int64
	BytesScanned   int64
}

// Field is one {field, value} pair of a result row.
type Field struct {
	Field string `json:"field"`
	Value string `json:"value"`
}

// Exec runs a query over events fed to it, and can report its results so
// far at any time (partial results of a running query).
type Exec struct {
	q        *Query
	limit    int
	plan     []command
	blockIdx int
	head     stage
	block    blocker
	cols     []string
	ptr      bool
	row      Row
	mu       sync.Mutex
	err      error
	done     bool

	scanned, matched, bytes atomic.Int64
}

// stage is one command over a stream of rows. push returns false when the
// stage wants no more rows; finish passes the end downstream.
type stage interface {
	push(r *Row) bool
	finish()
}

// blocker is a stage that holds rows (sort, stats) and can emit what it
// holds without losing it, for partial results.
type blocker interface {
	stage
	emit(next stage)
}

// NewExec prepares a run of q whose results are capped at limit rows (0:
// MaxRows).
func (q *Query) NewExec(limit int) *Exec {
	if limit <= 0 || limit > MaxRows {
		limit = MaxRows
	}
	e := &Exec{q: q, limit: limit}
	e.plan = planOf(q.cmds)
	e.cols, e.ptr = outputColumns(e.plan)
	for i, c := range e.plan {
		if _, ok := c.(*statsCmd); ok {
			e.blockIdx = i
			break
		}
		if _, ok := c.(*sortCmd); ok {
			e.blockIdx = i
			break
		}
	}
	e.row.want = q.fieldsUsed
	e.block = e.newBlocker(e.blockIdx)
	var next stage = &countStage{e: e, next: e.block}
	for i := e.blockIdx - 1; i >= 0; i-- {
		next = e.newStage(e.plan[i], next, i)
	}
	e.head = next
	return e
}

// planOf places the default order: rows are sorted by @timestamp, newest
// first, before the first limit or dedup that no sort or stats precedes,
// and at the end of a query that has neither.
func planOf(cmds []command) []command {
	implicit := &sortCmd{keys: []sortKey{{x: &fieldRef{name: "@timestamp"}, desc: true}}}
	var plan []command
	for i, c := range cmds {
		switch c.(type) {
		case *statsCmd, *sortCmd:
			return append(plan, cmds[i:]...)
		case *limitCmd, *dedupCmd:
			plan = append(plan, implicit)
			return append(plan, cmds[i:]...)
		}
		plan = append(plan, c)
	}
	return append(plan, implicit)
}

// outputColumns decides which fields a result row shows (see the package
// doc) and whether rows carry @ptr.
func outputColumns(plan []command) ([]string, bool) {
	var cols, display []string
	agg := false
	add := func(n string) {
		for _, c := range cols {
			if c == n {
				return
			}
		}
		cols = append(cols, n)
	}
	for _, c := range plan {
		switch c := c.(type) {
		case *fieldsCmd:
			if c.display {
				display = display[:0]
				for _, it := range c.items {
					display = append(display, it.name)
				}
			} else {
				for _, it := range c.items {
					add(it.name)
				}
			}
		case *parseCmd:
			for _, n := range c.names {
				add(n)
			}
		case *statsCmd:
			agg = true
			cols = nil
			display = nil
			for _, b := range c.by {
				add(b.name)
			}
			for _, o := range c.outs {
				add(o.name)
			}
		}
	}
	if display != nil {
		cols = display
	} else if len(cols) == 0 && !agg {
		cols = []string{"@timestamp", "@message", "@logStream", "@log"}
	}
	return cols, !agg
}

// limitAfter is how many rows a sort at plan[i] must keep: the first
// limit after it when only row-preserving commands come between, the
// result limit when nothing else does, else 0 (all).
func (e *Exec) limitAfter(i int) int {
	for _, c := range e.plan[i+1:] {
		switch c := c.(type) {
		case *fieldsCmd, *parseCmd, *unmaskCmd:
			continue
		case *limitCmd:
			return min(c.n, e.limit)
		}
		return 0
	}
	return e.limit
}

func (e *Exec) newBlocker(i int) blocker {
	switch c := e.plan[i].(type) {
	case *statsCmd:
		return newStatsStage(c, nil)
	case *sortCmd:
		return &sortStage{keys: c.keys, k: e.limitAfter(i), e: e}
	}
	panic("insights: plan has no sort or stats")
}

func (e *Exec) newStage(c command, next stage, i int) stage {
	switch c := c.(type) {
	case *fieldsCmd:
		return &fieldsStage{c: c, next: next}
	case *filterCmd:
		return &filterStage{cond: c.cond, next: next}
	case *parseCmd:
		return &parseStage{c: c, next: next}
	case *dedupCmd:
		return &dedupStage{keys: c.keys, seen: map[string]bool{}, next: next}
	case *limitCmd:
		return &limitStage{n: c.n, next: next}
	case *statsCmd:
		return newStatsStage(c, next)
	case *sortCmd:
		return &sortStage{keys: c.keys, k: e.limitAfter(i), e: e, next: next}
	}
	return &passStage{next: next}
}

// ErrTooManyRows is a sort that would hold more than MaxHeldRows.
var ErrTooManyRows = fmt.Errorf("the query sorts more than %d rows with no limit after the sort: add `| limit N` right after the sort, or filter first", MaxHeldRows)

// Feed offers one event. It returns false once the query can use no more
// (an error, such as ErrTooManyRows, is then in Err).
func (e *Exec) Feed(ev *Event) bool {
	e.scanned.Add(1)
	e.bytes.Add(int64(len(ev.Message)))
	if e.err != nil {
		return false
	}
	e.row.reset(ev)
	e.row.seen++
	e.head.push(&e.row)
	return e.err == nil
}

// feedBatch is how many events Run feeds between releases of the lock
// that partial results take.
const feedBatch = 4096

// Run feeds the events src yields until it ends, ctx is done or the query
// fails. src calls yield for each event and stops when yield says false.
func (e *Exec) Run(ctx context.Context, src func(yield func(*Event) bool) error) error {
	// The lock that Results takes is held for a batch of events at a time,
	// never while src waits between batches.
	locked := false
	n := 0
	stop := ctx.Err()
	var err error
	if stop == nil {
		err = src(func(ev *Event) bool {
			if !locked {
				e.mu.Lock()
				locked = true
			}
			if !e.Feed(ev) {
				return false
			}
			if n++; n%feedBatch == 0 {
				e.mu.Unlock()
				locked = false
				if stop = ctx.Err(); stop != nil {
					return false
				}
			}
			return true
		})
	}
	if !locked {
		e.mu.Lock()
	}
	if e.err == nil && stop != nil {
		e.err = stop
	}
	if e.err == nil && err != nil {
		e.err = err
	}
	e.done = true
	err = e.err
	e.mu.Unlock()
	return err
}

// Stats reports the query's counters; safe while it runs.
func (e *Exec) Stats() Stats {
	return Stats{RecordsScanned: e.scanned.Load(), RecordsMatched: e.matched.Load(), BytesScanned: e.bytes.Load()}
}

// Results returns the rows so far (all of them once Run returned) and the
// statistics. Safe while Run runs: it waits for Run's current batch.
func (e *Exec) Results() [][]Field {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := &sink{limit: e.limit}
	var next stage = s
	for i := len(e.plan) - 1; i > e.blockIdx; i-- {
		next = e.newStage(e.plan[i], next, i)
	}
	e.block.emit(next)
	next.finish()
	rows := make([][]Field, 0, len(s.rows))
	for _, r := range s.rows {
		row := make([]Field, 0, len(e.cols)+1)
		for _, c := range e.cols {
			if v := r.get(c); v.k != kNull {
				row = append(row, Field{c, v.String()})
			}
		}
		if e.ptr && !r.agg {
			row = append(row, Field{"@ptr", EncodePtr(r.ev.Group, r.ev.StreamID, r.ev.Seq, r.ev.Timestamp)})
		}
		rows = append(rows, row)
	}
	return rows
}

// Columns are the fields result rows show, in order (@ptr aside).
func (e *Exec) Columns() []string { return e.cols }

type sink struct {
	limit int
	rows  []*Row
}

func (s *sink) push(r *Row) bool {
	if len(s.rows) >= s.limit {
		return false
	}
	s.rows = append(s.rows, r)
	return len(s.rows) < s.limit
}
func (s *sink) finish() {}

// countStage counts the rows that reach the first sort or stats: the
// records the query matched.
type countStage struct {
	e    *Exec
	next stage
}

func (s *countStage) push(r *Row) bool { s.e.matched.Add(1); return s.next.push(r) }
func (s *countStage) finish()          { s.next.finish() }

type passStage struct{ next stage }

func (s *passStage) push(r *Row) bool { return s.next.push(r) }
func (s *passStage) finish()          { s.next.finish() }

type fieldsStage struct {
	c    *fieldsCmd
	next stage
}

func (s *fieldsStage) push(r *Row) bool {
	if !s.c.display {
		for _, it := range s.c.items {
			if f, ok := it.x.(*fieldRef); ok && f.name == it.name {
				continue // the field itself: nothing to compute
			}
			r.assign(it.name, it.x.eval(r))
		}
	}
	return s.next.push(r)
}
func (s *fieldsStage) finish() { s.next.finish() }

type filterStage struct {
	cond expr
	next stage
}

func (s *filterStage) push(r *Row) bool {
	if l, ok := s.cond.(*likeX); ok {
		if !l.match(r) != l.not {
			return true
		}
	} else if !s.cond.eval(r).truthy() {
		return true
	}
	return s.next.push(r)
}
func (s *filterStage) finish() { s.next.finish() }

type parseStage struct {
	c    *parseCmd
	next stage
}

func (s *parseStage) push(r *Row) bool {
	v := s.c.src.eval(r)
	if v.k != kNull {
		text := v.text()
		if s.c.re != nil {
			parseRegex(s.c.re, text, r)
		} else if caps, ok := globMatch(s.c.glob, text); ok {
			for i, n := range s.c.names {
				r.assign(n, str(caps[i]))
			}
		}
	}
	return s.next.push(r)
}
func (s *parseStage) finish() { s.next.finish() }

func parseRegex(re *regexp.Regexp, text string, r *Row) {
	m := re.FindStringSubmatchIndex(text)
	if m == nil {
		return
	}
	for i, n := range re.SubexpNames() {
		if i == 0 || n == "" || m[2*i] < 0 {
			continue
		}
		r.assign(n, str(text[m[2*i]:m[2*i+1]]))
	}
}

// globMatch matches a parse pattern: the literal pieces in order, each *
// taking the shortest text up to the next piece; a trailing * takes the
// rest.
func globMatch(pieces []string, s string) ([]string, bool) {
	if !strings.HasPrefix(s, pieces[0]) {
		return nil, false
	}
	pos := len(pieces[0])
	caps := make([]string, 0, len(pieces)-1)
	for _, p := range pieces[1:] {
		if p == "" {
			caps = append(caps, s[pos:])
			pos = len(s)
			continue
		}
		j := strings.Index(s[pos:], p)
		if j < 0 {
			return nil, false
		}
		caps = append(caps, s[pos:pos+j])
		pos += j + len(p)
	}
	return caps, true
}

type dedupStage struct {
	keys []named
	seen map[string]bool
	next stage
	buf  []byte
}

func (s *dedupStage) push(r *Row) bool {
	s.buf = s.buf[:0]
	for _, k := range s.keys {
		s.buf = appendKey(s.buf, k.x.eval(r))
	}
	if s.seen[string(s.buf)] {
		return true
	}
	s.seen[string(s.buf)] = true
	return s.next.push(r)
}
func (s *dedupStage) finish() { s.next.finish() }

type limitStage struct {
	n, seen int
	next    stage
}

func (s *limitStage) push(r *Row) bool {
	if s.seen >= s.n {
		return false
	}
	s.seen++
	return s.next.push(r) && s.seen < s.n
}
func (s *limitStage) finish() { s.next.finish() }

// appendKey encodes a value as part of a grouping key.
func appendKey(b []byte, v Value) []byte {
	b = append(b, byte(v.k))
	switch v.k {
	case kNum, kTime, kBool:
		switch {
		case v.k == kNum && v.s != "":
			b = append(b, v.s...)
		case v.n == float64(int64(v.n)):
			b = strconv.AppendInt(b, int64(v.n), 10)
		default:
			b = strconv.AppendFloat(b, v.n, 'g', -1, 64)
		}
	case kStr:
		b = append(b, v.s...)
	}
	return append(b, 0)
}

type sortRow struct {
	r    *Row
	keys []Value
}

type sortStage struct {
	keys  []sortKey
	k     int // rows to keep; 0 = all (up to MaxHeldRows)
	e     *Exec
	next  stage
	rows  []sortRow
	worst *sortRow // when len(rows) >= k after a compaction: the last kept
}

func (s *sortStage) less(a, b *sortRow) bool {
	for i, k := range s.keys {
		c := naturalOrNull(a.keys[i], b.keys[i])
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c < 0
		}
	}
	// Ties: newer first, then by stream and sequence, for a stable answer.
	if a.r.ev.Timestamp != b.r.ev.Timestamp {
		return a.r.ev.Timestamp > b.r.ev.Timestamp
	}
	if a.r.ev.StreamID != b.r.ev.StreamID {
		return a.r.ev.StreamID < b.r.ev.StreamID
	}
	if a.r.ev.Seq != b.r.ev.Seq {
		return a.r.ev.Seq < b.r.ev.Seq
	}
	return a.r.seen < b.r.seen
}

// naturalOrNull orders missing values after present ones.
func naturalOrNull(a, b Value) int {
	switch {
	case a.k == kNull && b.k == kNull:
		return 0
	case a.k == kNull:
		return 1
	case b.k == kNull:
		return -1
	}
	return naturalCompare(a, b)
}

func (s *sortStage) push(r *Row) bool {
	keys := make([]Value, len(s.keys))
	for i, k := range s.keys {
		keys[i] = k.x.eval(r)
	}
	sr := sortRow{r: r, keys: keys}
	if s.worst != nil && !s.less(&sr, s.worst) {
		return true
	}
	for i := range keys {
		keys[i] = detachValue(keys[i])
	}
	sr.r = r.detach()
	s.rows = append(s.rows, sr)
	if s.k > 0 && len(s.rows) >= 2*s.k+64 {
		s.compact()
	}
	if s.k == 0 && len(s.rows) > MaxHeldRows && s.e != nil {
		s.e.err = ErrTooManyRows
		return false
	}
	return true
}

func (s *sortStage) compact() {
	sort.SliceStable(s.rows, func(i, j int) bool { return s.less(&s.rows[i], &s.rows[j]) })
	if s.k > 0 && len(s.rows) > s.k {
		clear(s.rows[s.k:])
		s.rows = s.rows[:s.k]
		s.worst = &s.rows[s.k-1]
	}
}

func (s *sortStage) emit(next stage) {
	s.compact()
	if s.k > 0 && len(s.rows) >= s.k {
		s.worst = &s.rows[s.k-1]
	}
	for i := range s.rows {
		if !next.push(s.rows[i].r.clone()) {
			return
		}
	}
}

func (s *sortStage) finish() {
	s.emit(s.next)
	s.next.finish()
}

// clone copies a kept row so that later stages may assign to it.
func (r *Row) clone() *Row {
	c := *r
	c.set = append([]kv(nil), r.set...)
	return &c
}
