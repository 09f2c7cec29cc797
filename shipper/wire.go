package shipper

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// send makes one PutLogEvents call with the request b. With the SDK's
// client, the body goes out as written: the SDK's serializer would walk
// 10,000 events of pointers to build the same JSON again, and that was
// most of the shipper's CPU. Signing, credentials, the endpoint and error
// decoding stay the SDK's. Any other API (tests' fakes) gets the input
// decoded from the body, which also checks that the body is what the SDK
// would have sent.
func (s *Shipper) send(ctx context.Context, b *body) (*cwl.PutLogEventsOutput, error) {
	if s.sdk != nil {
		in := &cwl.PutLogEventsInput{LogGroupName: &s.cfg.Group, LogStreamName: &s.cfg.Stream, LogEvents: []types.InputLogEvent{}}
		return s.sdk.PutLogEvents(ctx, in, noSDKRetry, withBody(b.buf))
	}
	in, err := decodeBody(b.buf)
	if err != nil {
		return nil, err
	}
	return s.cfg.Client.PutLogEvents(ctx, in, noSDKRetry)
}

// withBody replaces the serialized request with body.
func withBody(body []byte) func(*cwl.Options) {
	return func(o *cwl.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Serialize.Insert(rawBody(body), "OperationSerializer", middleware.After)
		})
	}
}

// rawBody is a serialize step that puts a body written beforehand in place
// of the one the SDK serialized (from an input with no events).
type rawBody []byte

func (rawBody) ID() string { return "KeelPutLogEventsBody" }

func (b rawBody) HandleSerialize(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (middleware.SerializeOutput, middleware.Metadata, error) {
	req, ok := in.Request.(*smithyhttp.Request)
	if !ok {
		return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("put log events: unexpected transport request %T", in.Request)
	}
	r, err := req.SetStream(bytes.NewReader(b))
	if err != nil {
		return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("put log events: set the request body: %w", err)
	}
	in.Request = r
	return next.HandleSerialize(ctx, in)
}

// decodeBody turns a request body back into the SDK's input.
func decodeBody(b []byte) (*cwl.PutLogEventsInput, error) {
	var req struct {
		LogGroupName  string `json:"logGroupName"`
		LogStreamName string `json:"logStreamName"`
		LogEvents     []struct {
			Timestamp int64  `json:"timestamp"`
			Message   string `json:"message"`
		} `json:"logEvents"`
	}
	if err := json.Unmarshal(b, &req); err != nil {
		return nil, fmt.Errorf("put log events: decode the request body: %w", err)
	}
	in := &cwl.PutLogEventsInput{LogGroupName: &req.LogGroupName, LogStreamName: &req.LogStreamName,
		LogEvents: make([]types.InputLogEvent, len(req.LogEvents))}
	for i := range req.LogEvents {
		e := &req.LogEvents[i]
		in.LogEvents[i] = types.InputLogEvent{Timestamp: &e.Timestamp, Message: &e.Message}
	}
	return in, nil
}
