package logserver_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// rawCall posts body to the server as operation op, unsigned (the server
// runs with -auth=none), and returns status, the decoded error body and the
// response headers.
func rawCall(t *testing.T, ts *testServer, target string, body []byte) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, ts.endpoint+"/", bytes.NewReader(body))
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("response is not JSON: %q", b)
	}
	return resp.StatusCode, m, resp.Header
}

func TestProtocolErrors(t *testing.T) {
	ts := startServer(t, withAuthNone)
	rawCall(t, ts, "Logs_20140328.CreateLogGroup", []byte(`{"logGroupName":"p"}`))
	rawCall(t, ts, "Logs_20140328.CreateLogStream", []byte(`{"logGroupName":"p","logStreamName":"s"}`))
	huge := append([]byte(`{"logGroupName":"p","logStreamName":"s","logEvents":[{"timestamp":1,"message":"`), bytes.Repeat([]byte("x"), 8<<20)...)
	huge = append(huge, `"}]}`...)
	cases := []struct {
		name, target, body string
		status             int
		code, msg          string
	}{
		{"unknown operation", "Logs_20140328.LaunchRockets", `{}`, 400, "UnknownOperationException", "LaunchRockets"},
		{"no target", "", `{}`, 400, "UnknownOperationException", "supports"},
		{"wrong service", "DynamoDB_20120810.ListTables", `{}`, 400, "UnknownOperationException", ""},
		{"malformed json", "Logs_20140328.CreateLogGroup", `{"logGroupName":`, 400, "SerializationException", "ends before"},
		{"syntax error", "Logs_20140328.CreateLogGroup", `{"logGroupName" "x"}`, 400, "SerializationException", "byte offset"},
		{"not an object", "Logs_20140328.CreateLogGroup", `[1,2]`, 400, "SerializationException", "must be a JSON object"},
		{"wrong type", "Logs_20140328.DescribeLogGroups", `{"limit":"ten"}`, 400, "SerializationException", "'limit'"},
		{"huge limit", "Logs_20140328.DescribeLogGroups", `{"limit":1e30}`, 400, "SerializationException", "'limit'"},
		{"big limit", "Logs_20140328.GetLogEvents", `{"logGroupName":"p","logStreamName":"s","limit":99999999999}`, 400, "InvalidParameterException", "less than or equal to 10000"},
		{"unknown field", "Logs_20140328.CreateLogGroup", `{"logGroupName":"q","logGroupNmae":"x"}`, 400, "SerializationException", `"logGroupNmae"`},
		{"trailing data", "Logs_20140328.CreateLogGroup", `{"logGroupName":"q"} {}`, 400, "SerializationException", "after the JSON object"},
		{"null member", "Logs_20140328.CreateLogGroup", `{"logGroupName":null}`, 400, "InvalidParameterException", "Value null at 'logGroupName' failed to satisfy constraint: Member must not be null"},
		{"missing member", "Logs_20140328.CreateLogStream", `{}`, 400, "InvalidParameterException", "2 validation errors detected"},
		{"null event", "Logs_20140328.PutLogEvents", `{"logGroupName":"p","logStreamName":"s","logEvents":[{"timestamp":1}]}`, 400, "InvalidParameterException", "'logEvents.1.member.message'"},
		{"negative start", "Logs_20140328.GetLogEvents", `{"logGroupName":"p","logStreamName":"s","startTime":-1}`, 400, "InvalidParameterException", "greater than or equal to 0"},
		{"oversized body", "Logs_20140328.PutLogEvents", string(huge), 413, "RequestEntityTooLargeException", "exceeds the server's limit"},
		{"empty body is {}", "Logs_20140328.DescribeLogGroups", ``, 200, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, m, h := rawCall(t, ts, tc.target, []byte(tc.body))
			if status != tc.status {
				t.Fatalf("status %d, want %d (%v)", status, tc.status, m)
			}
			if h.Get("x-amzn-RequestId") == "" || h.Get("Date") == "" {
				t.Errorf("missing x-amzn-RequestId or Date")
			}
			if tc.code == "" {
				return
			}
			if m["__type"] != tc.code || !strings.Contains(m["message"].(string), tc.msg) {
				t.Fatalf("got %v, want %s %q", m, tc.code, tc.msg)
			}
		})
	}
	// The server still serves after all that.
	if status, m, _ := rawCall(t, ts, "Logs_20140328.DescribeLogGroups", []byte(`{}`)); status != 200 {
		t.Fatalf("server broken: %d %v", status, m)
	}
}

func TestUnsignedRequestRefused(t *testing.T) {
	ts := startServer(t)
	status, m, _ := rawCall(t, ts, "Logs_20140328.DescribeLogGroups", []byte(`{}`))
	if status != 400 || m["__type"] != "MissingAuthenticationTokenException" {
		t.Fatalf("unsigned: %d %v", status, m)
	}
}
