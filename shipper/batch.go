package shipper

import (
	"slices"
	"time"
)

// cut builds one PutLogEvents request from the front of q, which is in
// arrival order: the longest prefix that fits every rule of the service
// (at most maxBatchEvents events, at most maxBytes (<= 1 MiB) counting 26 bytes per
// event, a span of less than 24 hours), with room left for reserve events of
// reserveBytes. Events outside the service's window (older than 14 days,
// more than 2 hours ahead of now) are not sent: they are appended to rej.
// It returns the batch sorted by timestamp (stable, so that events of one
// millisecond keep their order) and n, the number of events of q consumed.
func cut(q []entry, now time.Time, maxBytes, reserve, reserveBytes int, batch, rej []entry) (b []entry, n int, r []entry) {
	oldest := now.Add(-maxAge).UnixMilli()
	newest := now.Add(maxFuture).UnixMilli()
	span := maxSpan.Milliseconds()
	bytes := reserveBytes
	var lo, hi int64
	for n < len(q) {
		e := &q[n]
		if e.ts < oldest || e.ts > newest {
			rej = append(rej, *e)
			n++
			continue
		}
		if len(batch)+reserve >= maxBatchEvents || bytes+e.size() > maxBatchBytes ||
			bytes+e.size() > maxBytes && len(batch) > 0 { // the soft limit never stops the first event
			break
		}
		if len(batch) == 0 {
			lo, hi = e.ts, e.ts
		} else if nlo, nhi := min(lo, e.ts), max(hi, e.ts); nhi-nlo >= span {
			break // a clock step or a late event: the next batch starts from it
		} else {
			lo, hi = nlo, nhi
		}
		batch = append(batch, *e)
		bytes += e.size()
		n++
	}
	slices.SortStableFunc(batch, func(a, b entry) int {
		switch {
		case a.ts < b.ts:
			return -1
		case a.ts > b.ts:
			return 1
		}
		return 0
	})
	return batch, n, rej
}
