package filterpattern

// parseSpace parses [field, field, ...] where a field is a name, a name
// with conditions (status = 4* || status = 5*), or the ellipsis "...".
func (p *parser) parseSpace() (matcher, error) {
	open := p.pos
	p.pos++
	p.prev = "'['"
	m := &spaceMatcher{}
	ellipsis := -1
	for {
		p.skipSpace()
		if at := p.pos; p.hasPrefix("...") {
			if ellipsis >= 0 {
				return nil, p.errorf(at, "'...' may appear only once in a space-delimited pattern (second at column %d)")
			}
			ellipsis = at
			m.ellipsis = true
			p.pos += 3
			p.skipSpace()
			if c := p.peek(); c == '=' || c == '!' || c == '<' || c == '>' {
				return nil, p.errorf(p.pos, "'...' cannot have a condition (column %d)")
			}
		} else {
			f, err := p.parseSpaceField()
			if err != nil {
				return nil, err
			}
			if m.ellipsis {
				m.suffix = append(m.suffix, f)
			} else {
				m.prefix = append(m.prefix, f)
			}
		}
		p.skipSpace()
		switch {
		case p.peek() == ',':
			p.pos++
			p.prev = "','"
			continue
		case p.peek() == ']':
			p.pos++
			if err := p.expectEnd("space-delimited"); err != nil {
				return nil, err
			}
			return m, nil
		case p.eof():
			return nil, p.errorf(p.pos, "missing ']' for the '[' at column %d: pattern ends at column %d", p.col(open))
		}
		return nil, p.errorf(p.pos, "unexpected %s at column %d; separate fields with ','", p.describe(p.pos))
	}
}

// parseSpaceField reads one named field. Each condition repeats the
// field's name, as in AWS's [..., status_code = 404 || status_code = 410, ...].
func (p *parser) parseSpaceField() (spaceField, error) {
	start := p.pos
	if p.peek() != '(' {
		name := p.scanWord()
		if name == "" {
			return spaceField{}, p.errorf(start, "expected a field name after %s, found %s at column %d", p.prev, p.describe(start))
		}
		p.skipSpace()
		if c := p.peek(); c == ',' || c == ']' || p.eof() {
			return spaceField{}, nil // a bare name only claims a position
		}
		p.pos = start
	}
	var field string
	leaf := func() (node[string], error) {
		p.skipSpace()
		at := p.pos
		name := p.scanWord()
		switch {
		case name == "":
			return nil, p.errorf(at, "expected a field name after %s, found %s at column %d", p.prev, p.describe(at))
		case field == "":
			field = name
		case name != field:
			return nil, p.errorf(at, "a condition in field '%s' tests '%s' at column %d; each field's conditions must name that field", field, name)
		}
		o, err := p.parseOperator("")
		if err != nil {
			return nil, err
		}
		c, err := p.parseValue(o)
		if err != nil {
			return nil, err
		}
		return &c, nil
	}
	cond, err := parseOr(p, leaf)
	if err != nil {
		return spaceField{}, err
	}
	return spaceField{cond: cond}, nil
}
