package filterpattern

import (
	"strings"
	"sync"
	"testing"
)

// Events from the AWS documentation's unstructured examples.
const (
	e400    = `[ERROR 400] BAD REQUEST`
	e401    = `[ERROR 401] UNAUTHORIZED REQUEST`
	e419    = `[ERROR 419] MISSING ARGUMENTS`
	e420    = `[ERROR 420] INVALID ARGUMENTS`
	e500    = `[ERROR 500] INTERNAL SERVER ERROR`
	info    = `[INFO] REQUEST FAILED`
	warn    = `[WARN] UNAUTHORIZED REQUEST`
	success = `[SUCCESS 200] AUTHORIZED REQUEST`
)

// The AWS documentation's JSON example events, on one line.
const (
	docJSON  = `{"eventType":"UpdateTrail","sourceIPAddress":"111.111.111.111","arrayKey":["value","another value"],"objectList":[{"name":"a","id":1},{"name":"b","id":2}],"SomeObject":null,"cluster.name":"c","ThisFlag":true,"OffFlag":false}`
	compJSON = `{"user":{"id":1,"email":"John.Stiles@example.com"},"users":[{"id":2,"email":"John.Doe@example.com"},{"id":3,"email":"Jane.Doe@example.com"}],"actions":["GET","PUT","DELETE"],"coordinates":[[0,1,2],[4,5,6],[7,8,9]]}`
	numJSON  = `{"bandwidth":100,"latency":20,"refreshRate":60,"responseTime":5,"errorCode":400,"number":[1e+3,-2.5E-1],"neg":-5,"price":12.34,"status":"200","big":1e400,"@timestamp":"2024-01-01","a b":1,"ñ":"x"}`
)

// Space-delimited events: common log format, AWS's variant of it, and
// AWS's ordered-terms examples.
const (
	clf    = `127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534`
	clf404 = `127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534`
	line1  = `INFO 09/25/2014 12:00:00 GET /service/resource/67 1200`
	line2  = `INFO 09/25/2014 12:00:01 POST /service/resource/67/part/111 1310`
	line3  = `WARNING 09/25/2014 12:00:02 Invalid user request`
	line4  = `ERROR 09/25/2014 12:00:02 Failed to process request`
)

type matchCase struct {
	pattern, message string
	want             bool
}

