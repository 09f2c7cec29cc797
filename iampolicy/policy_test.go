package iampolicy

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything:at/all", true},
		{"", "", true},
		{"", "a", false},
		{"abc", "abc", true},
		{"abc", "abcd", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"arn:aws:logs:*:*:log-group:keel/prod:log-stream:alice/app/*", "arn:aws:logs:eu-west-1:123456789012:log-group:keel/prod:log-stream:alice/app/boot", true},
		{"arn:aws:logs:*:*:log-group:keel/prod:log-stream:alice/app/*", "arn:aws:logs:eu-west-1:123456789012:log-group:keel/prod:log-stream:alice/app", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"**", "x", true},
		{"*a", strings.Repeat("b", 10000), false}, // no exponential backtracking
	} {
		if got := Match(c.pattern, c.s); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

func TestShipOwnLogs(t *testing.T) {
	d := ShipOwnLogs("aws", "eu-west-1", "123456789012", "keel/prod", "alice/hello")
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
	own := StreamARN("aws", "eu-west-1", "123456789012", "keel/prod", "alice/hello")
	for _, c := range []struct {
		action, resource string
		want             Decision
	}{
		{"logs:PutLogEvents", own, Allowed},
		{"logs:putlogevents", own, Allowed}, // IAM compares actions without case
		{"logs:CreateLogStream", own + "/boot", Allowed},
		{"logs:PutLogEvents", own + "x", ImplicitDeny}, // another app's stream sharing the prefix
		{"logs:PutLogEvents", own[:len(own)-1], ImplicitDeny},
		{"logs:CreateLogGroup", own, ImplicitDeny},
		{"logs:GetLogEvents", own, ImplicitDeny},
		{"logs:StartQuery", own, ImplicitDeny},
		{"logs:PutLogEvents", StreamARN("aws", "eu-west-1", "123456789012", "keel/dev", "alice/hello"), ImplicitDeny},
		{"logs:PutLogEvents", StreamARN("aws", "us-east-1", "123456789012", "keel/prod", "alice/hello"), ImplicitDeny},
	} {
		if got := d.Evaluate(c.action, c.resource); got != c.want {
			t.Errorf("Evaluate(%s, %s) = %v, want %v", c.action, c.resource, got, c.want)
		}
	}
}

func TestDenyWins(t *testing.T) {
	d, err := Parse([]byte(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"logs:*","Resource":"*"},
		{"Effect":"Deny","Action":["logs:DeleteLogGroup"],"Resource":"arn:aws:logs:*:*:log-group:keel/prod*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Evaluate("logs:DeleteLogGroup", "arn:aws:logs:r:1:log-group:keel/prod:*"); got != ExplicitDeny {
		t.Errorf("got %v, want explicit deny", got)
	}
	if !d.Allows("logs:DeleteLogGroup", "arn:aws:logs:r:1:log-group:keel/dev:*") {
		t.Error("allow of another group: denied")
	}
}

func TestParseRefuses(t *testing.T) {
	for name, doc := range map[string]string{
		"not json":      `{`,
		"old version":   `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"logs:*","Resource":"*"}]}`,
		"no statements": `{"Version":"2012-10-17","Statement":[]}`,
		"bad effect":    `{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"logs:*","Resource":"*"}]}`,
		"condition":     `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:*","Resource":"*","Condition":{}}]}`,
		"notaction":     `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"logs:*","Resource":"*"}]}`,
		"no resource":   `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:*"}]}`,
		"bare action":   `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"PutLogEvents","Resource":"*"}]}`,
		"action number": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":5,"Resource":"*"}]}`,
	} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: Parse took it", name)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	d := ShipOwnLogs("aws", "us-east-1", "123456789012", "keel/prod", "u/a")
	back, err := Parse(d.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if !Equal(d, back) {
		t.Errorf("round trip changed the document:\n%s\n%s", d.Marshal(), back.Marshal())
	}
	// A single statement object, as IAM also accepts, reads the same.
	one, err := Parse([]byte(`{"Version":"2012-10-17","Statement":{"Sid":"ShipOwnLogs","Effect":"Allow","Action":["logs:createlogstream","logs:PutLogEvents"],"Resource":["` + d.Statement[0].Resource[0] + `","` + d.Statement[0].Resource[1] + `"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !Equal(d, one) {
		t.Error("single-statement form differs")
	}
}
