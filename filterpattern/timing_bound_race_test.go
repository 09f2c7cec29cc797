//go:build race

package filterpattern

import "time"

// The race detector instruments every memory access, regexp and
// encoding/json included, and slows them several-fold (regexp about 15x),
// so the bounds are wider than in the plain build, which keeps tight ones.
const (
	raceEnabled      = true
	timingBound      = 1500 * time.Millisecond
	regexTimingBound = 4 * time.Second
)
