package filterpattern

// node is a boolean expression evaluated against one subject: the decoded
// JSON object for JSON patterns, or one field's text for a space-delimited
// field. The same && / || / parentheses grammar serves both, hence the
// type parameter.
type node[T any] interface {
	eval(subject T) bool
}

// andNode holds the operands of a chain of &&; it short-circuits.
type andNode[T any] []node[T]

func (n andNode[T]) eval(v T) bool {
	for _, c := range n {
		if !c.eval(v) {
			return false
		}
	}
	return true
}

// orNode holds the operands of a chain of ||; it short-circuits.
type orNode[T any] []node[T]

func (n orNode[T]) eval(v T) bool {
	for _, c := range n {
		if c.eval(v) {
			return true
		}
	}
	return false
}
