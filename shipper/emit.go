package shipper

import (
	"unicode/utf8"
	"unsafe"
)

// Turning one line into events in the request: the service's time window,
// the drop marker owed, UTF-8 repair, redaction, the format, and the split
// of a line too long for one event.

// marker adds the drop marker owed, at timestamp ts.
func (c *cutter) marker(b *body, ts int64) bool {
	text := c.s.markerMessage(c.pend)
	start := b.open(ts)
	b.buf = appendEscaped(b.buf, text)
	if !b.close(start, ts, len(text), 0) {
		return false
	}
	c.pend = dropCount{}
	return true
}

// emit adds the event for one line (or message) to the request, after
// the drop marker owed. It reports false, having added nothing of the line
// (or only some of its parts), when the request is full.
func (c *cutter) emit(b *body, src *source, ts int64, seq uint64, line []byte) bool {
	if len(c.parts) > 0 {
		// The rest of a split line goes as it began, whatever the
		// window did meanwhile: its parts belong to this line only.
		return c.emitParts(b, ts, seq)
	}
	if len(line) == 0 {
		c.empty++
		return true
	}
	if ts < c.window[0] || ts > c.window[1] {
		c.accepted++
		c.rejected++
		return true
	}
	if (c.pend.n > 0 || c.pend.bytes > 0) && !c.marker(b, ts) {
		return false
	}
	msg := unsafe.String(unsafe.SliceData(line), len(line))
	if !utf8.ValidString(msg) {
		c.fixed = fixUTF8(c.fixed[:0], msg)
		msg = unsafe.String(unsafe.SliceData(c.fixed), len(c.fixed))
	}
	pem := src.pem
	msg = c.s.cfg.Redactor.Redact(msg, &src.pem)
	f := &c.s.f
	start := b.open(ts)
	size := -1
	switch {
	case f.format == FormatText:
		if len(msg) <= f.max {
			b.buf = appendEscaped(b.buf, msg)
			size = len(msg)
		}
	case isJSONObject(msg):
		if m := f.object(src.level, msg); len(m) <= f.max {
			b.buf = appendEscaped(b.buf, m)
			size = len(m)
		}
	default:
		fixed := src.preLen + src.sufLen
		if fixed+len(msg) <= f.max && (fixed+6*len(msg) <= f.max || fixed+escapedLen(msg) <= f.max) {
			b.buf = append(b.buf, src.pre...)
			var once int
			b.buf, once = appendEscaped2(b.buf, msg)
			b.buf = append(b.buf, src.suf...)
			size = fixed + once
		}
	}
	if size < 0 {
		// Too long for one event: marked parts, which may span requests.
		b.cancel(start)
		c.parts = f.split(c.parts[:0], src.level, src.name, msg)
		c.partsAt = 0
		return c.emitParts(b, ts, seq)
	}
	if !b.close(start, ts, size, seq) {
		src.pem = pem // the line is redacted again next time
		return false
	}
	c.accepted++
	return true
}

// emitParts adds the parts of a split line not yet in a request.
func (c *cutter) emitParts(b *body, ts int64, seq uint64) bool {
	for ; c.partsAt < len(c.parts); c.partsAt++ {
		p := c.parts[c.partsAt]
		start := b.open(ts)
		b.buf = appendEscaped(b.buf, p)
		if !b.close(start, ts, len(p), seq) {
			return false
		}
		c.accepted++
		if c.partsAt > 0 {
			c.split++
		}
	}
	clear(c.parts)
	c.parts = c.parts[:0]
	return true
}
