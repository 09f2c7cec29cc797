// Package shipper delivers log lines to CloudWatch Logs from inside a process
// without ever making that process wait.
//
// Its job: take events (time, level, source, message) through a Log call that
// never blocks, or raw byte streams through a Pipe whose lines become events,
// format them (json, compatible with the Boxfuse agent, or text), redact
// secrets, and deliver them to one log group and stream in
// batches that obey every PutLogEvents rule (event count, byte size with 26
// bytes per event, invalid UTF-8 sized as the service sizes it, timestamp
// order, 24-hour span, the 14-day/2-hour window, event size). Batches go out
// when full or after a short linger, several at once per stream, and are
// retried as a unit with capped exponential backoff and jitter until they are
// acknowledged. The service orders a stream's events by timestamp alone, so
// a request that shares a millisecond with an earlier one still in flight
// waits for it (lines of one millisecond, a stack trace, keep their order),
// and requests end where a millisecond does when they can. Memory is bounded in bytes: when the bound is reached the
// oldest unsent events are dropped, counted, and announced in the stream by a
// marker event once delivery resumes. Flush is a barrier: it returns when
// every event logged before it is acknowledged or reported lost.
//
// How: Log and Pipe writes only copy into a buffer of recycled blocks (a
// record per event or per chunk read); one batcher goroutine splits lines,
// redacts, formats and writes each request's JSON body directly, which goes
// out through the SDK (signing, credentials, errors) without the SDK's own
// serializer. See blocks.go, cut.go, body.go and wire.go.
//
// Boundaries: the package does not open pipes, run processes or load AWS
// configuration; its caller (keel ship, the init's supervisor) builds the
// CloudWatch Logs client and passes it in as an API, so that this package
// links only the service client and the SDK core. It ships to exactly one
// stream per Shipper. Redaction patterns live in package shipper/redact.
package shipper
