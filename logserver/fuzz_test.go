package logserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/keelvm/keel/logserver/store"
)

// FuzzDecodeRequest feeds arbitrary bodies to every operation through the
// full HTTP handler. Whatever the input, the answer must be an AWS-shaped
// response and never a recovered panic (InternalServerException).
func FuzzDecodeRequest(f *testing.F) {
	seeds := []string{
		`{}`, ``, `null`, `[]`, `{"logGroupName":"g"}`, `{"logGroupName":"g","logStreamName":"s"}`,
		`{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":1,"message":"m"}]}`,
		`{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":-1,"message":""},{"timestamp":null}]}`,
		`{"logGroupName":"g","logStreamName":"s","startFromHead":true,"limit":1,"nextToken":"f/AAAA"}`,
		`{"logGroupName":"g","logStreamNames":["s"],"startTime":0,"endTime":9223372036854775807}`,
		`{"logGroupName":"g","retentionInDays":7}`, `{"resourceArn":"arn:aws:logs:r:a:log-group:g","tags":{"a":"b"}}`,
		`{"limit":1e400}`, `{"logGroupName":"\ud800"}`, "{\"logGroupName\":\"\xff\"}", `{"logGroupName":"g","logGroupName":"h"}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	dir := f.TempDir()
	st, err := store.Open(dir, store.Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	srv, err := New(Config{Store: st, TokenKey: bytes.Repeat([]byte{7}, 32), Quotas: Quotas{Off: true}})
	if err != nil {
		f.Fatal(err)
	}
	_ = st.CreateGroup("g", nil)
	_ = st.CreateStream("g", "s")
	ops := srv.Operations()
	f.Fuzz(func(t *testing.T, opIndex uint8, body []byte) {
		op := ops[int(opIndex)%len(ops)]
		if op == "DeleteLogGroup" || op == "DeleteLogStream" {
			op = "DescribeLogStreams" // keep the fixture alive
		}
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", targetPrefix+op)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%s: 200 with invalid JSON %q", op, rec.Body.Bytes())
			}
			return
		}
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Type == "" {
			t.Fatalf("%s: status %d with a body clients cannot parse: %q", op, rec.Code, rec.Body.Bytes())
		}
		if e.Type == "InternalServerException" {
			t.Fatalf("%s: handler panicked on %q", op, body)
		}
	})
}

// FuzzPutDecodeFast checks the fast PutLogEvents decoder against the strict
// one: whenever the fast path accepts a body, the strict decoder accepts it
// too and yields the same values.
func FuzzPutDecodeFast(f *testing.F) {
	for _, s := range []string{
		`{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":1,"message":"m"}]}`,
		` { "logEvents" : [ { "message" : "a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00\ud800x" , "timestamp" : -0 } ] , "sequenceToken":"t" } `,
		"{\"logEvents\":[{\"timestamp\":9223372036854775807,\"message\":\"\xff\xfe ok \xe2\x82\"}]}",
		`{"logEvents":[]}`, `{}`, `{"logEvents":[{"timestamp":1.5,"message":"m"}]}`,
		`{"logEvents":[{"timestamp":1,"message":"m","x":1}]}`, `{"logGroupName":"a","logGroupName":"b"}`,
		`{"logEvents":[{"timestamp":01,"message":"m"}]}`, `{"logEvents":[{"timestamp":1e3,"message":"m"}]}`,
		`{"logEvents":[{"message":"\udc00\ud800\u0000"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast putLogEventsInput
		if !decodePutFast(body, &fast) {
			return
		}
		var strict putLogEventsInput
		if e := decodeInput("PutLogEvents", body, &strict); e != nil {
			t.Fatalf("fast path accepted %q, strict refused: %v", body, e)
		}
		if !reflect.DeepEqual(fast, strict) {
			t.Fatalf("fast and strict differ on %q:\nfast   %s\nstrict %s", body, dump(fast), dump(strict))
		}
	})
}

func dump(in putLogEventsInput) string {
	b, _ := json.Marshal(in)
	return string(b)
}
