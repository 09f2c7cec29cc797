package iampolicy

import "strings"

// Decision is the outcome of evaluating a request against a document.
type Decision int

// The outcomes, as IAM names them.
const (
	ImplicitDeny Decision = iota // no statement matched
	Allowed                      // an Allow matched and no Deny did
	ExplicitDeny                 // a Deny matched
)

func (d Decision) String() string {
	switch d {
	case Allowed:
		return "allowed"
	case ExplicitDeny:
		return "explicitly denied"
	}
	return "implicitly denied"
}

// Evaluate decides whether d allows action (for example
// "logs:PutLogEvents") on resource (an ARN).
func (d Document) Evaluate(action, resource string) Decision {
	out := ImplicitDeny
	for _, s := range d.Statement {
		if !s.matches(action, resource) {
			continue
		}
		if s.Effect == Deny {
			return ExplicitDeny
		}
		if s.Effect == Allow {
			out = Allowed
		}
	}
	return out
}

// Allows reports whether d allows action on resource.
func (d Document) Allows(action, resource string) bool {
	return d.Evaluate(action, resource) == Allowed
}

func (s Statement) matches(action, resource string) bool {
	am := false
	for _, a := range s.Action {
		if Match(strings.ToLower(a), strings.ToLower(action)) {
			am = true
			break
		}
	}
	if !am {
		return false
	}
	for _, r := range s.Resource {
		if Match(r, resource) {
			return true
		}
	}
	return false
}

// Match reports whether s matches pattern, in which `*` stands for any run
// of characters (`:` and `/` included, as in IAM) and `?` for any one.
// It runs in O(len(pattern)*len(s)) at worst, without recursion.
func Match(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
