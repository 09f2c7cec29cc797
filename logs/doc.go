// Package logs reads and follows CloudWatch Logs for `keel logs`: a time
// range of history through FilterLogEvents, then live events through
// StartLiveTail, or, where an endpoint has no live tail, through
// FilterLogEvents polling. It guarantees that no event is shown twice or
// skipped across pages, the switch from history to live, and reconnects.
//
// It talks to any CloudWatch Logs endpoint through aws-sdk-go-v2; it knows
// nothing of how keel names groups and streams (cmd/keel maps apps to
// them) and nothing of terminals (Formatter renders what it delivers).
package logs
