package insights

import (
	"context"
	"strings"
	"testing"
	"time"
)

// FuzzParse: any text either compiles or gives a CompileError inside the
// query's bounds, never a panic or a hang; what compiles also runs over
// the corpus without either.
func FuzzParse(f *testing.F) {
	seeds := []string{
		`fields @timestamp, @message | sort @timestamp desc | limit 20`,
		`filter @message like /ERROR/ | stats count(*) by bin(1m)`,
		`stats avg(latency), pct(latency, 99) by service, bin(1m)`,
		`parse @message "* user=* *" as a, user, b | stats count(*) by user`,
		`parse @message /(?<user>\w+)/ | dedup user | display user`,
		`filter a in [1, "x"] and not b =~ /y/ or c != 2 | fields a * 2 ^ 3 % 4 as z`,
		`stats count(*) as n by a | stats sum(n) by bin(1d)`,
		"fields `odd name`, concat(a, 'b') # comment\n| limit 1",
		`filter isIpInSubnet(ip, "10.0.0.0/8") | fields datefloor(@timestamp, 1mo)`,
		`fields substr(@message, 1500, 9223372036854774784)`, // once a panic that killed the server
		`fields bin(4611686018427387904y)`,                   // once 0 months: a division by zero
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		start := time.Now()
		query, err := Parse(q)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("Parse took %v", d)
		}
		// Differential: a leading newline changes nothing but the place
		// of an error, one byte and one line further.
		if ce, ok := err.(*CompileError); strings.TrimSpace(q) != "" && (!ok || !strings.HasPrefix(ce.Message, "the query is empty")) {
			_, err2 := Parse("\n" + q)
			ce1, _ := err.(*CompileError)
			ce2, _ := err2.(*CompileError)
			switch {
			case (err == nil) != (err2 == nil):
				t.Fatalf("Parse(%q) = %v but with a leading newline %v", q, err, err2)
			case ce1 != nil && (ce2 == nil || ce2.Start != ce1.Start+1 || ce2.Line != ce1.Line+1 || ce2.Message != ce1.Message):
				t.Fatalf("Parse(%q) = %+v but with a leading newline %+v", q, ce1, ce2)
			}
		}
		if err != nil {
			ce, ok := err.(*CompileError)
			if !ok {
				t.Fatalf("Parse(%q) = %T %v", q, err, err)
			}
			if ce.Start < 0 || ce.End < ce.Start || ce.End > len(q) || ce.Line < 1 || ce.Message == "" {
				t.Fatalf("Parse(%q): bad location %+v", q, ce)
			}
			_ = ce.Mark()
			return
		}
		e := query.NewExec(100)
		e.Run(context.Background(), func(yield func(*Event) bool) error {
			for i := range corpus {
				if !yield(&corpus[i]) {
					break
				}
			}
			return nil
		})
		e.Results()
	})
}