var matchCases = []matchCase{
	// Empty patterns match everything.
	{``, ``, true},
	{``, `anything`, true},
	{"  \t\n ", `anything`, true},

	// Single and multiple terms (AWS examples).
	{`ERROR`, e400, true},
	{`ERROR`, e420, true},
	{`ERROR`, info, false},
	{`ERROR ARGUMENTS`, e419, true},
	{`ERROR ARGUMENTS`, e420, true},
	{`ERROR ARGUMENTS`, e400, false},
	{`ERROR ARGUMENTS`, e401, false},
	{"ERROR\tARGUMENTS", e419, true},

	// Substring rule, case-sensitive.
	{`ERROR`, `ERRORS happened`, true},
	{`ERROR`, `[ERROR]`, true},
	{`ERROR`, `error`, false},
	{`ERROR`, `Error`, false},
	{`RROR`, `ERROR`, true},
	{`/api/v1`, `GET /api/v1/users 200`, true},
	{`/api/v1`, `GET /api/v2/users 200`, false},
	{`user=42`, `login user=42 ok`, true},
	{`user=42`, `login user=420 ok`, true},
	{`ERR*`, `ERR* literal`, true},
	{`ERR*`, `ERROR`, false},
	{`ñandú`, `el ñandú corre`, true},
	{`100%`, `disk 100% full`, true},
	{`a"b`, `say a"b`, true},

	// Any-of terms.
	{`?ERROR ?ARGUMENTS`, e400, true},
	{`?ERROR ?ARGUMENTS`, e419, true},
	{`?ERROR ?ARGUMENTS`, `MISSING ARGUMENTS`, true},
	{`?ERROR ?ARGUMENTS`, info, false},
	{`?ERROR`, e400, true},
	{`?ERROR`, info, false},

	// Mixing '?' with other terms: the '?' terms are ignored (AWS).
	{`?ERROR ?ARGUMENTS REQUEST`, info, true},
	{`?ERROR ?ARGUMENTS REQUEST`, warn, true},
	{`?ERROR ?ARGUMENTS REQUEST`, e400, true},
	{`?ERROR ?ARGUMENTS REQUEST`, e419, false},
	{`REQUEST ?ERROR`, info, true},
	{`?ERROR -DEBUG`, `INFO all good`, true},
	{`?ERROR -DEBUG`, `DEBUG ERROR`, false},

	// Exact phrases.
	{`"INTERNAL SERVER ERROR"`, e500, true},
	{`"INTERNAL SERVER ERROR"`, `ERROR SERVER INTERNAL`, false},
	{`INTERNAL SERVER ERROR`, `ERROR SERVER INTERNAL`, true},
	{`"SERVER ERROR"`, e500, true},
	{`"a \"quoted\" word"`, `it is a "quoted" word`, true},
	{`"back\\slash"`, `a back\slash here`, true},
	{`"C:\temp"`, `dir C:\temp\x`, true},
	{`"star\*"`, `a star* b`, true},
	{`"*"`, `no star`, false},
	{`"*"`, `a * b`, true},
	{`""`, `anything`, true},
	{`"ERROR 4"`, e419, true},
	{`"[ERROR 401]"`, e401, true},
	{`"{json}"`, `a {json} b`, true},

	// Include and exclude.
	{`ERROR -ARGUMENTS`, e400, true},
	{`ERROR -ARGUMENTS`, e401, true},
	{`ERROR -ARGUMENTS`, e419, false},
	{`ERROR -ARGUMENTS`, e420, false},
	{`-DEBUG`, `INFO started`, true},
	{`-DEBUG`, `DEBUG started`, false},
	{`-DEBUG -TRACE`, `TRACE x`, false},
	{`ERROR -"BAD REQUEST"`, e400, false},
	{`ERROR -"BAD REQUEST"`, e401, true},
	{`ERROR-ARGUMENTS`, `ERROR-ARGUMENTS`, true}, // '-' only prefixes a term
	{`ERROR-ARGUMENTS`, e419, false},

	// Match everything with a whitespace-only phrase (AWS idiom).
	{`" "`, `nospaces`, true},
	{`" "`, ``, true},
	{`"   "`, `x`, true},
	{`?" " ?nothing`, `x`, true},
	{`-" "`, `x`, false},

	// Regex terms.
	{`%AUTHORIZED%`, e401, true},
	{`%AUTHORIZED%`, success, true},
	{`%AUTHORIZED%`, e400, false},
	{`%ERR[0-9]+%`, `code ERR42 seen`, true},
	{`%ERR[0-9]+%`, `code ERR seen`, false},
	{`%ERR[0-9]+% timeout`, `ERR42 timeout`, true},
	{`%ERR[0-9]+% timeout`, `ERR timeout`, false},
	{`?%ERR[0-9]+% ?WARN`, `ERR7`, true},
	{`?%ERR[0-9]+% ?WARN`, `WARN`, true},
	{`?%ERR[0-9]+% ?WARN`, `INFO`, false},
	{`-%^DEBUG%`, `DEBUG x`, false},
	{`-%^DEBUG%`, `x DEBUG`, true},

	// Regex syntax subset (AWS's documented operators).
	{`%^[hc]at%`, `hat trick`, true},
	{`%^[hc]at%`, `that`, false},
	{`%[hc]at$%`, `a cat`, true},
	{`%[hc]at$%`, `cats`, false},
	{`%colou?r%`, `color`, true},
	{`%colou?r%`, `colour`, true},
	{`%[abcx-z]%`, `y`, true},
	{`%[abcx-z]%`, `w`, false},
	{`%^a{3,5}$%`, `aa`, false},
	{`%^a{3,5}$%`, `aaa`, true},
	{`%^a{3,5}$%`, `aaaaa`, true},
	{`%^a{3,5}$%`, `aaaaaa`, false},
	{`%^a{,2}b$%`, `aab`, true},
	{`%^a{,2}b$%`, `aaab`, false},
	{`%^a{2,}b$%`, `ab`, false},
	{`%^a{2, 3}b$%`, `aaab`, true},
	{`%^a{ 2 }b$%`, `aab`, true},
	{`%x{%`, `x{`, true},
	{`%gra|ey%`, `grey`, true},
	{`%^starting|^initializing|^shutting down%`, `shutting down now`, true},
	{`%^starting|^initializing|^shutting down%`, `skipping initializing`, false},
	{`%\[.\]%`, `[a]`, true},
	{`%\[.\]%`, `[]`, false},
	{`%10\.10\.0\.1%`, `host 10.10.0.1 up`, true},
	{`%10\.10\.0\.1%`, `10010,051`, false},
	{`%10.10.0.1%`, `10010,051`, true},
	{`%ab*c%`, `ac`, true},
	{`%ab+c%`, `ac`, false},
	{`%.at%`, ` at`, true},
	{`%\d%`, `abc1`, true},
	{`%\D%`, `123`, false},
	{`%a\sb%`, "a\tb", true},
	{`%\S%`, " \t", false},
	{`%^\w+$%`, `a_Z9`, true},
	{`%\W%`, `a_Z9`, false},
	{`%\x3A%`, `a:b`, true},
	{`%\x28%`, `f(x)`, true},
	{`%ab[^c]$%`, `aba`, true},
	{`%ab[^c]$%`, `abc`, false},
	{`%[]a]%`, `]`, true},
	{`%[^]a]%`, `]]`, false},
	{`%a\-b\:c\/d%`, `a-b:c/d`, true},
	{`%a.b%`, "a\nb", false}, // '.' does not match a newline
	{`%[0-9]+ ms$%`, "took 123 ms\n", true},
	{`%[0-9]+ ms$%`, "took 123 ms", true},
	{`%a$%`, "a\n\n", false},
	{`%a$|^b%`, "b x", true},
	{`%[$]%`, "cost $5", true},
	{`%\$%`, "cost $5", true},
	{`%^$%`, "", true},
	{`%^$%`, "\n", true},
	{`%:_#=@/;,-%`, `x:_#=@/;,-y`, true},

	// JSON strings (AWS examples against docJSON).
	{`{ $.eventType = "UpdateTrail" }`, docJSON, true},
	{`{$.eventType="UpdateTrail"}`, docJSON, true},
	{`{ $.eventType = UpdateTrail }`, docJSON, true},
	{`{ $.eventType = "Update" }`, docJSON, false},
	{`{ $.eventType = "Update*" }`, docJSON, true},
	{`{ $.eventType = "*Trail" }`, docJSON, true},
	{`{ $.eventType = "*date*" }`, docJSON, true},
	{`{ $.eventType = "U*d*T*l" }`, docJSON, true},
	{`{ $.eventType = "U*x*" }`, docJSON, false},
	{`{ $.eventType != "UpdateTrail" }`, docJSON, false},
	{`{ $.eventType != "Other" }`, docJSON, true},
	{`{ $.sourceIPAddress != 123.123.* }`, docJSON, true},
	{`{ $.sourceIPAddress != 111.111.* }`, docJSON, false},
	{`{ $.sourceIPAddress = 111.111.111.111 }`, docJSON, true},
	{`{ $.arrayKey[0] = "value" }`, docJSON, true},
	{`{ $.arrayKey[1] = "another value" }`, docJSON, true},
	{`{ $.arrayKey[2] = * }`, docJSON, false},
	{`{ $.arrayKey = "value" }`, docJSON, false}, // selector points to an array
	{`{ $.eventType = %Trail% }`, docJSON, true},
	{`{ $.eventType = %^Trail% }`, docJSON, false},
	{`{ $.eventType != %Trail% }`, docJSON, false},
	{`{ $.arrayKey[*] = %val.{2}% }`, docJSON, true},
	{`{ $.arrayKey[*] = "another value" }`, docJSON, true},
	{`{ $.arrayKey[*] = "third" }`, docJSON, false},
	{`{ $.arrayKey.* = "value" }`, docJSON, true},
	{`{ $.* = %111\.111\.111\.1[0-9]{1,2}% }`, docJSON, true},
	{`{ $.* = "nothing like this" }`, docJSON, false},
	{`{ $[*] = "UpdateTrail" }`, docJSON, true},
	{`{ $.objectList[1].id = 2 }`, docJSON, true},
	{`{ $.objectList[1].id = 1 }`, docJSON, false},
	{`{ $.objectList[1].number = 2 }`, docJSON, false},
	{`{ $.objectList[5].id = 2 }`, docJSON, false},
	{`{ $.objectList[*].name = "b" }`, docJSON, true},
	{`{ $.objectList[*].id > 1 }`, docJSON, true},
	{`{ $.objectList[*].id > 2 }`, docJSON, false},
	{`{ $.ThisFlag[0] = "value" }`, docJSON, false},
	{`{ $.eventType.x = "UpdateTrail" }`, docJSON, false},
	{`{ $.['cluster.name'] = "c" }`, docJSON, true},
	{`{ $["cluster.name"] = "c" }`, docJSON, true},
	{`{ $.cluster.name = "c" }`, docJSON, false},
	{`{ $.['eventType'] = UpdateTrail }`, docJSON, true},

	// IS NULL / TRUE / FALSE, NOT EXISTS, '= *'.
	{`{ $.SomeObject IS NULL }`, docJSON, true},
	{`{ $.eventType IS NULL }`, docJSON, false},
	{`{ $.Missing IS NULL }`, docJSON, false},
	{`{ $.SomeOtherObject NOT EXISTS }`, docJSON, true},
	{`{ $.SomeObject NOT EXISTS }`, docJSON, false},
	{`{ $.arrayKey[5] NOT EXISTS }`, docJSON, true},
	{`{ $.arrayKey[*] NOT EXISTS }`, docJSON, false},
	{`{ $.ThisFlag IS TRUE }`, docJSON, true},
	{`{ $.ThisFlag IS FALSE }`, docJSON, false},
	{`{ $.OffFlag IS FALSE }`, docJSON, true},
	{`{ $.OffFlag IS TRUE }`, docJSON, false},
	{`{ $.eventType IS TRUE }`, docJSON, false},
	{`{ $.ThisFlag = true }`, docJSON, false}, // booleans are tested with IS TRUE
	{`{ $.eventType = * }`, docJSON, true},
	{`{ $.eventType = "*" }`, docJSON, true},
	{`{ $.eventType = ** }`, docJSON, true},
	{`{ $.objectList = * }`, docJSON, true},
	{`{ $.SomeObject = * }`, docJSON, true},
	{`{ $.Missing = * }`, docJSON, false},
	{`{ $.eventType != * }`, docJSON, false},
	{`{ $.Missing != "x" }`, docJSON, false},
	{`{ $.Missing != 5 }`, docJSON, false},
	{`{ $.SomeObject != "x" }`, docJSON, false},

	// Compound expressions (AWS examples against compJSON).
	{`{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }`, compJSON, true},
	{`{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }`, compJSON, true},
	{`{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }`, compJSON, false},
	{`{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }`, compJSON, false},
	{`{ $.user.id = 2 || $.user.id = 1 && $.actions[0] = "GET" }`, compJSON, true},
	{`{ ($.user.id = 2 || $.user.id = 1) && $.actions[0] = "PUT" }`, compJSON, false},
	{`{ $.user.id = 1 && $.user.id = 2 || $.actions[1] = "PUT" }`, compJSON, true},
	{`{ ((($.user.id = 1))) }`, compJSON, true},
	{`{ $.coordinates[1][2] = 6 }`, compJSON, true},
	{`{ $.coordinates[*][0] = 7 }`, compJSON, true},
	{`{ $.coordinates[2][*] = 1 }`, compJSON, false},
	{`{ $.users[*].email = "Jane*" && $.users[*].id = 3 }`, compJSON, true},
	{`{ $.user.email = "*@example.com" }`, compJSON, true},

	// Numbers (AWS examples against numJSON) and type rules.
	{`{ $.bandwidth > 75 }`, numJSON, true},
	{`{ $.bandwidth > 100 }`, numJSON, false},
	{`{ $.latency < 50 }`, numJSON, true},
	{`{ $.refreshRate >= 60 }`, numJSON, true},
	{`{ $.refreshRate >= 61 }`, numJSON, false},
	{`{ $.responseTime <= 5 }`, numJSON, true},
	{`{ $.responseTime <= 4.99 }`, numJSON, false},
	{`{ $.errorCode = 400}`, numJSON, true},
	{`{ $.errorCode != 500 }`, numJSON, true},
	{`{ $.errorCode != 400 }`, numJSON, false},
	{`{ $.errorCode = 400.0 }`, numJSON, true},
	{`{ $.errorCode = 4e2 }`, numJSON, true},
	{`{ $.errorCode = +400 }`, numJSON, true},
	{`{ $.number[0] = 1e+3 }`, numJSON, true},
	{`{ $.number[0] = 1000 }`, numJSON, true},
	{`{ $.number[0] != 1e-3 }`, numJSON, true},
	{`{ $.number[1] = -2.5E-1 }`, numJSON, true},
	{`{ $.number[1] = -0.25 }`, numJSON, true},
	{`{ $.number[1] < 0 }`, numJSON, true},
	{`{ $.price = 12.34 }`, numJSON, true},
	{`{ $.price > 12 && $.price < 13 }`, numJSON, true},
	{`{ $.neg < -4 }`, numJSON, true},
	{`{ $.neg > -4 }`, numJSON, false},
	{`{ $.big > 1e300 }`, numJSON, true},
	{`{ $.status = 200 }`, numJSON, false},      // numbers only match JSON numbers
	{`{ $.status > 100 }`, numJSON, false},      // likewise
	{`{ $.status != 200 }`, numJSON, false},     // a string is not comparable with a number
	{`{ $.status = "200" }`, numJSON, true},     // exact strings match strings
	{`{ $.errorCode = "400" }`, numJSON, false}, // ... and only strings
	{`{ $.errorCode != "400" }`, numJSON, false},
	{`{ $.errorCode = 4* }`, numJSON, true}, // wildcards match a number's text
	{`{ $.errorCode = "4*" }`, numJSON, true},
	{`{ $.errorCode != 5* }`, numJSON, true},
	{`{ $.number[0] = 1e* }`, numJSON, true}, // the text as written
	{`{ $.errorCode = %^4\d\d$% }`, numJSON, true},
	{`{ $.status = 2* }`, numJSON, true},
	{`{ $.@timestamp = "2024-*" }`, numJSON, true},
	{`{ $.['a b'] = 1 }`, numJSON, true},
	{`{ $.ñ = x }`, numJSON, true},

	// JSON patterns only match JSON objects.
	{`{ $.a = 1 }`, `{"a":1}`, true},
	{`{ $.a = 1 }`, "  \n{\"a\":1}\t ", true},
	{`{ $.a = 1 }`, `a=1`, false},
	{`{ $.a = 1 }`, `[{"a":1}]`, false},
	{`{ $.a = 1 }`, `{"a":1} trailing`, false},
	{`{ $.a = 1 }`, `{"a":1}{"a":1}`, false},
	{`{ $.a = 1 }`, `{"a":`, false},
	{`{ $.a = 1 }`, `{"a":1,}`, false},
	{`{ $.a = 1 }`, `null`, false},
	{`{ $.a = 1 }`, ``, false},
	{`{ $.a NOT EXISTS }`, `not json`, false},
	{`{ $.a NOT EXISTS }`, `{}`, true},
	{`{ $.a = "x" }`, `{"a":"x","a":"y"}`, false}, // duplicate keys: the last wins

	// Space-delimited: common log format.
	{`[ip, user, username, timestamp, request, status_code, bytes > 1000]`, clf, true},
	{`[ip, user, username, timestamp, request, status_code, bytes > 2000]`, clf, false},
	{`[..., status_code = 200, bytes]`, clf, true},
	{`[..., status_code = 404, bytes]`, clf, false},
	{`[ip, user, username, timestamp = "10/Oct/2000:13:25:15 -0700", request = "GET /apache_pb.gif HTTP/1.0", status_code, bytes]`, clf, true},
	{`[ip, user = "-", username = frank, ...]`, clf, true},
	{`[ip = 127.0.0.1, ...]`, clf, true},
	{`[ip = 127.0.0.*, ...]`, clf, true},
	{`[ip = 10.*, ...]`, clf, false},
	{`[ip, ...]`, clf, true},
	{`[...]`, clf, true},
	{`[...]`, ``, true},
	{`[ip, user, username, timestamp, request = "*.gif*", status_code = 2*, bytes]`, clf, true},

	// AWS's space-delimited examples.
	{`[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]`, clf404, true},
	{`[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]`, clf, false},
	{`[..., request =*.html*, status_code = 4*, bytes]`, clf404, true},
	{`[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]`, clf404, true},
	{`[ip, user, username, timestamp, request =*.html*, status_code = 500 || status_code = 410, bytes]`, clf404, false},
	{`[w1=ERROR, w2]`, line4, true},
	{`[w1=ERROR, w2]`, line1, false},
	{`[w1=ERROR || w1=WARNING, w2]`, line3, true},
	{`[w1=ERROR || w1=WARNING, w2]`, line4, true},
	{`[w1=ERROR || w1=WARNING, w2]`, line1, false},
	{`[w1!=ERROR && w1!=WARNING, w2]`, line1, true},
	{`[w1!=ERROR && w1!=WARNING, w2]`, line4, false},
	{`[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, response_time]`, line1, true},
	{`[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, response_time]`, line2, false},
	{`[logLevel, date, time, method, url=%/service/resource/[0-9]+/part/[0-9]+$%, response_time]`, line2, true},
	{`[logLevel, date, time, method, url=%/service/resource/[0-9]+/part/[0-9]+$%, response_time]`, line1, false},

	// Field counts: fewer fields never match; extra ones go to the last field.
	{`[w1=ERROR]`, line4, false},
	{`[w1=ERROR]`, `ERROR`, true},
	{`[a, b, c]`, `x y`, false},
	{`[a, b, c]`, `x y z`, true},
	{`[a, b, c]`, `x y z w`, true},
	{`[a, b, c = "z w"]`, `x y z w`, true},
	{`[a, b, c = "z   w"]`, "x y z   w  \t", true},
	{`[a, b, c = z]`, `x y z w`, false},
	{`[a, b = "y"]`, `x "y"`, true},
	{`[a]`, ``, false},
	{`[a]`, `   `, false},
	{`[a, b]`, `  x   y  `, true},
	{"[a, b = 2]", "1\t2", true},

	// Ellipsis in the middle, at the start and at the end.
	{`[a = x, ..., z = 9]`, `x 1 2 3 9`, true},
	{`[a = x, ..., z = 9]`, `x 9`, true},
	{`[a = x, ..., z = 9]`, `x`, false},
	{`[a = x, ..., z = 9]`, `y 1 9`, false},
	{`[a = x, ..., z = 9]`, `x 1 8`, false},
	{`[..., f1=1, f2=2, f3=3, f4=4, f5=5, f6=6, f7=7, f8=8, f9=9, f10=10]`, `0 1 2 3 4 5 6 7 8 9 10`, true},
	{`[..., f1=1, f2=2, f3=3, f4=4, f5=5, f6=6, f7=7, f8=8, f9=9, f10=10]`, `1 2 3 4 5 6 7 8 9 10`, true},
	{`[..., f1=1, f2=2, f3=3, f4=4, f5=5, f6=6, f7=7, f8=8, f9=9, f10=10]`, `2 3 4 5 6 7 8 9 10`, false},
	{`[..., last = end]`, `a b c end`, true},
	{`[..., last = end]`, `end`, true},
	{`[..., last = end]`, ``, false},
	{`[first = a, ...]`, `a`, true},

	// Quoted and bracketed fields.
	{`[lvl = "[ERROR]", msg]`, `[[ERROR]] boom`, true},
	{`[a, b = "x y"]`, `1 [x y]`, true},
	{`[a, b = *hi*]`, `x "say \"hi\""`, true},
	{`[a, b, c]`, `"abc def`, false}, // an unclosed quote is an ordinary character
	{`[a = "\"abc", b]`, `"abc def`, true},
	{`[a, b]`, `[abc def`, true},
	{`[a, b = "", c]`, `x "" z`, true},

	// Field conditions: numbers, strings, wildcards, regexes, parentheses.
	{`[a, b > 1000]`, `x 1e4`, true},
	{`[a, b > 1000]`, `x abc`, false},
	{`[a, b != 5]`, `x abc`, false},
	{`[a, b != 5]`, `x 6`, true},
	{`[a, b = 5]`, `x 5.0`, true},
	{`[a, b = 5]`, `x 0x5`, false},
	{`[a, b = 5]`, `x Inf`, false},
	{`[a, b < -1.5]`, `x -2`, true},
	{`[a, b >= 2 && b <= 3]`, `x 2.5`, true},
	{`[a, b > 100 && b < 200]`, `x 250`, false},
	{`[a, b = "hello world"]`, `x "hello world"`, true},
	{`[a, b = *]`, `x anything`, true},
	{`[a, b != *]`, `x anything`, false},
	{`[a, b = 1 || (b > 5 && b < 10)]`, `x 7`, true},
	{`[a, b = 1 || (b > 5 && b < 10)]`, `x 4`, false},
	{`[a != %^x%, b]`, `y z`, true},
	{`[a != %^x%, b]`, `xy z`, false},
	{`[user = %admin.*%, action]`, `superadmin1 login`, true},
	{`[status = 4* || status = 5*, ...]`, `503 Service Unavailable`, true},
	{`[status = 4* || status = 5*, ...]`, `200 OK`, false},
	{`[a-b, c_d = ok]`, `x ok`, true},

	// Regexes in every position, at the quota of two.
	{`{ $.eventType = %Trail% && $.arrayKey[0] = %^val%  }`, docJSON, true},
	{`[a = %^x%, b = %y$%]`, `xa by`, true},
	{`%a% %b%`, `ab`, true},
}

