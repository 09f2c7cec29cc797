// Package filterpattern implements the CloudWatch Logs filter pattern
// language: it compiles a pattern once and then decides, for one log event
// message at a time, whether the message matches. keel's CloudWatch Logs
// server uses it for FilterLogEvents and StartLiveTail, and the
// `keel logs -filter` command uses it locally.
//
// The package knows nothing about HTTP, storage, log groups or
// timestamps: its whole input is a pattern string and a message string.
// Request validation beyond the pattern's syntax (such as the API's
// 1024-character limit) belongs to the caller.
//
// The language follows AWS's "Filter pattern syntax for metric filters,
// subscription filters, filter log events, and Live Tail". Everything is
// case-sensitive, keywords included. Where AWS leaves behaviour open, the
// choice made here is stated below.
//
// # Forms
//
// The first non-space character picks the form: '{' starts a JSON
// pattern, '[' a space-delimited pattern, anything else a list of terms.
// An empty or all-whitespace pattern matches every event.
//
// # Terms
//
//	ERROR ARGUMENTS          both terms must occur
//	?ERROR ?ARGUMENTS        at least one must occur
//	"INTERNAL SERVER ERROR"  a phrase, spaces included; \" \\ and \* escape
//	ERROR -ARGUMENTS         ERROR must occur and ARGUMENTS must not
//	%ERR[0-9]+%              a regular expression, searched anywhere
//	" "                      every event (AWS's documented idiom)
//
// A term matches when it occurs anywhere in the message as a
// case-sensitive substring: ERROR matches "[ERROR]" and "ERRORS". This is
// CloudWatch's observed behaviour, not word matching. A bare term runs to
// the next whitespace and may hold any characters (/api/v1, user=42); '*'
// is literal in terms. A term may not begin with '{' or '[' (those start
// the other forms) or '%' (a regex), unless quoted.
//
// Mixing '?' terms with plain or '-' terms: AWS documents that "if you
// combine '?' with other filter patterns, all question mark terms will be
// ignored", so ?ERROR ?ARGUMENTS REQUEST matches exactly the events that
// contain REQUEST. That is what Match does. (The AWS CDK's anyTermGroup
// renders groups as ?"a" "b" ?"c", assuming grouping semantics the
// service documentation does not describe; they are not implemented.)
// '?' and '-' also apply to phrases and regexes: ?"bad gateway", -%^DEBUG%.
//
// # JSON patterns
//
//	{ $.eventType = "UpdateTrail" }
//	{ $.sourceIPAddress != 123.123.* }
//	{ $.latency > 1e3 && ($.status = 5* || $.error IS TRUE) }
//	{ $.users[0].email = "*@example.com" }
//	{ $.arrayKey[*] = %val.{2}% }     { $.['cluster.name'] = "c" }
//	{ $.SomeObject IS NULL }          { $.SomeOtherObject NOT EXISTS }
//
// A JSON pattern matches only events whose text is one JSON object with
// nothing but whitespace around it; other events never match. The event is
// decoded once per Match, and not at all when its first non-space byte is
// not '{'.
//
// Selectors start with $ followed by steps: .name (letters, digits, '_',
// '-', '@' or non-ASCII), ['any name'] or ["any name"], [index], and the
// wildcards .* and [*], which select every member of an object or element
// of an array (either spelling works on either). With a wildcard a
// condition holds when it holds for some selected value. AWS's quotas are
// enforced: one wildcard per selector, three per pattern.
//
// Values and type rules (AWS does not document mixed types; these rules
// are the most literal reading of what it does document):
//
//   - A number (integer, decimal or exponent: 200, -2.5, 1e+3, -2.5E-1)
//     compares numerically, and only with JSON numbers: { $.status = 200 }
//     does not match "status": "200".
//   - An exact string, quoted or bare ("UpdateTrail", UpdateTrail),
//     compares only with JSON strings.
//   - A string with '*' wildcards ("/api/*", 123.123.*, 4*) compares with
//     JSON strings and with the literal text of JSON numbers, since AWS
//     documents '*' as a way "to match numbers": { $.status = 4* } matches
//     404.
//   - A %regex% searches JSON strings and the text of JSON numbers.
//   - '*' alone, quoted or not, means the property exists with any value
//     (the AWS CDK's FilterPattern.exists renders it this way); '!= *'
//     never matches.
//   - <, <=, > and >= need a number; anything else is a syntax error.
//   - IS TRUE, IS FALSE and IS NULL test for JSON true, false and null.
//     NOT EXISTS holds when the selector selects nothing. AWS rejects IS
//     NOT and EXISTS, and so does Compile.
//   - Every comparison, != included, is false when the property is missing
//     or holds a value of another type (an object, an array, a boolean, or
//     a string compared with a number): use NOT EXISTS to test absence.
//
// && binds tighter than ||; parentheses group, nested at most 100 deep.
//
// # Space-delimited patterns
//
//	[ip, user, username, timestamp, request = "*.html*", status = 4*, bytes > 1000]
//	[..., status_code = 404 || status_code = 410, bytes]
//	[w1 != ERROR && w1 != WARNING, w2]
//
// The message is split at whitespace, except that text inside "..." or
// [...] is one field, given without its quotes or brackets (no unescaping:
// the field is the raw text between them). A quote or bracket that is
// never closed is an ordinary character.
//
// Fields line up with the pattern from the left. When the message has
// fewer fields than the pattern it does not match. When it has more, the
// last pattern field takes the rest of the message, trailing whitespace
// trimmed: this is how CloudWatch behaves and what AWS's own
// [w1=ERROR, w2] example depends on (its events have six fields).
//
// "..." stands for any number of fields, zero included, and may appear
// once (as in the AWS CDK, which enforces it); the fields before it line
// up from the left and those after it from the right.
//
// A field may carry conditions joined by && and || (with parentheses),
// each naming the field itself. Values follow the JSON rules, except that
// a field is always text: a numeric value applies when the field parses as
// a number, and strings, wildcards and regexes compare with the field's
// text. Field names are letters, digits, '_' and '-'.
//
// # Regular expressions
//
// %...% holds a regular expression in AWS's documented subset, run by Go's
// regexp (RE2: linear time, no catastrophic backtracking), searched
// anywhere in the text it is applied to. Accepted: ASCII letters and
// digits; the symbols : _ # = @ / ; , - and space; the operators ^ $ ? [ ]
// { } | \ * + .; counted repetition {m,n}, {m,}, {m} and {,n} (spaces
// allowed inside the braces); the escapes \d \D \s \S \w \W and \xhh, and
// a backslash before any accepted symbol or operator. Rejected: '(' and
// ')' (AWS does not support groups; \x28 and \x29 match them), other
// characters and escapes, and multi-byte characters. '.' does not match a
// newline; ^ anchors at the start of the text and $ at its end or before a
// final newline (as in Java and Perl; many events end in one). The regex
// ends at
// the first '%' (match a percent sign with \x25). A pattern holds at most
// two regexes, whatever its form, and a regex may compile to at most 300
// instructions, which keeps every match linear with a small constant.
//
// # Performance
//
// Compile does all parsing and regex compilation; a Pattern is immutable
// and safe for concurrent use. Matching a term pattern allocates nothing.
// A JSON pattern decodes the event once per Match. A space-delimited
// pattern scans the message once, without regexp. Wildcards are matched
// without backtracking. Every form matches in time linear in the message
// length for a given pattern.
package filterpattern
