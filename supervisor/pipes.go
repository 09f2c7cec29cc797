package supervisor

import (
	"bytes"
	"errors"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/keelvm/keel/internal/piperead"
)

const (
	// DefaultMaxLine bounds a line; a longer one is emitted in pieces of at
	// most this many bytes (the shipper splits further to its event limit).
	DefaultMaxLine = 256 << 10
	minMaxLine     = 64
)

// lineSplitter cuts a byte stream into lines of at most len(buf) bytes. It
// keeps its state between calls so that reading can resume after a panic.
type lineSplitter struct {
	buf  []byte
	n    int  // bytes held in buf
	cont bool // the last emission was a piece of a line still going on
	emit func(string)
}

func newLineSplitter(max int, emit func(string)) *lineSplitter {
	return &lineSplitter{buf: make([]byte, max), emit: emit}
}

// scan emits every complete line held, and a piece when the buffer is full.
func (l *lineSplitter) scan() {
	start := 0
	for {
		i := bytes.IndexByte(l.buf[start:l.n], '\n')
		if i < 0 {
			break
		}
		// A newline right after a piece ends that line: no empty line.
		if !(l.cont && i == 0) {
			l.emit(string(trimCR(l.buf[start : start+i])))
		}
		l.cont = false
		start += i + 1
	}
	if start > 0 {
		l.n = copy(l.buf, l.buf[start:l.n])
	}
	if l.n == len(l.buf) {
		cut := runeCut(l.buf)
		l.emit(string(l.buf[:cut]))
		l.cont = true
		l.n = copy(l.buf, l.buf[cut:l.n])
	}
}

// flush emits a partial last line.
func (l *lineSplitter) flush() {
	if l.n > 0 {
		l.emit(string(trimCR(l.buf[:l.n])))
		l.n = 0
		l.cont = true
	}
}

// write splits b, a chunk of the stream, into lines.
func (l *lineSplitter) write(b []byte) {
	for len(b) > 0 {
		n := copy(l.buf[l.n:], b)
		l.n += n
		b = b[n:]
		l.scan() // leaves room: a full buffer is emitted as a piece
	}
}

func trimCR(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		return b[:len(b)-1]
	}
	return b
}

// runeCut is where to cut a full buffer so that a UTF-8 sequence is not
// split between two pieces (the bytes after the cut start the next piece).
func runeCut(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if i > 0 && !utf8.FullRune(b[i:]) {
				return i
			}
			break
		}
	}
	return len(b)
}

// readPipe reads one of the app's pipes to the end, emitting each line. It
// never waits on anything but the pipe (the sink does not block), and a
// panic (in the splitter or the sink) does not stop it: reading resumes, and
// after repeated panics the rest is discarded rather than left unread, which
// would make the app wait forever.
func (s *Supervisor) readPipe(r *piperead.Reader, level, source string, wg *sync.WaitGroup) {
	defer wg.Done()
	defer s.untrackPipe(r)
	defer r.Close()
	sp := newLineSplitter(s.opt.MaxLine, func(msg string) {
		s.emit(Event{Time: time.Now(), Level: level, Source: source, Message: msg})
	})
	const maxPanics = 3
	for attempt := 1; ; attempt++ {
		var rerr error
		perr := protect("reading the app's "+source, func() { rerr = r.Run(sp.write) })
		if perr == nil {
			if rerr != nil {
				s.report(errors.Join(errors.New("supervisor: reading the app's "+source), rerr))
			}
			break
		}
		s.report(perr)
		if attempt == maxPanics {
			_ = protect("discarding the app's "+source, func() { _ = r.Run(func([]byte) {}) })
			return
		}
	}
	if perr := protect("flushing the app's "+source, sp.flush); perr != nil {
		s.report(perr)
	}
}
