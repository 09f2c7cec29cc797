//go:build !race

package filterpattern

import "time"

// Go's regexp is linear (RE2) but spends time per byte in proportion to the
// live NFA threads, so regex cases get a slightly wider bound than the
// rest.
const (
	raceEnabled      = false
	timingBound      = 200 * time.Millisecond
	regexTimingBound = 300 * time.Millisecond
)
