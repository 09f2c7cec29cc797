package shipper

import (
	"fmt"
	"regexp"
	"time"
)

// Multiline grouping: the lines of a stack trace become one event. The
// batcher passes every line of every source through line (cut.go calls it
// where it used to call emit); a line that may be continued is held, with
// the lines that join it, until a line that does not continue it, the
// event size limit, a short wait without more lines, a Flush or the
// source's end. Holding never reorders: while a group is held, later lines
// of other sources wait behind it, so that events leave in the order their
// first lines arrived. What is held is counted by Flush's barrier (a Flush
// ends every group) and by the buffer's memory.

// Values of Config.Multiline besides a regular expression.
const (
	MultilineAuto = "auto" // stack traces of Java, Python, Go, Node.js, Ruby (default)
	MultilineOff  = "off"  // every line is an event
)

// maxHeldBehind bounds the bytes of other events held behind an open
// group: past it the group ends, so that a flood on stdout does not wait
// for a quiet stderr's trace.
const maxHeldBehind = 1 << 20

// maxSpareHeld bounds the held events kept for reuse.
const maxSpareHeld = 256

// grouper is a Shipper's grouping rule; nil: off.
type grouper struct {
	re   *regexp.Regexp // a line it matches starts an event; nil: auto
	wait int64          // ms without a line after which a group ends
}

// CheckMultiline checks a value of Config.Multiline ("auto", "off" or a
// regular expression), for flags and configuration read before a Shipper
// exists. The error says what is wrong and what to write instead.
func CheckMultiline(v string) error {
	_, err := newGrouper(v, 0)
	return err
}

// newGrouper compiles v; only a custom expression costs a compile.
func newGrouper(v string, wait time.Duration) (*grouper, error) {
	switch v {
	case "", MultilineAuto:
		return &grouper{wait: wait.Milliseconds()}, nil
	case MultilineOff:
		return nil, nil
	}
	re, err := regexp.Compile(v)
	if err != nil {
		return nil, fmt.Errorf("multiline %q: not auto, off or a valid regular expression matching the first line of an event: %w", v, err)
	}
	if re.MatchString("") {
		// Every line would start an event (or, unanchored, match
		// anywhere): grouping would do nothing.
		return nil, fmt.Errorf("multiline %q: the expression matches an empty line, so it matches every line: write one that matches only the first line of an event, such as ^\\d{4}-\\d{2}-\\d{2}", v)
	}
	return &grouper{re: re, wait: wait.Milliseconds()}, nil
}

// opens reports whether line, with no group open in its source, is held
// as the start of one.
func (g *grouper) opens(line []byte) (traceState, bool) {
	if g.re != nil {
		return tsNone, true // any line may be continued by lines that do not match
	}
	return opens(line)
}

// continues reports whether line joins the group open in a source at st.
func (g *grouper) continues(st traceState, line []byte) (traceState, bool) {
	if g.re != nil {
		return tsNone, !g.re.Match(line)
	}
	return continues(st, line)
}

// heldEvent is an event held by grouping: an open group, or a later event
// of another source waiting behind one.
type heldEvent struct {
	src  *source
	ts   int64  // the first line's
	seq  uint64 // the first line's
	last int64  // when its last line came (ms): the wait runs from there
	msg  []byte
	cost int  // the message's size once formatted, without the envelope
	open bool // more lines may join
}

// line passes one line of src through grouping to emit. It reports false,
// having taken nothing, when the request is full.
func (c *cutter) line(b *body, src *source, ts int64, seq uint64, line []byte) bool {
	g := c.s.grp
	if g == nil {
		return c.emit(b, src, ts, seq, line)
	}
	if len(c.held) > 0 {
		if !c.drain(b) {
			return false
		}
		if h := c.held; len(h) > 0 && h[0].open {
			switch {
			case ts >= h[0].last+g.wait:
				c.closeGroup(h[0].src) // its wait was over when this line came
			case c.heldBytes-len(h[0].msg) > maxHeldBehind:
				// Too much waits behind it: it goes, and its trace
				// goes on in the next event.
				src0, st := h[0].src, h[0].src.state
				c.closeGroup(src0)
				src0.state, src0.goesOn = st, h[0].last+g.wait
			}
			if !c.drain(b) {
				return false
			}
		}
	}
	if h := src.group; h != nil && ts >= h.last+g.wait {
		c.closeGroup(src) // it comes too late to join
	}
	// From here the line is taken, whatever the request's room, except
	// by the last emit, which a second call repeats from the same state.
	if len(line) == 0 {
		if src.group != nil {
			src.blanks++ // joins only if the trace goes on after it
			src.group.last = max(src.group.last, ts)
		} else {
			c.empty++
		}
		return true
	}
	if h := src.group; h != nil {
		if st, ok := g.continues(src.state, line); ok {
			src.state = st
			if c.join(h, src, ts, line) {
				c.joined++
				return true
			}
			// The event is full: the trace goes on in the next.
			c.closeGroup(src)
			src.state = st
			c.hold(src, ts, seq, line, true)
			return true
		}
		c.closeGroup(src)
		c.drain(b)
	} else if src.state != tsNone {
		// Its group went early (the lines held behind it): the trace
		// goes on in a new one, if it goes on within the wait.
		if st, ok := g.continues(src.state, line); ok && ts < src.goesOn {
			src.state = st
			c.hold(src, ts, seq, line, true)
			return true
		}
		src.state = tsNone
	}
	if st, ok := g.opens(line); ok {
		src.state = st
		c.hold(src, ts, seq, line, true)
		return true
	}
	if len(c.held) > 0 {
		c.hold(src, ts, seq, line, false) // behind an earlier group
		return true
	}
	return c.emit(b, src, ts, seq, line)
}

