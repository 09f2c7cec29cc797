// Package cwlsdk adapts aws-sdk-go-v2's CloudWatch Logs client (or
// anything with its methods, such as tests' fakes) to the shipper's API.
// `keel ship` and the tests use it; the init does not (it links
// shipper/cwlhttp instead, without the service package). It imports no
// keel package but cwlhttp, so that the shipper's own tests may use it.
package cwlsdk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/keelvm/keel/shipper/cwlhttp"
)

// SDKAPI is the part of the SDK's client the adapter uses;
// *cloudwatchlogs.Client satisfies it.
type SDKAPI interface {
	PutLogEvents(ctx context.Context, in *cwl.PutLogEventsInput, optFns ...func(*cwl.Options)) (*cwl.PutLogEventsOutput, error)
	CreateLogGroup(ctx context.Context, in *cwl.CreateLogGroupInput, optFns ...func(*cwl.Options)) (*cwl.CreateLogGroupOutput, error)
	CreateLogStream(ctx context.Context, in *cwl.CreateLogStreamInput, optFns ...func(*cwl.Options)) (*cwl.CreateLogStreamOutput, error)
	PutRetentionPolicy(ctx context.Context, in *cwl.PutRetentionPolicyInput, optFns ...func(*cwl.Options)) (*cwl.PutRetentionPolicyOutput, error)
}

// Client is an SDKAPI with the shipper's methods. Errors are the SDK's
// (they satisfy smithy-go's APIError as cwlhttp's do).
type Client struct {
	api SDKAPI
	sdk *cwl.Client // set when api is the SDK's: bodies go out as written
}

// Wrap adapts api.
func Wrap(api SDKAPI) *Client {
	c := &Client{api: api}
	c.sdk, _ = api.(*cwl.Client)
	return c
}

// noSDKRetry turns the SDK's own retries off: the shipper retries whole
// batches itself, forever and with its own backoff, and counts them.
func noSDKRetry(o *cwl.Options) { o.Retryer = aws.NopRetryer{} }

// PutLogEvents makes one PutLogEvents call with the request body. With
// the SDK's client, the body goes out as written: the SDK's serializer
// would walk 10,000 events of pointers to build the same JSON again, and
// that was most of the shipper's CPU. Signing, credentials, the endpoint
// and error decoding stay the SDK's. Any other SDKAPI (tests' fakes) gets
// the input decoded from the body, which also checks that the body is what
// the SDK would have sent.
func (c *Client) PutLogEvents(ctx context.Context, group, stream string, body []byte) (*cwlhttp.PutResult, error) {
	var out *cwl.PutLogEventsOutput
	var err error
	if c.sdk != nil {
		in := &cwl.PutLogEventsInput{LogGroupName: &group, LogStreamName: &stream, LogEvents: []types.InputLogEvent{}}
		out, err = c.sdk.PutLogEvents(ctx, in, noSDKRetry, withBody(body))
	} else {
		var in *cwl.PutLogEventsInput
		if in, err = DecodeBody(body); err != nil {
			return nil, err
		}
		out, err = c.api.PutLogEvents(ctx, in, noSDKRetry)
	}
	if err != nil {
		return nil, err
	}
	res := &cwlhttp.PutResult{}
	if out != nil && out.RejectedLogEventsInfo != nil {
		ri := out.RejectedLogEventsInfo
		res.Rejected = &cwlhttp.Rejected{TooNewLogEventStartIndex: ri.TooNewLogEventStartIndex,
			TooOldLogEventEndIndex: ri.TooOldLogEventEndIndex, ExpiredLogEventEndIndex: ri.ExpiredLogEventEndIndex}
	}
	return res, nil
}

// CreateLogGroup creates group.
func (c *Client) CreateLogGroup(ctx context.Context, group string) error {
	_, err := c.api.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: &group}, noSDKRetry)
	return err
}

// CreateLogStream creates stream in group.
func (c *Client) CreateLogStream(ctx context.Context, group, stream string) error {
	_, err := c.api.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: &group, LogStreamName: &stream}, noSDKRetry)
	return err
}

// PutRetentionPolicy sets group's retention.
func (c *Client) PutRetentionPolicy(ctx context.Context, group string, days int32) error {
	_, err := c.api.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: &group, RetentionInDays: &days}, noSDKRetry)
	return err
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

// DecodeBody turns a request body back into the SDK's input.
func DecodeBody(b []byte) (*cwl.PutLogEventsInput, error) {
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
