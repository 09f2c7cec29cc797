package supervisor

import "time"

// Levels and sources of the events the supervisor emits.
const (
	LevelInfo  = "INFO"
	LevelError = "ERROR"

	SourceStdout = "stdout" // a line the app wrote to standard output
	SourceStderr = "stderr" // a line the app wrote to standard error
	SourceKeel   = "keel"   // a lifecycle event of the supervisor itself
)

// Event is one line of app output or one lifecycle event. Its fields match
// the shipper's event, so a caller converts with a plain type conversion.
type Event struct {
	Time    time.Time
	Level   string // LevelInfo or LevelError
	Source  string // SourceStdout, SourceStderr or SourceKeel
	Message string
}

// Sink receives events. Log must not block: it is called from the goroutines
// that read the app's pipes, and a pipe that is not read makes the app wait.
// It must be safe for concurrent use.
type Sink interface {
	Log(Event)
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(Event)

// Log calls f(ev).
func (f SinkFunc) Log(ev Event) { f(ev) }
