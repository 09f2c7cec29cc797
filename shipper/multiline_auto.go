package shipper

import "bytes"

// The auto matcher of multiline grouping: hand-written byte checks, no
// regular expression (the init links this package, and compiling
// expressions costs a VM's boot), in two parts. opens says whether a line
// starts a stack trace, and which kind; continues says whether a line
// continues the trace open in its source, given how far it has got. A line
// continues a trace only while one is open: indented output that follows
// no recognised first line (YAML, pretty JSON) is never joined.
//
// The shapes come from traces captured from the runtimes themselves, in
// testdata/traces (see gen.sh there); README's section on grouping lists
// them in words.

// traceState is how far a source's open trace has got.
type traceState uint8

const (
	tsNone        traceState = iota
	tsStack                  // Java, JS, Ruby, C#: after the exception line, frames follow
	tsStackProps             // JS: inside the "{ ... }" of an error's own properties
	tsPython                 // after "Traceback (most recent call last):": indented frames
	tsPythonEnd              // after the exception line: only a chained traceback continues
	tsPythonChain            // after "During handling ...": a blank, then Traceback
	tsPyGroup                // after "+ Exception Group Traceback": indented lines
	tsGo                     // after panic:, fatal error:, goroutine N [...]: (frames' files are tab-indented)
	tsNodeSource             // after node's "/path/file.js:LINE": the source line
	tsNodeCaret              // after the source line: the caret line
	tsNodeError              // after the caret: the error thrown, then its frames
)

// Literal lines and prefixes of the runtimes.
var (
	pyTraceback = []byte("Traceback (most recent call last):")
	pyDuring    = []byte("During handling of the above exception, another exception occurred:")
	pyCause     = []byte("The above exception was the direct cause of the following exception:")
	pyGroup     = []byte("+ Exception Group Traceback (most recent call last):")
	pyFile      = []byte(`File "`)
	pyFileLine  = []byte(`", line `)
	goPanic     = []byte("panic: ")
	goFatal     = []byte("fatal error: ")
	goRoutine   = []byte("goroutine ")
	goSignal    = []byte("[signal ")
	goCreated   = []byte("created by ")
	goElided    = []byte("...additional frames elided...")
	goRtStack   = []byte("runtime stack:")
	javaThread  = []byte(`Exception in thread "`)
	causedBy    = []byte("Caused by: ")
	suppressed  = []byte("Suppressed: ")
	frameAt     = []byte("at ")
	frameFrom   = []byte("from ") // Ruby
	ellipsis    = []byte("... ")  // Java's "... 2 more", node's "... 4 lines matching ..."
	nodeVersion = []byte("Node.js v")
	nodeUse     = []byte("(Use `node ")
	fileURL     = []byte("file:///")
	nodeScheme  = []byte("node:")
	rubyIn      = []byte(":in ")
)

// opens reports whether line, with no trace open in its source, starts
// one, and the state it leaves. The common line fails on its first byte or
// its first word.
func opens(line []byte) (traceState, bool) {
	if len(line) == 0 {
		return tsNone, false
	}
	switch c := line[0]; {
	case c == ' ':
		// Python: a SyntaxError's `  File "x.py", line 1` (no Traceback
		// line before it), an exception group's header.
		t := bytes.TrimLeft(line, " ")
		if bytes.HasPrefix(t, pyFile) && bytes.Contains(t, pyFileLine) {
			return tsPython, true
		}
		if bytes.HasPrefix(t, pyGroup) {
			return tsPyGroup, true
		}
		return tsNone, false
	case c == 'T' && bytes.HasPrefix(line, pyTraceback):
		return tsPython, true
	case c == 'p' && bytes.HasPrefix(line, goPanic),
		c == 'f' && bytes.HasPrefix(line, goFatal),
		c == 'g' && goroutineHeader(line):
		return tsGo, true
	case c == 'E' && bytes.HasPrefix(line, javaThread):
		return tsStack, true
	case c == '/' || c == 'f' && bytes.HasPrefix(line, fileURL) || c == 'n' && bytes.HasPrefix(line, nodeScheme):
		if nodeSourceHeader(line) {
			return tsNodeSource, true
		}
	}
	if !isIdentStart(line[0]) && line[0] != '/' && line[0] != '.' {
		return tsNone, false
	}
	// The first word: an exception's class (java.lang.IllegalStateException:,
	// TypeError:, AssertionError [ERR_ASSERTION]:), or Ruby's
	// "app.rb:2:in 'Object#foo': boom (RuntimeError)".
	i := 0
	ident := true
	for i < len(line) {
		c := line[i]
		if c == ':' || c == ' ' || c == '\t' || c == '[' {
			break
		}
		if !isIdentStart(c) && !isDigit(c) && c != '.' {
			ident = false
		}
		i++
	}
	word, rest := line[:i], line[i:]
	if ident && exceptionClass(word) && (len(rest) == 0 || rest[0] == ':' || bytes.HasPrefix(rest, []byte(" ["))) {
		return tsStack, true
	}
	if len(rest) > 1 && rest[0] == ':' && isDigit(rest[1]) {
		j := 1
		for j < len(rest) && isDigit(rest[j]) {
			j++
		}
		if bytes.HasPrefix(rest[j:], rubyIn) {
			return tsStack, true
		}
	}
	return tsNone, false
}

