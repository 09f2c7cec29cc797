// Package store is the durable storage engine of keel's local CloudWatch Logs
// server: log groups, log streams and their events, on local disk.
//
// Layout under the data directory:
//
//	meta.log                     checksummed journal of group/stream metadata
//	                             (create, delete, retention, tags), compacted on open
//	streams/<streamID>/<base>.seg  append-only event segments of one stream; <base> is
//	                             the sequence number of the segment's first event
//	streams/<streamID>/<base>.idx  index of a sealed segment (rebuilt if missing)
//
// Each PutLogEvents batch becomes one record: length, CRC-32C, then the events.
// Concurrent appends to one stream share one write and one fsync (group commit);
// an Append returns only after its record is on disk. On open, a torn or corrupt
// tail of the active segment is cut. Reads locate records through an in-memory
// index of (minTimestamp, maxTimestamp) per record and per block of records, so a
// time-range read never scans a whole stream.
//
// The store knows nothing about HTTP, JSON or AWS error texts: it returns the
// sentinel errors below and the API layer (package logserver) maps them.
package store

import (
	"errors"
	"time"
)

// Sentinel errors; test with errors.Is.
var (
	ErrGroupExists     = errors.New("log group already exists")
	ErrGroupNotFound   = errors.New("log group does not exist")
	ErrStreamExists    = errors.New("log stream already exists")
	ErrStreamNotFound  = errors.New("log stream does not exist")
	ErrClosed          = errors.New("store is closed")
	ErrInvalidPosition = errors.New("position does not belong to this stream")
)

// Event is one log event as given to Append.
type Event struct {
	Timestamp int64 // milliseconds since the Unix epoch
	Message   string
}

// StoredEvent is an event as read back.
type StoredEvent struct {
	Timestamp     int64
	IngestionTime int64 // milliseconds since the Unix epoch, set by Append
	Message       string
	StreamID      uint64 // the stream's numeric id, stable for its life
	Seq           uint64 // per-stream sequence number, assigned in commit order
}

// Group describes a log group.
type Group struct {
	ID            uint64
	Name          string
	CreationTime  int64 // ms
	RetentionDays int   // 0 means never expire
	Tags          map[string]string
	StoredBytes   int64 // sum over its streams
}

// Stream describes a log stream.
type Stream struct {
	ID                  uint64
	Group               string
	Name                string
	CreationTime        int64 // ms
	FirstEventTimestamp int64 // 0 when the stream has no events
	LastEventTimestamp  int64 // 0 when the stream has no events
	LastIngestionTime   int64 // 0 when the stream has no events
	StoredBytes         int64 // bytes of its segment files on disk
}

// Range selects events by timestamp: Start inclusive, End exclusive. A zero
// End means no upper bound.
type Range struct {
	Start, End int64
}

// Position is a point in a stream's (Timestamp, Seq) order; reads resume
// strictly after (forward) or strictly before (backward) it.
type Position struct {
	Timestamp int64
	Seq       uint64
}

// ReadOptions controls Read.
type ReadOptions struct {
	Range    Range
	Backward bool      // newest first: the page holds the newest events before After
	After    *Position // exclusive resume point (in the direction of travel); nil = from the edge
	Limit    int       // max events; must be > 0
	MaxBytes int       // stop before the page would exceed this many message bytes (+26 per event); 0 = no limit
	// MinTimestamp hides events older than this (retention); 0 = none.
	MinTimestamp int64
	// Match, if set, keeps only the events whose message it accepts; they
	// count toward Limit and MaxBytes, the rest do not. The message aliases
	// a read buffer: Match must not retain it. It runs before any copy, so a
	// filter that rejects most events costs no allocation per event.
	Match func(msg []byte) bool
}

// Options configures Open.
type Options struct {
	// SegmentBytes is the size at which the active segment is sealed and a new
	// one started (default 64 MiB).
	SegmentBytes int64
	// SegmentAge seals a segment that has been active this long, so that
	// retention can delete whole files of low-volume streams (default 1h).
	SegmentAge time.Duration
	// Now is the clock (default time.Now); tests move it.
	Now func() time.Time
	// NoSync disables fsync. Only for tests that measure something else.
	NoSync bool
	// Logf reports what recovery did on the operator's behalf (default:
	// discarded).
	Logf func(format string, args ...any)

	// wrapFile, when set, wraps every file the store appends to (segments and
	// meta.log), so that tests can inject write, sync and truncate failures.
	wrapFile func(file) file
}
