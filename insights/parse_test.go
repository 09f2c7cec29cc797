package insights

import (
	"strings"
	"testing"
)

func TestParseCommands(t *testing.T) {
	tests := []struct {
		q    string
		cmds string // command names in order
		cols string // output columns
		agg  bool
	}{
		{`fields @timestamp, @message`, "fields", "@timestamp,@message", false},
		{`display @message`, "fields", "@message", false},
		{`filter a > 1`, "filter", "@timestamp,@message,@logStream,@log", false},
		{`stats count(*) by bin(5m)`, "stats", "bin(5m),count(*)", true},
		{`stats count(*) as n, avg(x) by a as A, b`, "stats", "A,b,n,avg(x)", true},
		{`sort @timestamp desc`, "sort", "@timestamp,@message,@logStream,@log", false},
		{`limit 5`, "limit", "@timestamp,@message,@logStream,@log", false},
		{`parse @message "* user=*" as a, user`, "parse", "a,user", false},
		{`parse /(?<x>\d+)/`, "parse", "x", false},
		{`dedup a, b`, "dedup", "@timestamp,@message,@logStream,@log", false},
		{`unmask(@message)`, "unmask", "@timestamp,@message,@logStream,@log", false},
		{`fields a | stats count(*) by a | fields a | display a`, "fields,stats,fields,fields", "a", true},
		{`stats count(*) as n by a | stats avg(n) as m`, "stats,stats", "m", true},
		{`FIELDS a | Filter a LIKE "x" | SORT a ASC`, "fields,filter,sort", "a", false},
	}
	for _, tt := range tests {
		q, err := Parse(tt.q)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.q, err)
			continue
		}
		var names []string
		for _, c := range q.cmds {
			names = append(names, c.cmdName())
		}
		e := q.NewExec(0)
		if got := strings.Join(names, ","); got != tt.cmds {
			t.Errorf("%q: commands %s, want %s", tt.q, got, tt.cmds)
		}
		if got := strings.Join(e.Columns(), ","); got != tt.cols {
			t.Errorf("%q: columns %s, want %s", tt.q, got, tt.cols)
		}
		if q.aggregate != tt.agg {
			t.Errorf("%q: aggregate %v", tt.q, q.aggregate)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		q                string
		start, end, line int
		msg              string
	}{
		{``, 0, 0, 1, "empty"},
		{`fieldz a`, 0, 6, 1, `"fieldz" is not a command`},
		{`fields a |`, 9, 10, 1, "expected a command after |"},
		{`fields a b`, 9, 10, 1, `expected "|" here, found "b"`},
		{`filter a = "x`, 11, 13, 1, "unterminated string"},
		{`filter a like /x`, 14, 16, 1, "unterminated regular expression"},
		{`filter a like /(/`, 14, 17, 1, "missing closing )"},
		{`stats avg(x) by`, 14, 15, 1, "query ends here"},
		{"fields a\n| stats count(*) by\n| limit 5", 29, 30, 3, `found "|"`},
		{`stats x`, 6, 7, 1, "must be inside an aggregate"},
		{`stats count(*) + 1 by a`, -1, -1, 1, ""},
		{`fields count(*)`, 7, 12, 1, "aggregate function: use it in stats"},
		{`stats sum(avg(x))`, 10, 13, 1, "cannot be inside another"},
		{`stats pct(x, 101)`, 13, 16, 1, "percentile from 0 to 100"},
		{`stats pct(x)`, 11, 12, 1, `expected ","`},
		{`limit 0`, 6, 7, 1, "whole number from 1 to 10000"},
		{`limit 10001`, 6, 11, 1, "whole number"},
		{`fields nosuch(a)`, 7, 13, 1, "not a function"},
		{`fields strlen(a, b)`, 7, 19, 1, "strlen takes 1 argument"},
		{`stats count(*) by bin(x)`, 18, 24, 1, "give a duration"},
		{`stats count(*) by bin(5parsecs)`, 22, 30, 1, "not a number or a duration"},
		{`parse @message "no star" as a`, 15, 24, 1, "at least one *"},
		{`parse @message "* *" as a`, 15, 25, 1, "2 *s but 1 names"},
		{`parse @message /(\d+)/`, 15, 22, 1, "names no group"},
		{`parse @message 5`, 15, 16, 1, "parse takes a pattern"},
		{`filter a like 5`, 14, 15, 1, "takes a string in quotes or a regular expression"},
		{`filter a not = 1`, 13, 14, 1, "expected like or in after not"},
		{`filter a in [1, 2`, 16, 17, 1, "query ends here"},
		{"filter a ~ 1", 9, 10, 1, "unexpected character"},
		{"fields `a", 7, 9, 1, "unterminated quoted name"},
		{`fields a as`, 10, 11, 1, "expected a name after as"},
		{`dedup a as b`, 8, 10, 1, "takes no alias"},
		{`filter and`, 7, 10, 1, "keyword"},
		{`stats count(*) by 2mo2`, 21, 22, 1, `expected "|" here`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.q)
		if tt.start == -1 {
			if err != nil {
				t.Errorf("Parse(%q): %v, want success", tt.q, err)
			}
			continue
		}
		ce, ok := err.(*CompileError)
		if !ok {
			t.Errorf("Parse(%q) = %v, want a CompileError", tt.q, err)
			continue
		}
		if ce.Start != tt.start || ce.End != tt.end || ce.Line != tt.line || !strings.Contains(ce.Message, tt.msg) {
			t.Errorf("Parse(%q) = %d-%d line %d %q, want %d-%d line %d containing %q", tt.q, ce.Start, ce.End, ce.Line, ce.Message, tt.start, tt.end, tt.line, tt.msg)
		}
	}
}

func TestCompileErrorMark(t *testing.T) {
	_, err := Parse("fields a\n| stats count(*) by\n| limit 5")
	got := err.(*CompileError).Mark()
	want := "| limit 5\n^\nexpected a value (a field, a number, a string or a function), found \"|\""
	if got != want {
		t.Fatalf("Mark:\n%s\nwant:\n%s", got, want)
	}
	_, err = Parse(`filter x = 1 and fieldz(y)`)
	if got := err.(*CompileError).Mark(); !strings.HasPrefix(got, "filter x = 1 and fieldz(y)\n                 ^^^^^^\n") {
		t.Fatalf("Mark:\n%s", got)
	}
}