func TestMatch(t *testing.T) {
	for _, c := range matchCases {
		p, err := Compile(c.pattern)
		if err != nil {
			t.Errorf("Compile(%q): %v", c.pattern, err)
			continue
		}
		if got := p.Match(c.message); got != c.want {
			t.Errorf("Compile(%q).Match(%q) = %v, want %v", c.pattern, c.message, got, c.want)
		}
	}
}

func TestNesting(t *testing.T) {
	deep := func(n int) string {
		return "{ " + strings.Repeat("(", n) + "$.a = 1" + strings.Repeat(")", n) + " }"
	}
	p, err := Compile(deep(maxDepth))
	if err != nil {
		t.Fatalf("nesting %d: %v", maxDepth, err)
	}
	if !p.Match(`{"a":1}`) || p.Match(`{"a":2}`) {
		t.Errorf("nesting %d: wrong result", maxDepth)
	}
	if _, err := Compile(deep(maxDepth + 1)); err == nil {
		t.Errorf("nesting %d: compiled, want an error", maxDepth+1)
	}
}

func TestString(t *testing.T) {
	for _, src := range []string{``, `  ERROR  `, `{ $.a = 1 }`, `[a, ...]`} {
		p, err := Compile(src)
		if err != nil {
			t.Fatal(err)
		}
		if p.String() != src {
			t.Errorf("String() = %q, want %q", p.String(), src)
		}
	}
	var nilPattern *Pattern
	if !nilPattern.Match("x") || nilPattern.String() != "" {
		t.Error("a nil *Pattern should match everything and print as empty")
	}
}

// TestConcurrentMatch shares each compiled pattern between goroutines;
// run with -race it checks that Match does not mutate the Pattern.
func TestConcurrentMatch(t *testing.T) {
	var wg sync.WaitGroup
	for _, c := range matchCases {
		p, err := Compile(c.pattern)
		if err != nil {
			t.Fatal(err)
		}
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if got := p.Match(c.message); got != c.want {
					t.Errorf("concurrent Compile(%q).Match(%q) = %v", c.pattern, c.message, got)
				}
			}()
		}
	}
	wg.Wait()
}
