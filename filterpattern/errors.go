package filterpattern

// SyntaxError reports a pattern that Compile rejected. Every error returned
// by Compile is a *SyntaxError, so callers can use errors.As to reach the
// column for highlighting.
type SyntaxError struct {
	Pattern string // the pattern exactly as given to Compile
	Column  int    // 1-based position, in characters, of the offending spot
	Msg     string // complete human-readable description; it names the column itself
}

// Error returns the message with a fixed prefix so that it reads well when
// passed straight through to an API error, e.g.
// "invalid filter pattern: unexpected ')' at column 14".
func (e *SyntaxError) Error() string { return "invalid filter pattern: " + e.Msg }
