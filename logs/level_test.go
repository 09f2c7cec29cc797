package logs

import "testing"

// TestKeepLevel: -level keeps events at or above it. The most severe
// levels of common loggers (zap's panic and dpanic, syslog's crit, alert
// and emerg) are kept at -level ERROR, and a level keel does not know is
// kept rather than silently hidden.
func TestKeepLevel(t *testing.T) {
	cases := []struct {
		level, msg string
		keep       bool
	}{
		{"ERROR", `{"level":"ERROR","message":"x"}`, true},
		{"ERROR", `{"level":"info","message":"x"}`, false},
		{"ERROR", `plain text`, false},
		{"ERROR", `{"level":"fatal","message":"x"}`, true},
		{"ERROR", `{"level":"panic","message":"x"}`, true},
		{"ERROR", `{"level":"dpanic","message":"x"}`, true},
		{"ERROR", `{"level":"crit","message":"x"}`, true},
		{"ERROR", `{"level":"emerg","message":"x"}`, true},
		{"ERROR", `{"level":"alert","message":"x"}`, true},
		{"ERROR", `{"level":"err","message":"x"}`, true},
		{"ERROR", `{"level":"severe","message":"x"}`, true},
		{"WARN", `{"level":"warning","message":"x"}`, true},
		{"WARN", `{"level":"debug","message":"x"}`, false},
		{"ERROR", `{"level":"something-new","message":"x"}`, true},
	}
	for _, tc := range cases {
		f := &Formatter{Level: tc.level}
		if got := f.Keep(Event{Message: tc.msg}); got != tc.keep {
			t.Errorf("-level %s, %s: kept %v, want %v", tc.level, tc.msg, got, tc.keep)
		}
	}
}
