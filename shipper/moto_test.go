package shipper_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/smithy-go"

	"github.com/keelvm/keel/internal/testutil"
	"github.com/keelvm/keel/shipper"
)

// TestShipperMoto ships through each transport to moto_server, an
// independent implementation of the API: the group and stream missing at
// first (the shipper creates them on ResourceNotFoundException, which
// moto answers in its own words), every line arrives once and in order.
// Then the service's error answers map to the codes the shipper sorts by.
func TestShipperMoto(t *testing.T) {
	m, err := testutil.StartMoto(t.TempDir())
	if err != nil {
		testutil.Unavailable(t, "%v", err)
	}
	t.Cleanup(m.Stop)
	ctx := context.Background()
	reader := sdkClient(m.Endpoint)
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			api := tr.api(t, m.Endpoint)
			group := "moto/" + tr.name
			s, err := shipper.New(shipper.Config{Client: api, Group: group, Stream: "app", Format: shipper.FormatText,
				Notice: func(m string) { t.Log(m) }, RetentionDays: 7, Linger: 20 * time.Millisecond, RetryBase: 20 * time.Millisecond, RetryMax: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			const n = 1500
			for i := range n {
				s.Log(shipper.Event{Message: fmt.Sprintf("line %05d", i)})
			}
			cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			if err := s.Close(cctx); err != nil {
				t.Fatal(err)
			}
			if st := s.Stats(); st.Sent != n || st.Lost+st.Dropped+st.Rejected != 0 {
				t.Fatalf("stats %+v", st)
			}
			out, err := reader.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("app"),
				StartFromHead: aws.Bool(true), Limit: aws.Int32(10000)})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Events) != n {
				t.Fatalf("%d events in the stream, %d logged", len(out.Events), n)
			}
			for i, e := range out.Events {
				if want := fmt.Sprintf("line %05d", i); *e.Message != want {
					t.Fatalf("event %d is %q, want %q", i, *e.Message, want)
				}
			}
			gs, err := reader.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(group)})
			if err != nil || len(gs.LogGroups) != 1 || gs.LogGroups[0].RetentionInDays == nil || *gs.LogGroups[0].RetentionInDays != 7 {
				t.Fatalf("group %s: %+v, %v: want it with 7 days' retention", group, gs, err)
			}

			for _, c := range []struct {
				name string
				call func() error
				code string
			}{
				{"group exists", func() error { return api.CreateLogGroup(ctx, group) }, "ResourceAlreadyExistsException"},
				{"stream exists", func() error { return api.CreateLogStream(ctx, group, "app") }, "ResourceAlreadyExistsException"},
				{"no group", func() error { return api.CreateLogStream(ctx, group+"-missing", "app") }, "ResourceNotFoundException"},
				{"no stream", func() error {
					_, err := api.PutLogEvents(ctx, group, "missing", []byte(fmt.Sprintf(
						`{"logGroupName":%q,"logStreamName":"missing","logEvents":[{"timestamp":%d,"message":"x"}]}`, group, time.Now().UnixMilli())))
					return err
				}, "ResourceNotFoundException"},
			} {
				err := c.call()
				var ae smithy.APIError
				if !errors.As(err, &ae) || ae.ErrorCode() != c.code {
					t.Errorf("%s: %v, want %s", c.name, err, c.code)
				}
			}
		})
	}
}
