package iampolicy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Version is the policy language version every document keel writes uses.
const Version = "2012-10-17"

// Effects of a statement.
const (
	Allow = "Allow"
	Deny  = "Deny"
)

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a Document.
type Statement struct {
	Sid      string  `json:"Sid,omitempty"`
	Effect   string  `json:"Effect"`
	Action   Strings `json:"Action"`
	Resource Strings `json:"Resource"`
}

// Strings is a policy element that IAM accepts either as one string or as a
// list of strings; it is always written as a list.
type Strings []string

// UnmarshalJSON takes a string or a list of strings.
func (s *Strings) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = Strings{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("want a string or a list of strings")
	}
	*s = many
	return nil
}

// Parse reads a policy document and checks that it uses only what this
// package evaluates.
func Parse(b []byte) (Document, error) {
	var raw struct {
		Version   string          `json:"Version"`
		Statement json.RawMessage `json:"Statement"`
		Extra     map[string]any  `json:"-"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return Document{}, fmt.Errorf("parse policy document: %w", err)
	}
	var stmts []json.RawMessage
	if t := bytes.TrimSpace(raw.Statement); len(t) > 0 && t[0] == '{' {
		stmts = []json.RawMessage{t}
	} else if err := json.Unmarshal(raw.Statement, &stmts); err != nil {
		return Document{}, fmt.Errorf("parse policy document: Statement: want an object or a list of objects")
	}
	d := Document{Version: raw.Version}
	for i, rs := range stmts {
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(rs, &keys); err != nil {
			return Document{}, fmt.Errorf("parse policy document: statement %d: %w", i, err)
		}
		for k := range keys {
			switch k {
			case "Sid", "Effect", "Action", "Resource":
			default:
				return Document{}, fmt.Errorf("parse policy document: statement %d: element %s is not supported (only Sid, Effect, Action, Resource)", i, k)
			}
		}
		var s Statement
		if err := json.Unmarshal(rs, &s); err != nil {
			return Document{}, fmt.Errorf("parse policy document: statement %d: %w", i, err)
		}
		d.Statement = append(d.Statement, s)
	}
	if err := d.Check(); err != nil {
		return Document{}, err
	}
	return d, nil
}

// Check reports the first thing in d that IAM would refuse or that this
// package cannot evaluate.
func (d Document) Check() error {
	if d.Version != Version {
		return fmt.Errorf("policy document: Version %q: want %q", d.Version, Version)
	}
	if len(d.Statement) == 0 {
		return errors.New("policy document: no statements")
	}
	for i, s := range d.Statement {
		if s.Effect != Allow && s.Effect != Deny {
			return fmt.Errorf("policy document: statement %d: Effect %q: want Allow or Deny", i, s.Effect)
		}
		if len(s.Action) == 0 || len(s.Resource) == 0 {
			return fmt.Errorf("policy document: statement %d: needs at least one Action and one Resource", i)
		}
		for _, a := range s.Action {
			if a != "*" && !strings.Contains(a, ":") {
				return fmt.Errorf("policy document: statement %d: action %q: want service:Action (for example logs:PutLogEvents)", i, a)
			}
		}
	}
	return nil
}

// Marshal returns the document as IAM takes it, indented, with a final
// newline; the bytes are the same for equal documents.
func (d Document) Marshal() []byte {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil { // only strings and lists: cannot happen
		panic(fmt.Sprintf("marshal policy document: %v", err))
	}
	return append(b, '\n')
}

// Equal reports whether two documents grant the same statements in the same
// order, ignoring the case of action names (as IAM does).
func Equal(a, b Document) bool {
	if a.Version != b.Version || len(a.Statement) != len(b.Statement) {
		return false
	}
	for i := range a.Statement {
		x, y := a.Statement[i], b.Statement[i]
		if x.Effect != y.Effect || len(x.Action) != len(y.Action) || len(x.Resource) != len(y.Resource) {
			return false
		}
		for j := range x.Action {
			if !strings.EqualFold(x.Action[j], y.Action[j]) {
				return false
			}
		}
		for j := range x.Resource {
			if x.Resource[j] != y.Resource[j] {
				return false
			}
		}
	}
	return true
}
