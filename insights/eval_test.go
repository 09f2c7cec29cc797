package insights

import (
	"context"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
)

// corpus is a fixed set of events over two groups and three streams, JSON
// and plain lines alike. Timestamps are minutes apart from t0.
const t0 = int64(1_700_000_000_000) // 2023-11-14 22:13:20 UTC

var corpus = []Event{
	{Timestamp: t0, Group: "keel/prod", Stream: "api/1", StreamID: 1, Seq: 0, Message: []byte(`{"level":"INFO","service":"api","latency":"12","user":"u1","requestId":"r1","http":{"status":200,"path":"/a"},"tags":["x","y"]}`)},
	{Timestamp: t0 + 60_000, Group: "keel/prod", Stream: "api/1", StreamID: 1, Seq: 1, Message: []byte(`{"level":"ERROR","service":"api","latency":300,"user":"u2","requestId":"r2","http":{"status":500,"path":"/b"}}`)},
	{Timestamp: t0 + 61_000, Group: "keel/prod", Stream: "api/2", StreamID: 2, Seq: 0, Message: []byte(`{"level":"INFO","service":"api","latency":8,"user":"u1","requestId":"r3","http":{"status":200,"path":"/a"}}`)},
	{Timestamp: t0 + 120_000, Group: "keel/prod", Stream: "db/1", StreamID: 3, Seq: 0, Message: []byte(`{"level":"WARN","service":"db","latency":50.5,"user":"u1","requestId":"r1"}`)},
	{Timestamp: t0 + 180_000, Group: "keel/dev", Stream: "web/1", StreamID: 4, Seq: 0, Message: []byte(`ERROR user=u3 took 7ms path=/c`)},
	{Timestamp: t0 + 181_000, Group: "keel/dev", Stream: "web/1", StreamID: 4, Seq: 1, Message: []byte(`INFO user=u1 took 3ms path=/a`)},
	{Timestamp: t0 + 240_000, Group: "keel/dev", Stream: "web/1", StreamID: 4, Seq: 2, Message: []byte(`not json {"level":"ERROR"}`)},
}

