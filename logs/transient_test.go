package logs

import (
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/aws/smithy-go"
)

func TestTransient(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("decode event: read tcp 127.0.0.1:1->127.0.0.1:2: %w", net.ErrClosed), true},
		{errors.New("decode event: read tcp 127.0.0.1:1->127.0.0.1:2: use of closed network connection"), true},
		{&net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}, true},
		{&smithy.GenericAPIError{Code: "UnknownOperationException"}, false},
		{errors.New("no sessionStart within 10 s"), false},
	}
	for _, tc := range cases {
		if got := transient(tc.err); got != tc.want {
			t.Errorf("transient(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
