package shipper

// Stats are the shipper's counters since New. Every accepted event ends in
// exactly one of Sent, Dropped, Rejected and Lost, or is still Buffered.
// Lines read from a Pipe are counted as events when the batcher splits
// them (or when they are dropped or lost): until then they are
// BufferedBytes.
type Stats struct {
	Accepted      int   // events queued by Log (parts of split lines count each)
	Sent          int   // events acknowledged by the service
	Requests      int   // PutLogEvents requests made
	Retried       int   // requests that failed and were retried
	Throttled     int   // requests answered ThrottlingException (PutLogEvents, CreateLogStream, CreateLogGroup)
	Dropped       int   // oldest unsent events dropped at the memory bound
	DroppedBytes  int64 // their message bytes
	Rejected      int   // events refused: outside the time window, or invalid
	Lost          int   // events not delivered when Close ended, or logged after it
	LostBytes     int64 // their message bytes, as far as known
	Parts         int   // extra events made by splitting oversized lines
	Empty         int   // empty lines, which the service does not accept
	Joined        int   // lines joined to the event of the line they continue (stack traces)
	Markers       int   // drop marker events sent
	Buffered      int   // events in requests in flight now
	BufferedBytes int   // input not yet in a request (lines not yet split into events)
}

// Stats returns a snapshot of the counters.
func (s *Shipper) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Buffered = s.inflightEvs
	st.BufferedBytes = s.queued + s.claimedUnread
	return st
}
