package supervisor

import (
	"bytes"
	"errors"
	"io"
	"os"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

const (
	// DefaultMaxLine bounds a line; a longer one is emitted in pieces of at
	// most this many bytes (the shipper splits further to its event limit).
	DefaultMaxLine = 256 << 10
	minMaxLine     = 64

	// pipeSize is asked of the kernel for each pipe (F_SETPIPE_SZ): a
	// larger pipe absorbs a burst while the reader goroutine is not running.
	pipeSize = 1 << 20
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

// readFrom reads f until EOF or until its read deadline passes; then it
// takes what the pipe already holds without waiting.
func (l *lineSplitter) readFrom(f *os.File) error {
	for {
		m, err := f.Read(l.buf[l.n:])
		l.n += m
		l.scan()
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			return l.takeBuffered(f)
		case errors.Is(err, io.EOF):
			return nil
		default:
			return err
		}
	}
}

// takeBuffered reads what is in the pipe now, without waiting (the pipe is
// non-blocking; RawConn.Control bypasses the expired deadline).
func (l *lineSplitter) takeBuffered(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	cerr := rc.Control(func(fd uintptr) {
		// Bounded: writers may still be writing as fast as we read.
		for range 4 * pipeSize / minMaxLine {
			m, err := unix.Read(int(fd), l.buf[l.n:])
			if m <= 0 || err != nil {
				return
			}
			l.n += m
			l.scan()
		}
	})
	return cerr
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

// growPipe asks for a bigger pipe buffer; failing that, the default 64 KiB
// serves.
func growPipe(f *os.File) {
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			_, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, pipeSize)
		})
	}
}

// readPipe reads one of the app's pipes to the end, emitting each line. It
// never waits on anything but the pipe (the sink does not block), and a
// panic (in the splitter or the sink) does not stop it: reading resumes, and
// after repeated panics the rest is discarded rather than left unread, which
// would make the app wait forever.
func (s *Supervisor) readPipe(f *os.File, level, source string, wg *sync.WaitGroup) {
	defer wg.Done()
	defer s.untrackPipe(f)
	defer f.Close()
	sp := newLineSplitter(s.opt.MaxLine, func(msg string) {
		s.emit(Event{Time: time.Now(), Level: level, Source: source, Message: msg})
	})
	const maxPanics = 3
	for attempt := 1; ; attempt++ {
		var rerr error
		perr := protect("reading the app's "+source, func() { rerr = sp.readFrom(f) })
		if perr == nil {
			if rerr != nil {
				s.report(errors.Join(errors.New("supervisor: reading the app's "+source), rerr))
			}
			break
		}
		s.report(perr)
		if attempt == maxPanics {
			_ = protect("discarding the app's "+source, func() { _, _ = io.Copy(io.Discard, f) })
			return
		}
	}
	if perr := protect("flushing the app's "+source, sp.flush); perr != nil {
		s.report(perr)
	}
}
