package logserver

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Quotas are the service's per-account request quotas, which the server
// enforces as CloudWatch Logs does: at most the published rate of each
// operation in any one-second window (a quiet account may send a second's
// worth at once; see windowLimiter), and a request over it is answered 400
// ThrottlingException "Rate exceeded" before anything is done. The zero value is the service's defaults
// (docs/quotas.md); the server has one account, so every key shares them.
type Quotas struct {
	// Off disables request quotas (the concurrent live tail sessions stay
	// bounded by Config.MaxLiveTails: each session holds memory).
	Off bool
	// Rates overrides the default rate of an operation, in requests per
	// second; a rate <= 0 lifts that operation's quota.
	Rates map[string]float64
}

// DefaultQuotas returns the published per-account rates of the operations
// the server limits, in requests per second, for region: FilterLogEvents
// and GetLogEvents have 25 in us-east-1 and 10 elsewhere.
func DefaultQuotas(region string) map[string]float64 {
	read := 10.0
	if region == "" || region == "us-east-1" {
		read = 25
	}
	return map[string]float64{
		"PutLogEvents":       5000,
		"CreateLogStream":    50,
		"DescribeLogStreams": 25,
		"FilterLogEvents":    read,
		"GetLogEvents":       read,
		"StartQuery":         10,
		"StartLiveTail":      5,
	}
}

// ParseQuota reads one "Operation=rate" setting (a -quota flag).
func ParseQuota(s string) (op string, perSecond float64, err error) {
	op, v, ok := strings.Cut(s, "=")
	op = strings.TrimSpace(op)
	if !ok || op == "" {
		return "", 0, fmt.Errorf("quota %q: write OPERATION=REQUESTS_PER_SECOND, for example PutLogEvents=500", s)
	}
	if !quotaOps[op] {
		return "", 0, fmt.Errorf("quota %q: %q is not a CloudWatch Logs operation the server serves (%s)", s, op, strings.Join(sortedKeys(quotaOps), ", "))
	}
	perSecond, err = strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(perSecond) || math.IsInf(perSecond, 0) {
		return "", 0, fmt.Errorf("quota %q: %q is not a number of requests per second (0 lifts the quota)", s, v)
	}
	if perSecond < 0 || perSecond > MaxQuota {
		return "", 0, fmt.Errorf("quota %q: give a rate from 0 to %d requests per second (0 lifts the quota)", s, MaxQuota)
	}
	return op, perSecond, nil
}

// MaxQuota bounds a -quota rate: the limiter keeps one slot per request
// a second, so a rate of 1e10 would allocate 80 GB at start.
const MaxQuota = 1_000_000

// quotaOps are the operations a quota may be set on: the server's, and
// the Logs Insights ones.
var quotaOps = map[string]bool{
	"CreateLogGroup": true, "DeleteLogGroup": true, "DescribeLogGroups": true, "CreateLogStream": true,
	"DeleteLogStream": true, "DescribeLogStreams": true, "PutLogEvents": true, "GetLogEvents": true,
	"FilterLogEvents": true, "PutRetentionPolicy": true, "DeleteRetentionPolicy": true, "TagLogGroup": true,
	"UntagLogGroup": true, "ListTagsLogGroup": true, "TagResource": true, "UntagResource": true,
	"ListTagsForResource": true, "StartLiveTail": true, "StartQuery": true, "GetQueryResults": true,
	"StopQuery": true, "DescribeQueries": true,
}

func sortedKeys(m map[string]bool) []string {
	k := make([]string, 0, len(m))
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

// quotaSet holds the limiters; nil limits nothing.
type quotaSet map[string]*windowLimiter

func newQuotaSet(q Quotas, region string) quotaSet {
	if q.Off {
		return nil
	}
	rates := DefaultQuotas(region)
	for op, r := range q.Rates {
		rates[op] = r
	}
	qs := quotaSet{}
	for op, r := range rates {
		if r <= 0 {
			continue
		}
		// A rate set in code skips ParseQuota's range: the window's
		// memory grows with the rate, so it is held to the same bound.
		qs[op] = newWindowLimiter(min(r, MaxQuota))
	}
	return qs
}

// throttle takes a token for op, or returns the service's answer when
// there is none. Operations without a quota pass.
func (qs quotaSet) throttle(op string) *apiError {
	if l := qs[op]; l != nil && !l.allow() {
		return errThrottling()
	}
	return nil
}

// errThrottling is the service's answer to a request over its quota,
// word for word (docs/cloudwatch-logs.md): the SDKs and the CLI retry it.
func errThrottling() *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "ThrottlingException", Message: "Rate exceeded"}
}

// describe lists the quotas in force, for the start-up log.
func (qs quotaSet) describe() string {
	if qs == nil {
		return "off"
	}
	parts := make([]string, 0, len(qs))
	for op, l := range qs {
		parts = append(parts, fmt.Sprintf("%s=%g/s", op, l.perSec))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// overQuota applies the quota of op to a request already authenticated
// (the service throttles an account, which an unsigned request has not
// named) and not yet run.
func (s *Server) overQuota(r *http.Request, op string) *apiError {
	if !strings.HasPrefix(r.Header.Get("X-Amz-Target"), targetPrefix) {
		return nil // not an operation: UnknownOperationException follows
	}
	return s.quotas.throttle(op)
}
