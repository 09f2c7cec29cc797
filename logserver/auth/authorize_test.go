package auth

import (
	"net/http"
	"testing"
)

func TestAuthorize(t *testing.T) {
	admin := Key{ID: "KEELADMIN00000000000", Name: "admin"}
	vm := Key{ID: "KEELVM00000000000000", Name: "vm-hello", Scope: &Scope{Group: "boxfuse/dev", StreamPrefix: "myuser/hello"}}
	wide := Key{ID: "KEELWIDE000000000000", Name: "shipper", Scope: &Scope{Group: "boxfuse/dev"}}
	app := Key{ID: "KEELAPP0000000000000", Name: "vm-run-1-myuser-hello", Scope: &Scope{Group: "boxfuse/dev", Stream: "myuser/hello"}}
	reader := Key{ID: "KEELREAD000000000000", Name: "reader", Scope: &Scope{Group: "boxfuse/dev", Actions: []string{"logs:GetLogEvents", "DescribeLogStreams"}}}

	tests := []struct {
		key                   Key
		action, group, stream string
		allowed               bool
	}{
		{vm, "PutLogEvents", "boxfuse/dev", "myuser/hello", true},
		{vm, "PutLogEvents", "boxfuse/dev", "myuser/hello/boot", true},
		{vm, "CreateLogStream", "boxfuse/dev", "myuser/hello-2", true},
		{vm, "putlogevents", "boxfuse/dev", "myuser/hello", true},
		{vm, "logs:PutLogEvents", "boxfuse/dev", "myuser/hello", true},
		{vm, "PutLogEvents", "boxfuse/dev", "other/app", false},
		{vm, "PutLogEvents", "boxfuse/dev", "myuser/hell", false},
		{vm, "PutLogEvents", "boxfuse/prod", "myuser/hello", false},
		{vm, "PutLogEvents", "boxfuse/dev2", "myuser/hello", false},
		{vm, "GetLogEvents", "boxfuse/dev", "myuser/hello", false},
		{vm, "FilterLogEvents", "boxfuse/dev", "", false},
		{vm, "DescribeLogStreams", "boxfuse/dev", "", false},
		{vm, "DescribeLogGroups", "", "", false},
		{vm, "DeleteLogStream", "boxfuse/dev", "myuser/hello", false},
		{vm, "DeleteLogGroup", "boxfuse/dev", "", false},
		{vm, "CreateLogGroup", "boxfuse/dev", "", false},
		{app, "PutLogEvents", "boxfuse/dev", "myuser/hello", true},
		{app, "CreateLogStream", "boxfuse/dev", "myuser/hello/boot", true},
		{app, "PutLogEvents", "boxfuse/dev", "myuser/hello2", false},
		{app, "PutLogEvents", "boxfuse/dev", "myuser/hello-admin", false},
		{app, "PutLogEvents", "boxfuse/dev", "myuser/hell", false},
		{app, "DescribeLogStreams", "boxfuse/dev", "", false},
		{wide, "PutLogEvents", "boxfuse/dev", "anything", true},
		{wide, "CreateLogStream", "boxfuse/dev", "x", true},
		{wide, "GetLogEvents", "boxfuse/dev", "x", false},
		{reader, "GetLogEvents", "boxfuse/dev", "x", true},
		{reader, "DescribeLogStreams", "boxfuse/dev", "", true},
		{reader, "PutLogEvents", "boxfuse/dev", "x", false},
		{admin, "DeleteLogGroup", "boxfuse/prod", "", true},
		{admin, "GetLogEvents", "any", "stream", true},
		{admin, "DescribeLogGroups", "", "", true},
	}
	for _, tt := range tests {
		err := Authorize(tt.key, tt.action, tt.group, tt.stream, "000000000000", "us-east-1")
		if (err == nil) != tt.allowed {
			t.Errorf("%s %s on %q/%q: allowed=%v, want %v (%v)", tt.key.Name, tt.action, tt.group, tt.stream, err == nil, tt.allowed, err)
		}
		if err != nil && (err.Status != http.StatusBadRequest || err.Code != CodeAccessDenied) {
			t.Errorf("%s %s: error %d %s, want 400 %s", tt.key.Name, tt.action, err.Status, err.Code, CodeAccessDenied)
		}
	}
}

func TestAuthorizeMessage(t *testing.T) {
	vm := Key{ID: "KEELVM00000000000000", Name: "vm-hello", Scope: &Scope{Group: "boxfuse/dev", StreamPrefix: "myuser/"}}
	tests := []struct {
		key                   Key
		action, group, stream string
		want                  string
	}{
		{vm, "GetLogEvents", "boxfuse/dev", "myuser/a",
			"User: arn:aws:iam::123456789012:user/vm-hello is not authorized to perform: logs:GetLogEvents on resource: " +
				"arn:aws:logs:eu-west-1:123456789012:log-group:boxfuse/dev:log-stream:myuser/a because no identity-based policy allows the logs:GetLogEvents action"},
		{vm, "FilterLogEvents", "boxfuse/dev", "",
			"User: arn:aws:iam::123456789012:user/vm-hello is not authorized to perform: logs:FilterLogEvents on resource: " +
				"arn:aws:logs:eu-west-1:123456789012:log-group:boxfuse/dev:* because no identity-based policy allows the logs:FilterLogEvents action"},
		{vm, "DescribeLogGroups", "", "",
			"User: arn:aws:iam::123456789012:user/vm-hello is not authorized to perform: logs:DescribeLogGroups on resource: " +
				"arn:aws:logs:eu-west-1:123456789012:log-group::log-stream: because no identity-based policy allows the logs:DescribeLogGroups action"},
		{Key{ID: "KEELNONAME0000000000", Scope: vm.Scope}, "logs:PutLogEvents", "other", "s",
			"User: arn:aws:iam::123456789012:user/KEELNONAME0000000000 is not authorized to perform: logs:PutLogEvents on resource: " +
				"arn:aws:logs:eu-west-1:123456789012:log-group:other:log-stream:s because no identity-based policy allows the logs:PutLogEvents action"},
	}
	for _, tt := range tests {
		err := Authorize(tt.key, tt.action, tt.group, tt.stream, "123456789012", "eu-west-1")
		if err == nil || err.Message != tt.want {
			t.Errorf("Authorize(%s on %q/%q) message\n got: %v\nwant: %s", tt.action, tt.group, tt.stream, err, tt.want)
		}
	}
}
