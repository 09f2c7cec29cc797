package logs

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// TestQueryEnded: a query's end other than Complete says what happened
// and, since GetQueryResults carries no reason, where the reason is.
func TestQueryEnded(t *testing.T) {
	for _, tc := range []struct {
		status types.QueryStatus
		want   []string
	}{
		{types.QueryStatusFailed, []string{"query q1 ended with status Failed", "keel logserver, its log", "query_id=q1"}},
		{types.QueryStatusTimeout, []string{"status Timeout", "narrow the time range"}},
		{types.QueryStatusCancelled, []string{"status Cancelled", "StopQuery"}},
		{types.QueryStatusUnknown, []string{"status Unknown", "query_id=q1"}},
	} {
		msg := queryEnded(tc.status, "q1").Error()
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("queryEnded(%s) = %q, want %q in it", tc.status, msg, w)
			}
		}
	}
}
