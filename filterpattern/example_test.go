package filterpattern_test

import (
	"errors"
	"fmt"

	"github.com/keelvm/keel/filterpattern"
)

func Example() {
	p, err := filterpattern.Compile(`[ip, user, username, timestamp, request = "*.html*", status_code = 4*, bytes]`)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Match(`127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534`))
	fmt.Println(p.Match(`127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 200 1534`))

	j, _ := filterpattern.Compile(`{ $.eventType = "Update*" && $.latency > 1e3 }`)
	fmt.Println(j.Match(`{"eventType": "UpdateTrail", "latency": 1500}`))
	// Output:
	// true
	// false
	// true
}

func ExampleSyntaxError() {
	_, err := filterpattern.Compile(`{ $.status => 500 }`)
	var se *filterpattern.SyntaxError
	if errors.As(err, &se) {
		fmt.Println(se.Column)
		fmt.Println(err)
	}
	// Output:
	// 12
	// invalid filter pattern: unknown operator '=>' at column 12
}