// continues reports whether line continues a trace in state st, and the
// state after it. Blank lines are handled by the caller (held until a
// line shows whether the trace goes on).
func continues(st traceState, line []byte) (traceState, bool) {
	indented := line[0] == ' ' || line[0] == '\t'
	switch st {
	case tsStack:
		if indented {
			t := bytes.TrimLeft(line, " \t")
			switch {
			case bytes.HasPrefix(t, frameAt):
				if bytes.HasSuffix(line, []byte(" {")) {
					return tsStackProps, true // node: the error's own properties follow
				}
				return tsStack, true
			case bytes.HasPrefix(t, ellipsis), bytes.HasPrefix(t, causedBy), bytes.HasPrefix(t, suppressed),
				bytes.HasPrefix(t, frameFrom):
				return tsStack, true
			}
			return tsNone, false
		}
		if bytes.HasPrefix(line, causedBy) || bytes.HasPrefix(line, nodeVersion) || bytes.HasPrefix(line, nodeUse) {
			return tsStack, true
		}
	case tsStackProps:
		if indented {
			return tsStackProps, true
		}
		if line[0] == '}' {
			return tsStack, true
		}
	case tsPython:
		if indented {
			return tsPython, true
		}
		return tsPythonEnd, true // the exception line
	case tsPythonEnd:
		if bytes.Equal(line, pyDuring) || bytes.Equal(line, pyCause) {
			return tsPythonChain, true
		}
	case tsPythonChain:
		if bytes.HasPrefix(line, pyTraceback) {
			return tsPython, true
		}
		if bytes.HasPrefix(bytes.TrimLeft(line, " "), pyGroup) {
			return tsPyGroup, true
		}
	case tsPyGroup:
		if indented {
			return tsPyGroup, true
		}
	case tsGo:
		switch {
		case line[0] == '\t', bytes.HasPrefix(line, goSignal), bytes.HasPrefix(line, goCreated),
			bytes.HasPrefix(line, goElided), bytes.HasPrefix(line, goRtStack), goroutineHeader(line), goFrame(line):
			return tsGo, true
		}
	case tsNodeSource:
		return tsNodeCaret, true // the line of source the error was thrown at
	case tsNodeCaret:
		if bytes.IndexByte(line, '^') >= 0 && len(bytes.Trim(line, " \t^")) == 0 {
			return tsNodeError, true
		}
	case tsNodeError:
		return tsStack, true // what was thrown; its frames follow
	}
	return tsNone, false
}

// goroutineHeader: "goroutine 1 [running]:".
func goroutineHeader(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, goRoutine)
	if !ok || len(rest) == 0 || !isDigit(rest[0]) {
		return false
	}
	for len(rest) > 0 && isDigit(rest[0]) {
		rest = rest[1:]
	}
	return bytes.HasPrefix(rest, []byte(" [")) && bytes.HasSuffix(rest, []byte("]:"))
}

// goFrame: a Go traceback's function line, "main.(*server).add(...)",
// "panic({0x45e760?, 0x4ae5a8?})": no space before its first parenthesis,
// and a closing one at the end.
func goFrame(line []byte) bool {
	i := bytes.IndexByte(line, '(')
	return i > 0 && line[len(line)-1] == ')' && bytes.IndexByte(line[:i], ' ') < 0
}

// nodeSourceHeader: node's "/tmp/app.js:3" (or file:///..., node:internal/...:288)
// before the source line of an uncaught error: a path and a line number,
// nothing else.
func nodeSourceHeader(line []byte) bool {
	i := bytes.LastIndexByte(line, ':')
	if i <= 0 || i == len(line)-1 || bytes.IndexByte(line, ' ') >= 0 {
		return false
	}
	for _, c := range line[i+1:] {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

// exceptionClass: a class name ending in Exception, Error or Throwable
// (java.lang.IllegalStateException, TypeError, KeyError).
func exceptionClass(w []byte) bool {
	return bytes.HasSuffix(w, []byte("Exception")) || bytes.HasSuffix(w, []byte("Error")) || bytes.HasSuffix(w, []byte("Throwable"))
}

func isIdentStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '$'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
