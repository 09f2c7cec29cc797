package shipper

// Pipe takes a byte stream, such as a process's stdout, whose lines become
// events of one level and source. Writing copies the bytes into the
// shipper's buffer and returns: the lines are split, redacted and
// formatted later by the batcher, so that a reader of a pipe (see
// internal/piperead) drains it as fast as `cat` would and the writer at the
// other end never waits for its logs. A line without its newline is held until the newline, Close, or
// 1 MiB of it arrives. A Pipe is for one goroutine at a time.
type Pipe struct {
	s   *Shipper
	src uint16
}

// Pipe returns a new Pipe whose lines become events of level (INFO when
// empty) and source.
func (s *Shipper) Pipe(level, source string) *Pipe {
	if level == "" {
		level = "INFO"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return &Pipe{s: s, src: s.addSource(level, source)}
}

// Write queues p and returns len(p): it never blocks and never fails. Its
// lines carry the time of the Write.
func (p *Pipe) Write(b []byte) (int, error) {
	p.s.write(p.src, b)
	return len(b), nil
}

// Close ends the stream: a last line without a newline becomes an event.
func (p *Pipe) Close() error {
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil // the unfinished line, if any, is counted lost by Close
	}
	src := s.srcs[p.src]
	wasEmpty := s.idle()
	r := record{ts: s.cfg.Now().UnixMilli(), seq: s.nextSeq, srcN: src.n, src: p.src, kind: recEOF}
	s.nextSeq++
	src.n++
	s.appendRecord(&r)
	s.appended(wasEmpty, r.size(), 1)
	return nil
}

// minPiece is the smallest piece of a write worth a record of its own in
// the room left at the end of a block; less room and a new block begins.
const minPiece = 4096

// write copies p into the buffer as chunk records, one per block it
// spans, all stamped with the time of the write.
func (s *Shipper) write(src uint16, p []byte) {
	if len(p) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.srcs[src]
	if s.closing {
		// After Close, nothing is delivered: the lines are lost, and said so.
		r := record{kind: recChunk, data: p}
		if st.open {
			r.flags = recCont
		}
		n, _ := countRecord(&r)
		s.stats.Lost += n
		st.open = p[len(p)-1] != '\n'
		return
	}
	wasEmpty := s.idle()
	ts := s.cfg.Now().UnixMilli()
	added, recs := 0, 0
	for len(p) > 0 {
		s.makeRoom(recHeader + min(len(p), minPiece))
		b := s.in.writable(recHeader + min(len(p), minPiece))
		n := min(len(p), b.room()-recHeader)
		r := record{ts: ts, seq: s.nextSeq, srcN: st.n, src: src, kind: recChunk, data: p[:n]}
		if st.open {
			r.flags = recCont
		}
		s.nextSeq++
		st.n++
		st.open = p[n-1] != '\n'
		b.buf = putRecord(b.buf, &r)
		b.recs++
		s.queued += r.size()
		s.queuedRecs++
		added += r.size()
		recs++
		p = p[n:]
	}
	s.appended(wasEmpty, added, recs)
}
