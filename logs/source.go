package logs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
)

// Source selects the events to read: one log group, optionally narrowed to
// exact streams or a stream-name prefix, and a filter pattern.
type Source struct {
	Client       *cwl.Client
	Group        string
	Streams      []string // exact stream names; empty: all streams (or Prefix)
	StreamPrefix string
	Pattern      string
	// Notice reports what the reader does on the user's behalf (falling
	// back to polling, reconnecting). Nil discards.
	Notice func(string)
}

func (s *Source) notice(format string, args ...any) {
	if s.Notice != nil {
		s.Notice(fmt.Sprintf(format, args...))
	}
}

func (s *Source) filterInput(start, end int64) *cwl.FilterLogEventsInput {
	in := &cwl.FilterLogEventsInput{LogGroupName: aws.String(s.Group)}
	if start > 0 {
		in.StartTime = aws.Int64(start)
	}
	if end > 0 {
		in.EndTime = aws.Int64(end)
	}
	if len(s.Streams) > 0 {
		in.LogStreamNames = s.Streams
	} else if s.StreamPrefix != "" {
		in.LogStreamNamePrefix = aws.String(s.StreamPrefix)
	}
	if s.Pattern != "" {
		in.FilterPattern = aws.String(s.Pattern)
	}
	return in
}

// read delivers every event in [start, end] (ms, inclusive; 0 = open) that
// p has not delivered, in the order the service returns them, and returns
// the newest timestamp it saw.
func (s *Source) read(ctx context.Context, start, end int64, p *pass, fn func(Event) error) (int64, error) {
	newest := int64(0)
	pg := cwl.NewFilterLogEventsPaginator(s.Client, s.filterInput(start, end))
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return newest, s.explain(err)
		}
		for _, fe := range out.Events {
			e := Event{Group: s.Group, Stream: aws.ToString(fe.LogStreamName), Timestamp: aws.ToInt64(fe.Timestamp),
				IngestionTime: aws.ToInt64(fe.IngestionTime), Message: aws.ToString(fe.Message), ID: aws.ToString(fe.EventId)}
			newest = max(newest, e.Timestamp)
			if !p.first(e) {
				continue
			}
			if err := fn(e); err != nil {
				return newest, err
			}
		}
	}
	return newest, nil
}

// History delivers the events in [since, until] (until zero: up to now).
func (s *Source) History(ctx context.Context, since, until time.Time, fn func(Event) error) error {
	_, err := s.read(ctx, ms(since), ms(until), newDedup(0).pass(), fn)
	return err
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// explained is a service error with a message that says what to do; it
// keeps the error, so that callers still tell fatal errors from others.
type explained struct {
	msg string
	err error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }

// explain turns the service errors a user can cause into messages that say
// what to do.
func (s *Source) explain(err error) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		var ne net.Error
		var oe *net.OpError
		if errors.As(err, &oe) || errors.As(err, &ne) {
			return fmt.Errorf("cannot reach the CloudWatch Logs endpoint (%w): check the endpoint URL, the network, and that the server runs", err)
		}
		return err
	}
	var msg string
	switch ae.ErrorCode() {
	case "ResourceNotFoundException":
		msg = fmt.Sprintf("log group %q does not exist (yet): check -env and the app name, or list groups with 'aws logs describe-log-groups'", s.Group)
	case "InvalidParameterException":
		msg = "the service refused the query: " + ae.ErrorMessage()
	case "UnrecognizedClientException", "InvalidSignatureException", "MissingAuthenticationTokenException":
		msg = fmt.Sprintf("the credentials were refused (%s: %s): check your AWS profile, or the local server's credentials file", ae.ErrorCode(), ae.ErrorMessage())
	case "AccessDeniedException":
		msg = "access denied: " + ae.ErrorMessage()
	default:
		return err
	}
	return &explained{msg, err}
}

// groupARN finds the ARN StartLiveTail needs, and confirms the group exists.
func (s *Source) groupARN(ctx context.Context) (string, error) {
	out, err := s.Client.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(s.Group)})
	if err != nil {
		return "", s.explain(err)
	}
	for _, g := range out.LogGroups {
		if aws.ToString(g.LogGroupName) == s.Group {
			if g.LogGroupArn != nil {
				return *g.LogGroupArn, nil
			}
			arn := aws.ToString(g.Arn)
			if len(arn) > 2 && arn[len(arn)-2:] == ":*" {
				arn = arn[:len(arn)-2]
			}
			return arn, nil
		}
	}
	return "", s.explain(&types.ResourceNotFoundException{Message: aws.String("no such group")})
}

// Check confirms that the group exists and, when exact streams are named,
// that they do, so that a wrong app name gets a clear error instead of no
// output. With wait, missing streams are only reported through Notice: a
// tail may start before the app writes its first line.
func (s *Source) Check(ctx context.Context, wait bool) error {
	if _, err := s.groupARN(ctx); err != nil {
		return err
	}
	for _, name := range s.Streams {
		out, err := s.Client.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String(s.Group), LogStreamNamePrefix: aws.String(name), Limit: aws.Int32(1)})
		if err != nil {
			return s.explain(err)
		}
		if len(out.LogStreams) == 1 && aws.ToString(out.LogStreams[0].LogStreamName) == name {
			continue
		}
		msg := fmt.Sprintf("log group %s has no stream %q: no such app, or it has not logged yet", s.Group, name)
		if wait {
			s.notice("%s; waiting for it", msg)
			continue
		}
		return errors.New(msg + s.suggest(ctx))
	}
	return nil
}

// suggest lists a few streams that do exist.
func (s *Source) suggest(ctx context.Context) string {
	out, err := s.Client.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String(s.Group), Limit: aws.Int32(10)})
	if err != nil || len(out.LogStreams) == 0 {
		return ""
	}
	var names []string
	for _, st := range out.LogStreams {
		names = append(names, aws.ToString(st.LogStreamName))
	}
	return " (streams there: " + strings.Join(names, ", ") + ")"
}
