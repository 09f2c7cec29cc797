package main

import (
	"flag"
	"fmt"
	"strconv"

	"github.com/keelvm/keel/logserver"
)

// logserverQuotas are the quota flags of 'keel logserver'.
type logserverQuotas struct {
	mode     *string
	rates    []string
	sessions *int
}

func quotaFlags(fs *flag.FlagSet) *logserverQuotas {
	q := &logserverQuotas{}
	q.mode = fs.String("quotas", "on", "per-account request quotas, as CloudWatch Logs enforces them (ThrottlingException \"Rate exceeded\"): on or off; see docs/quotas.md")
	fs.Func("quota", "set one operation's quota, `OPERATION=RATE` in requests per second, 0 to 1000000 (0 lifts it), for example PutLogEvents=500; repeatable", func(s string) error {
		if _, _, err := logserver.ParseQuota(s); err != nil {
			return err
		}
		q.rates = append(q.rates, s)
		return nil
	})
	q.sessions = fs.Int("livetail.sessions", 15, "live tail sessions open at once (the service's quota is 15)")
	return q
}

func (q *logserverQuotas) quotas() (logserver.Quotas, error) {
	if *q.mode != "on" && *q.mode != "off" {
		return logserver.Quotas{}, fmt.Errorf("-quotas=%q: use on (the service's quotas) or off", *q.mode)
	}
	if *q.sessions < 1 {
		return logserver.Quotas{}, fmt.Errorf("-livetail.sessions=%d: allow at least 1", *q.sessions)
	}
	out := logserver.Quotas{Off: *q.mode == "off", Rates: map[string]float64{}}
	for _, s := range q.rates {
		op, r, _ := logserver.ParseQuota(s) // checked by the flag
		out.Rates[op] = r
	}
	return out, nil
}

// args repeats the flags for a server started with -daemon.
func (q *logserverQuotas) args() []string {
	a := []string{"-quotas", *q.mode, "-livetail.sessions", strconv.Itoa(*q.sessions)}
	for _, s := range q.rates {
		a = append(a, "-quota", s)
	}
	return a
}
