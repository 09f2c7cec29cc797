package insights

import "regexp"

// expr is a compiled expression: evaluated against one row.
type expr interface {
	eval(r *Row) Value
}

// named is an expression with the name its result goes by: the alias given
// with `as`, else the expression's text as written.
type named struct {
	name string
	x    expr
}

type (
	fieldRef struct{ name string }
	lit      struct{ v Value }
	neg      struct{ x expr }
	notX     struct{ x expr }
	arith    struct {
		op   byte // + - * / % ^
		l, r expr
	}
	cmpX struct {
		op   string // = != < <= > >=
		l, r expr
	}
	andX   struct{ l, r expr }
	orX    struct{ l, r expr }
	inList struct {
		x     expr
		items []expr
		not   bool
	}
	// likeX is `x like "text"` (substring), `x like /re/` or `x =~ /re/`.
	likeX struct {
		x   expr
		sub string         // substring test when re is nil
		re  *regexp.Regexp // regex test
		lit []byte         // the regex is this literal substring: tested with bytes.Contains
		not bool
	}
	callX struct {
		name string
		args []expr
		fn   func(args []Value) Value
	}
	// aggRef is the value of a stats aggregate, by slot.
	aggRef struct{ slot int }
	// durLit is a duration such as 5m, for bin, datefloor and dateceil.
	durLit struct {
		ms     int64 // fixed-length units
		months int64 // calendar units (mo, q, y), when ms is 0
		text   string
	}
	// regexLit is a regular expression given as a function's argument.
	regexLit struct{ re *regexp.Regexp }
)

// command is one stage of a query.
type command interface{ cmdName() string }

type fieldsCmd struct {
	items   []named
	display bool // display: only names, chooses the output columns
}

type filterCmd struct{ cond expr }

type aggSpec struct {
	fn   string // count, count_distinct, sum, avg, min, max, pct, stddev, earliest, latest, sortsFirst, sortsLast
	arg  expr   // nil for count(*)
	pct  float64
	slot int
}

type statsCmd struct {
	aggs []*aggSpec
	outs []named // expressions over aggRefs
	by   []named
}

type sortKey struct {
	x    expr
	desc bool
}

type sortCmd struct{ keys []sortKey }

type limitCmd struct{ n int }

type parseCmd struct {
	src   expr
	glob  []string // literal pieces between the *s: len(names)+1 of them
	re    *regexp.Regexp
	names []string
}

type dedupCmd struct{ keys []named }

type unmaskCmd struct{}

func (*fieldsCmd) cmdName() string {
	return "fields"
}
func (*filterCmd) cmdName() string { return "filter" }
func (*statsCmd) cmdName() string  { return "stats" }
func (*sortCmd) cmdName() string   { return "sort" }
func (*limitCmd) cmdName() string  { return "limit" }
func (*parseCmd) cmdName() string  { return "parse" }
func (*dedupCmd) cmdName() string  { return "dedup" }
func (*unmaskCmd) cmdName() string { return "unmask" }
