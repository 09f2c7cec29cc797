// Package bootlog reads the kernel's log from /dev/kmsg from its first
// record on, so that a machine's boot can be diagnosed from its shipped
// logs even when it never came up. It turns each record into an event with
// wall-clock time, a level from the syslog priority, and reports records
// the kernel overwrote before they were read (sequence gaps).
//
// It reads and converts; shipping and the console are the caller's.
package bootlog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"syscall"
	"time"
)

// Record is one kernel log record.
type Record struct {
	Seq      uint64
	Priority int           // syslog priority 0 (emerg) to 7 (debug)
	Facility int           // 0 for the kernel
	Mono     time.Duration // since boot (CLOCK_MONOTONIC), as the kernel stamped it
	Time     time.Time     // wall clock, from Mono and the clock offset
	Message  string
}

// Level maps the priority to the levels keel's events use.
func (r Record) Level() string {
	switch {
	case r.Priority <= 3:
		return "ERROR"
	case r.Priority == 4:
		return "WARN"
	case r.Priority == 7:
		return "DEBUG"
	}
	return "INFO"
}

// Parse parses one /dev/kmsg record: "prio,seq,usec,flags;message", where
// prio holds facility<<3|level and continuation lines (" KEY=value")
// follow the message. bootTime is the wall-clock time of monotonic zero.
func Parse(b []byte, bootTime time.Time) (Record, error) {
	var r Record
	head, msg, ok := bytes.Cut(b, []byte{';'})
	if !ok {
		return r, fmt.Errorf("kmsg record without ';': %q", truncate(b))
	}
	fields := bytes.SplitN(head, []byte{','}, 4)
	if len(fields) < 3 {
		return r, fmt.Errorf("kmsg record header %q has fewer than 3 fields", head)
	}
	prio, err1 := strconv.Atoi(string(fields[0]))
	seq, err2 := strconv.ParseUint(string(fields[1]), 10, 64)
	usec, err3 := strconv.ParseInt(string(fields[2]), 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return r, fmt.Errorf("kmsg record header %q: %w", head, err)
	}
	if i := bytes.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i] // continuation lines carry device metadata
	}
	r = Record{Seq: seq, Priority: prio & 7, Facility: prio >> 3, Mono: time.Duration(usec) * time.Microsecond, Message: unescape(msg)}
	r.Time = bootTime.Add(r.Mono)
	return r, nil
}

// unescape undoes the kernel's \xNN escaping of non-printable bytes.
func unescape(b []byte) string {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+3 < len(b) && b[i+1] == 'x' {
			if v, err := strconv.ParseUint(string(b[i+2:i+4]), 16, 8); err == nil {
				out = append(out, byte(v))
				i += 3
				continue
			}
		}
		out = append(out, b[i])
	}
	return string(out)
}

func truncate(b []byte) []byte {
	if len(b) > 80 {
		return b[:80]
	}
	return b
}

// Reader reads records from /dev/kmsg (or anything that returns one record
// per Read, as /dev/kmsg does).
type Reader struct {
	r        io.Reader
	bootTime time.Time
	buf      []byte
	// next is the expected next seq. It starts at 0, the kernel's first
	// record: a fresh open of /dev/kmsg starts at the oldest record kept,
	// so a first record above 0 means the ring buffer wrapped before the
	// reader opened it, and the records before it are lost too.
	next uint64
	// Lost counts records overwritten before they could be read.
	Lost uint64
	// Malformed counts records skipped because they did not parse.
	Malformed uint64
}

// NewReader reads from r; bootTime is the wall-clock time of monotonic
// zero (see BootTime).
func NewReader(r io.Reader, bootTime time.Time) *Reader {
	return &Reader{r: r, bootTime: bootTime, buf: make([]byte, 8192)}
}

// Next returns the next record. gap is how many records were lost just
// before it (the kernel's ring buffer wrapped: EPIPE, or a jump in seq).
// Records that do not parse are skipped (Malformed); err is a read's.
func (kr *Reader) Next() (rec Record, gap uint64, err error) {
	for {
		n, err := kr.r.Read(kr.buf)
		if errors.Is(err, syscall.EPIPE) {
			continue // overwritten; the next read resumes, and seq shows the gap
		}
		if err != nil {
			return rec, 0, err
		}
		rec, err = Parse(kr.buf[:n], kr.bootTime)
		if err != nil {
			// One record the parser does not know must not end the
			// boot log: it is counted, and reading goes on.
			kr.Malformed++
			continue
		}
		if rec.Seq > kr.next {
			gap = rec.Seq - kr.next
			kr.Lost += gap
		}
		kr.next = rec.Seq + 1
		return rec, gap, nil
	}
}