// hold queues a copy of line as a new held event, the open group of src
// when open.
func (c *cutter) hold(src *source, ts int64, seq uint64, line []byte, open bool) {
	var h *heldEvent
	if n := len(c.spareHeld); n > 0 {
		h = c.spareHeld[n-1]
		c.spareHeld = c.spareHeld[:n-1]
	} else {
		h = &heldEvent{}
	}
	*h = heldEvent{src: src, ts: ts, seq: seq, last: ts, msg: append(h.msg[:0], line...), open: open}
	h.cost = c.lineCost(line)
	c.held = append(c.held, h)
	c.heldBytes += len(line)
	if open {
		src.group = h
	}
}

// join adds line to the open group h of src, after the blank lines held
// before it, or reports false when the event would exceed the size limit.
func (c *cutter) join(h *heldEvent, src *source, ts int64, line []byte) bool {
	sep := 1 // '\n', escaped to two bytes in json
	if c.s.cfg.Format != FormatText {
		sep = 2
	}
	add := c.lineCost(line) + sep*(1+src.blanks)
	if h.cost+add > c.groupMax(src) {
		return false
	}
	n := len(h.msg)
	for range 1 + src.blanks {
		h.msg = append(h.msg, '\n')
	}
	h.msg = append(h.msg, line...)
	c.heldBytes += len(h.msg) - n
	h.cost += add
	h.last = max(h.last, ts)
	src.blanks = 0
	return true
}

// lineCost is what line adds to its event's size once formatted.
func (c *cutter) lineCost(line []byte) int {
	if c.s.cfg.Format == FormatText {
		return len(line)
	}
	return escapedLen(string(line))
}

// groupMax is the largest message of a group of src that fits one event.
func (c *cutter) groupMax(src *source) int {
	return c.s.f.max - src.preLen - src.sufLen
}

// closeGroup ends the open group of src, if any: it may leave now. The
// blank lines held after it were its last lines: they are dropped, as
// blank lines are.
func (c *cutter) closeGroup(src *source) {
	if h := src.group; h != nil {
		h.open = false
		src.group = nil
		c.empty += src.blanks
	}
	src.blanks = 0
	src.state = tsNone
}

// drain emits the held events from the first while they are closed. It
// reports false when the request is full.
func (c *cutter) drain(b *body) bool {
	for len(c.held) > 0 && !c.held[0].open {
		h := c.held[0]
		if !c.emit(b, h.src, h.ts, h.seq, h.msg) {
			return false
		}
		c.heldBytes -= len(h.msg)
		c.held[0] = nil
		c.held = c.held[1:]
		if cap(h.msg) <= 64<<10 && len(c.spareHeld) < maxSpareHeld {
			c.spareHeld = append(c.spareHeld, h) // a long trace's memory goes back
		}
	}
	if len(c.held) == 0 {
		c.held = c.held[:0]
	}
	return true
}

// endHeld is called when the input is read: groups whose wait is over,
// and those a Flush or Close waits for, end. It reports false when the
// request is full.
func (c *cutter) endHeld(b *body, now time.Time) bool {
	if len(c.held) == 0 {
		return true
	}
	ms := now.UnixMilli()
	for _, h := range c.held {
		if h.open && (ms >= h.last+c.s.grp.wait || h.seq < c.flushTo) {
			c.closeGroup(h.src)
		}
	}
	return c.drain(b)
}

// heldUntil is when the first open group's wait ends (zero: none is held).
func (c *cutter) heldUntil() time.Time {
	var t time.Time
	for _, h := range c.held {
		if h.open {
			if d := time.UnixMilli(h.last + c.s.grp.wait); t.IsZero() || d.Before(t) {
				t = d
			}
		}
	}
	return t
}

// heldMem is the memory of the held events.
func (c *cutter) heldMem() int {
	n := 0
	for _, h := range c.held {
		n += cap(h.msg)
	}
	for _, h := range c.spareHeld {
		n += cap(h.msg)
	}
	return n
}

// loseHeld counts the held events as lost, at Close.
func (c *cutter) loseHeld(d *dropCount) {
	for _, h := range c.held {
		d.add(1, len(h.msg), h.ts)
		if h.src.group == h {
			h.src.group = nil
		}
	}
	c.held, c.heldBytes = nil, 0
}