func run(t *testing.T, q string, limit int) [][]Field {
	t.Helper()
	query, err := Parse(q)
	if err != nil {
		t.Fatalf("Parse(%q): %v", q, err)
	}
	e := query.NewExec(limit)
	err = e.Run(context.Background(), func(yield func(*Event) bool) error {
		for i := range corpus {
			ev := corpus[i]
			ev.Message = append([]byte(nil), ev.Message...) // the engine must copy what it keeps
			if !yield(&ev) {
				return nil
			}
			clear(ev.Message)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("run %q: %v", q, err)
	}
	return e.Results()
}

// render shows rows compactly: fields joined by ' ', rows by '; ', @ptr left out.
func render(rows [][]Field) string {
	var out []string
	for _, r := range rows {
		var fs []string
		for _, f := range r {
			if f.Field == "@ptr" {
				continue
			}
			fs = append(fs, f.Field+"="+f.Value)
		}
		out = append(out, strings.Join(fs, " "))
	}
	return strings.Join(out, "; ")
}

func TestEvalCorpus(t *testing.T) {
	tests := []struct{ q, want string }{
		// Default order: newest first; default columns.
		{`filter ispresent(requestId) | fields requestId | limit 2`, "requestId=r1; requestId=r3"},
		// A row without the field shows only @ptr.
		{`fields requestId | limit 2`, "; "},
		{`fields @timestamp, user | limit 3`, "@timestamp=2023-11-14 22:17:20.000; @timestamp=2023-11-14 22:16:21.000; @timestamp=2023-11-14 22:16:20.000"},
		{`filter user = "u2" | fields service, latency`, "service=api latency=300"},
		// A numeric string compares as a number.
		{`filter latency > 10 | sort latency | fields latency`, "latency=12; latency=50.5; latency=300"},
		{`filter latency < 10 | fields latency`, "latency=8"},
		{`filter latency in [8, 12] | sort latency desc | fields latency`, "latency=12; latency=8"},
		{`filter latency not in [8, 12] and ispresent(latency) | sort latency | fields latency`, "latency=50.5; latency=300"},
		// Nested JSON and arrays.
		{`filter http.status = 500 | fields http.path`, "http.path=/b"},
		{`filter tags.1 = "y" | fields tags.0`, "tags.0=x"},
		// like and regexes, on JSON and plain lines.
		{`filter @message like /ERROR/ | stats count(*)`, "count(*)=3"},
		{`filter @message like "user=u" | stats count(*) as n`, "n=2"},
		{`filter @message =~ /took \d+ms/ | sort @timestamp asc | fields @logStream`, "@logStream=web/1; @logStream=web/1"},
		{`filter @message not like /json/ and @log = "keel/dev" | stats count(*)`, "count(*)=2"},
		// parse: glob and named groups.
		{`parse @message "* user=* took *ms *" as lvl, user2, ms, rest | filter ispresent(ms) | sort ms | display user2, ms`, "user2=u1 ms=3; user2=u3 ms=7"},
		{`parse @message /user=(?<who>\w+) took (?<ms>\d+)/ | filter ms > 5 | fields who`, "who=u3 ms=7"},
		// stats: several by, bin, aggregates skipping missing fields.
		{`stats count(*) by service`, "service=api count(*)=3; service=db count(*)=1; count(*)=3"},
		{`filter ispresent(service) | stats count(*) as n, sum(latency) as s, avg(latency) as a, min(latency) as lo, max(latency) as hi by service`,
			"service=api n=3 s=320 a=106.66666666666667 lo=8 hi=300; service=db n=1 s=50.5 a=50.5 lo=50.5 hi=50.5"},
		{`stats count(latency), count(*), count_distinct(user) as users`, "count(latency)=4 count(*)=7 users=2"},
		{`filter ispresent(service) | stats count(*) by bin(1m)`, "bin(1m)=2023-11-14 22:13:00.000 count(*)=1; bin(1m)=2023-11-14 22:14:00.000 count(*)=2; bin(1m)=2023-11-14 22:15:00.000 count(*)=1"},
		{`stats count(*) by service, level | filter service = "api"`, "service=api level=ERROR count(*)=1; service=api level=INFO count(*)=2"},
		{`stats pct(latency, 50) as p50, pct(latency, 100) as p100, stddev(latency) as sd by service | filter service = "db"`, "service=db p50=50.5 p100=50.5 sd=0"},
		{`stats earliest(requestId) as first, latest(requestId) as last, sortsFirst(user) as sf, sortsLast(user) as sl`, "first=r1 last=r1 sf=u1 sl=u2"},
		// A second stats over the first.
		{`filter ispresent(user) | stats count(*) as n by user, service | stats count(*) as services, sum(n) as total by user`, "user=u1 services=2 total=3; user=u2 services=1 total=1"},
		{`stats count(*) as n by @logStream | sort n desc | limit 1`, "@logStream=web/1 n=3"},
		// Expressions in stats.
		{`filter ispresent(latency) | stats sum(latency) / count(*) as mean`, "mean=92.625"},
		// dedup, display, functions.
		{`filter ispresent(user) | dedup user | sort user | fields user`, "user=u1; user=u2"},
		{`filter requestId = "r2" | fields toupper(service) as S, strlen(user) as L, concat(service, "-", user) as C, substr(requestId, 1) as R`, "S=API L=2 C=api-u2 R=2"},
		{`filter requestId = "r2" | fields replace(http.path, "/", "#") as p, strcontains(service, "pi") as c, trim("  a ") as t, ltrim(" a") as l, rtrim("a ") as r`, "p=#b c=1 t=a l=a r=a"},
		{`filter requestId = "r2" | fields abs(-2) as a, ceil(1.2) as c, floor(1.8) as f, greatest(1, latency, 3) as g, least(5, latency) as l, pow(2, 10) as p, sqrt(16) as s, log(1) as ln`, "a=2 c=2 f=1 g=300 l=5 p=1024 s=4 ln=0"},
		{`filter requestId = "r2" | fields latency * 2 + 1 as x, latency % 7 as m, -latency as n, 2 ^ 3 as e, latency / 0 as z`, "x=601 m=6 n=-300 e=8"},
		{`filter requestId = "r2" | fields datefloor(@timestamp, 1h) as f, dateceil(@timestamp, 1d) as c, bin(1mo) as mo, toMillis(@timestamp) as ms, fromMillis(0) as z`, "f=2023-11-14 22:00:00.000 c=2023-11-15 00:00:00.000 mo=2023-11-01 00:00:00.000 ms=1700000060000 z=1970-01-01 00:00:00.000"},
		{`filter requestId = "r1" and service = "api" | fields isValidIp("10.1.2.3") as v, isValidIp("10.1.2") as bad, isIpInSubnet("10.1.2.3", "10.1.0.0/16") as in, isIpInSubnet("10.2.0.1", "10.1.0.0/16") as out`, "v=1 bad=0 in=1 out=0"},
		{`filter requestId = "r1" and service = "api" | fields isempty(nosuch) as e, isblank(" ") as b, ispresent(nosuch) as p`, "e=1 b=1 p=0"},
		{`unmask | filter service = "db" | fields service`, "service=db"},
		{`filter level = "ERROR" or user = "u3" | stats count(*)`, "count(*)=1"},
		{`filter not ispresent(level) | stats count(*)`, "count(*)=3"},
		{`filter nosuch > 1 | stats count(*)`, "count(*)=0"},
		{"# a comment\nfilter service = \"db\" # another\n| fields service", "service=db"},
		{"fields `http.status` as s | filter s = 500", "s=500"},
	}
	for _, tt := range tests {
		if got := render(run(t, tt.q, 0)); got != tt.want {
			t.Errorf("%s\n got  %s\n want %s", tt.q, got, tt.want)
		}
	}
}

func TestDefaultColumnsAndPtr(t *testing.T) {
	rows := run(t, `filter @logStream = "db/1"`, 0)
	if len(rows) != 1 {
		t.Fatalf("rows %v", rows)
	}
	var names []string
	for _, f := range rows[0] {
		names = append(names, f.Field)
	}
	if got := strings.Join(names, ","); got != "@timestamp,@message,@logStream,@log,@ptr" {
		t.Fatalf("columns %s", got)
	}
	g, id, seq, ts, err := DecodePtr(rows[0][4].Value)
	if err != nil || g != "keel/prod" || id != 3 || seq != 0 || ts != t0+120_000 {
		t.Fatalf("ptr: %s %d %d %d %v", g, id, seq, ts, err)
	}
	// Aggregate rows carry no @ptr.
	for _, f := range run(t, `stats count(*)`, 0)[0] {
		if f.Field == "@ptr" {
			t.Fatal("stats row with @ptr")
		}
	}
}

func TestLimits(t *testing.T) {
	if n := len(run(t, `fields @message`, 2)); n != 2 {
		t.Fatalf("request limit 2: %d rows", n)
	}
	if n := len(run(t, `fields @message | limit 3`, 0)); n != 3 {
		t.Fatalf("limit 3: %d rows", n)
	}
	if n := len(run(t, `fields @message | limit 3`, 1)); n != 1 {
		t.Fatalf("limit 3, request 1: %d rows", n)
	}
	// Newest first without a sort, limit included.
	if got := render(run(t, `limit 1 | fields @logStream`, 0)); got != "@logStream=web/1" {
		t.Fatalf("limit 1: %s", got)
	}
}

func TestStatsMatched(t *testing.T) {
	q, _ := Parse(`filter @message like /ERROR/ | stats count(*) by bin(1m)`)
	e := q.NewExec(0)
	e.Run(context.Background(), func(yield func(*Event) bool) error {
		for i := range corpus {
			yield(&corpus[i])
		}
		return nil
	})
	st := e.Stats()
	if st.RecordsScanned != 7 || st.RecordsMatched != 3 || st.BytesScanned == 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestPctSketch(t *testing.T) {
	a := &pctAgg{p: 99}
	for i := 1; i <= 1_000_000; i++ {
		a.add(num(float64(i)), nil)
	}
	got, _ := a.result().number()
	if got < 990000*0.99 || got > 990000*1.01 {
		t.Fatalf("pct 99 of 1..1e6 = %v, want within 1%% of 990000", got)
	}
	if n := len(a.sketch.pos); n > 2000 {
		t.Fatalf("sketch holds %d buckets", n)
	}
	b := &pctAgg{p: 50}
	for _, v := range []float64{5, 1, 3, 2, 4} {
		b.add(num(v), nil)
	}
	if got := b.result().String(); got != "3" {
		t.Fatalf("exact p50 = %s", got)
	}
}

func TestNaturalSort(t *testing.T) {
	// The order of the service's documentation example.
	want := []string{"!:", "#", "*%04", "0#", "5A", "111A", "2345_", "@", "@_", "A", "A9876fghj", "a12345hfh", "0", "01", "1", "2", "3"}
	for i := 0; i+1 < len(want); i++ {
		if c := naturalCompare(str(want[i]), str(want[i+1])); c > 0 {
			t.Errorf("%q sorts after %q", want[i], want[i+1])
		}
	}
}

// TestPartialResults: while a query runs, Results shows what it has so
// far, and the final answer once the events end.
func TestPartialResults(t *testing.T) {
	q, _ := Parse(`stats count(*) as n`)
	e := q.NewExec(0)
	half, resume := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- e.Run(context.Background(), func(yield func(*Event) bool) error {
			ev := corpus[0]
			for i := 0; i < 2*feedBatch; i++ {
				if i == feedBatch {
					close(half)
					<-resume
				}
				yield(&ev)
			}
			return nil
		})
	}()
	<-half
	// Run releases its lock every feedBatch events: Results gets in.
	if got := render(e.Results()); got != fmt.Sprintf("n=%d", feedBatch) {
		t.Errorf("partial: %s", got)
	}
	close(resume)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := render(e.Results()); got != fmt.Sprintf("n=%d", 2*feedBatch) {
		t.Errorf("final: %s", got)
	}
}

func TestSelectK(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for n := 1; n < 200; n++ {
		s := make([]float64, n)
		for i := range s {
			s[i] = float64(rng.Intn(20))
		}
		sorted := append([]float64(nil), s...)
		sort.Float64s(sorted)
		for k := 0; k < n; k++ {
			c := append([]float64(nil), s...)
			if got := selectK(c, k); got != sorted[k] {
				t.Fatalf("n=%d k=%d: %v, want %v", n, k, got, sorted[k])
			}
		}
	}
}
