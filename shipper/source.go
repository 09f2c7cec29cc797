package shipper

// source is where events come from: a level and a source name (the
// "level" and "source" of json events), either interned for Log or one per
// Pipe. Records name their source by index, so that a record's header
// stays small and the json envelope around a line is escaped once per
// source instead of once per event.
type source struct {
	level, name string

	// Input side, under Shipper.mu.
	open       bool   // the last chunk appended left a line open
	n          uint32 // chunk and EOF records appended
	eofDropped bool   // the EOF record went with a dropped block
	eofSeq     uint64 // its seq

	// Batcher side.
	next     uint32 // srcN of the record expected next: another means a gap
	carry    []byte // the start of a line whose end has not been read yet
	carryTS  int64
	skipping bool       // the line under way lost its start to a drop: skip to its end
	pem      bool       // inside a multi-line PEM private key
	group    *heldEvent // the group held for more lines (multiline.go); nil: none
	state    traceState // how far the open group's stack trace has got
	blanks   int        // blank lines after the open group, joined if it goes on
	goesOn   int64      // state is that of a group that went early: it goes on until this ms
	pre, suf []byte     // the json envelope before and after a line, escaped for the body
	preLen   int        // len of the envelope's text, before that escaping
	sufLen   int
}

type srcKey struct{ level, name string }

// maxLogSources bounds the sources Log interns; beyond it the source name is
// left out of the events (never seen in practice: sources are a handful).
const maxLogSources = 1024

// logSource returns the index of the source of Log events of level and
// name, adding it on first use. Called with mu held.
func (s *Shipper) logSource(level, name string) uint16 {
	if i, ok := s.srcIndex[srcKey{level, name}]; ok {
		return i
	}
	if len(s.srcIndex) >= maxLogSources {
		name = ""
		if i, ok := s.srcIndex[srcKey{level, name}]; ok {
			return i
		}
	}
	i := s.addSource(level, name)
	s.srcIndex[srcKey{level, name}] = i
	return i
}

// maxSources is what a record's source index can name. A Shipper that
// outlives more Pipes than that shares the last source among the newest
// ones (their unfinished lines may then join): a limit no user reaches.
const maxSources = 1<<16 - 1

// addSource adds a source. Called with mu held.
func (s *Shipper) addSource(level, name string) uint16 {
	if len(s.srcs) >= maxSources {
		return uint16(len(s.srcs) - 1)
	}
	src := &source{level: level, name: name}
	if s.cfg.Format == FormatJSON {
		pre := s.f.envelope(nil, level, name, "", "")
		// The envelope of an empty message ends with `"message":"","source":...}`:
		// the line goes between the quotes.
		cut := len(s.f.envelope(nil, level, "", "", "")) - 2 // at the closing quote, before `"}` of the sourceless form
		head, tail := pre[:cut], pre[cut:]                   // `{..."message":"` and `","source":...}`
		src.preLen, src.sufLen = len(head), len(tail)
		src.pre = appendEscaped(nil, string(head))
		src.suf = appendEscaped(nil, string(tail))
	}
	s.srcs = append(s.srcs, src)
	return uint16(len(s.srcs) - 1)
}
