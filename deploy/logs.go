package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// ensureLogs creates the environment's log group (with its retention) and
// the app's stream, with the user's credentials, saying so as the seed
// does. An existing group keeps its retention unless it has none and one
// was asked for.
func (c *Clients) ensureLogs(ctx context.Context, w io.Writer, group, stream string, retention int32) error {
	var exists *types.ResourceAlreadyExistsException
	fmt.Fprintf(w, "Creating Log Group %s ... ", group)
	_, err := c.Logs.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(group)})
	created := err == nil
	switch {
	case errors.As(err, &exists):
		fmt.Fprintln(w, "exists")
	case err != nil:
		fmt.Fprintln(w, "failed")
		return explain(err, "create log group "+group, "")
	default:
		fmt.Fprintln(w, "done")
	}
	if retention > 0 {
		set := created
		if !created {
			cur, err := c.groupRetention(ctx, group)
			if err != nil {
				return err
			}
			set = cur == 0
		}
		if set {
			if _, err := c.Logs.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String(group), RetentionInDays: aws.Int32(retention)}); err != nil {
				err = explain(err, fmt.Sprintf("set the retention of %s to %d days", group, retention), "")
				if created { // a group keel made and could not finish is not left behind
					c.Logs.DeleteLogGroup(context.WithoutCancel(ctx), &cwl.DeleteLogGroupInput{LogGroupName: aws.String(group)})
				}
				return err
			}
			fmt.Fprintf(w, "  retention %d days\n", retention)
		}
	}
	fmt.Fprintf(w, "Creating Log Stream %s > %s ... ", group, stream)
	_, err = c.Logs.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)})
	switch {
	case errors.As(err, &exists):
		fmt.Fprintln(w, "exists")
	case err != nil:
		fmt.Fprintln(w, "failed")
		return explain(err, fmt.Sprintf("create log stream %s > %s", group, stream), "")
	default:
		fmt.Fprintln(w, "done")
	}
	return nil
}

// groupRetention is a group's retention in days, 0 for never expire.
func (c *Clients) groupRetention(ctx context.Context, group string) (int32, error) {
	out, err := c.Logs.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(group)})
	if err != nil {
		return 0, explain(err, "read log group "+group, "")
	}
	for _, g := range out.LogGroups {
		if aws.ToString(g.LogGroupName) == group {
			return aws.ToInt32(g.RetentionInDays), nil
		}
	}
	return 0, nil
}
