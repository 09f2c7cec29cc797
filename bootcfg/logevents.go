package bootcfg

import (
	"errors"
	"fmt"
	"regexp"
)

// MaxEvent is CloudWatch Logs' largest event since April 2025: 1 MiB
// counting the 26 bytes the service adds to each event's message.
const MaxEvent = 1_048_576 - 26

// CheckEventMax checks an event size limit (logs.event_max): 256 bytes
// (room for a part's marker) to MaxEvent.
func CheckEventMax(n int) error {
	if n < 256 || n > MaxEvent {
		return fmt.Errorf("%d bytes: want 256 to %d (CloudWatch Logs' event limit)", n, MaxEvent)
	}
	return nil
}

// CheckMultiline checks a grouping rule (logs.multiline): auto, off, or a
// regular expression that matches the first line of an event and not an
// empty line (which would make every line a first line). Only an
// expression is compiled: init pays nothing for auto.
func CheckMultiline(v string) error {
	switch v {
	case "", "auto", "off":
		return nil
	}
	re, err := regexp.Compile(v)
	if err != nil {
		return fmt.Errorf("not auto, off or a valid regular expression matching the first line of an event: %w", err)
	}
	if re.MatchString("") {
		return errors.New("the expression matches an empty line, so it matches every line: write one that matches only the first line of an event, such as ^\\d{4}-\\d{2}-\\d{2}")
	}
	return nil
}
