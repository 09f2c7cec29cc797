//lint:file-ignore SA1019 the older tagging API is still part of the service, and clients use it

package logserver_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

func TestLogGroupLifecycle(t *testing.T) {
	ts := startServer(t)
	c, ctx := ts.adminClient(), ctxT(t)
	for i := 0; i < 5; i++ {
		if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(fmt.Sprintf("keel/g%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("keel/g1")})
	if apiCode(err) != "ResourceAlreadyExistsException" || apiMessage(err) != "The specified log group already exists" {
		t.Fatalf("duplicate group: %v", err)
	}

	// Paginate with limit 2: every group once, in name order.
	var names []string
	p := cwl.NewDescribeLogGroupsPaginator(c, &cwl.DescribeLogGroupsInput{Limit: aws.Int32(2), LogGroupNamePrefix: aws.String("keel/")})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, g := range out.LogGroups {
			names = append(names, *g.LogGroupName)
			if !strings.HasSuffix(*g.Arn, ":log-group:"+*g.LogGroupName+":*") || *g.LogGroupArn+":*" != *g.Arn {
				t.Errorf("arns: %s %s", *g.Arn, *g.LogGroupArn)
			}
			if g.CreationTime == nil || *g.CreationTime == 0 {
				t.Errorf("no creationTime")
			}
		}
	}
	if got := strings.Join(names, ","); got != "keel/g0,keel/g1,keel/g2,keel/g3,keel/g4" || pages != 3 {
		t.Fatalf("groups %s in %d pages", got, pages)
	}
	out, err := c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("g3")})
	if err != nil || len(out.LogGroups) != 1 || *out.LogGroups[0].LogGroupName != "keel/g3" {
		t.Fatalf("pattern: %v %v", out, err)
	}
	_, err = c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("g3"), LogGroupNamePrefix: aws.String("k")})
	if apiCode(err) != "InvalidParameterException" {
		t.Fatalf("prefix+pattern: %v", err)
	}
	if _, err := c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("keel/g3")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("keel/g3")})
	if apiCode(err) != "ResourceNotFoundException" || apiMessage(err) != "The specified log group does not exist." {
		t.Fatalf("delete missing: %v", err)
	}
	_, err = c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{NextToken: aws.String("n/forged")})
	if apiCode(err) != "InvalidParameterException" || apiMessage(err) != "The specified nextToken is invalid." {
		t.Fatalf("forged token: %v", err)
	}
}

func TestNameValidation(t *testing.T) {
	ts := startServer(t)
	c, ctx := ts.adminClient(), ctxT(t)
	if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("ok")}); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a", 513)
	groupCases := []struct {
		name, want string
	}{
		{"", "Value '' at 'logGroupName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{long, "Member must have length less than or equal to 512"},
		{"has space", `Value 'has space' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+`},
		{"ümlaut", "Member must satisfy regular expression pattern"},
		{"aws/lambda", "Log groups starting with AWS/ are reserved for AWS."},
	}
	for _, tc := range groupCases {
		_, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(tc.name)})
		if apiCode(err) != "InvalidParameterException" || !strings.Contains(apiMessage(err), tc.want) {
			t.Errorf("group %.20q: got %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(strings.Repeat("b", 512))}); err != nil {
		t.Errorf("512-char name refused: %v", err)
	}
	streamCases := []struct {
		name, want string
	}{
		{"", "Member must have length greater than or equal to 1"},
		{long, "Member must have length less than or equal to 512"},
		{"a:b", "Member must satisfy regular expression pattern: [^:*]*"},
		{"a*b", "Member must satisfy regular expression pattern: [^:*]*"},
	}
	for _, tc := range streamCases {
		_, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("ok"), LogStreamName: aws.String(tc.name)})
		if apiCode(err) != "InvalidParameterException" || !strings.Contains(apiMessage(err), tc.want) {
			t.Errorf("stream %.20q: got %v, want %q", tc.name, err, tc.want)
		}
	}
	// Two violations are counted and joined.
	_, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("bad name"), LogStreamName: aws.String("a:b")})
	if !strings.HasPrefix(apiMessage(err), "2 validation errors detected: ") || !strings.Contains(apiMessage(err), "; ") {
		t.Errorf("two violations: %v", err)
	}
	for _, name := range []string{"sp ace/ok", "ünïcode stream", "x/y#z"} {
		if _, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("ok"), LogStreamName: aws.String(name)}); err != nil {
			t.Errorf("stream %q refused: %v", name, err)
		}
	}
}

func TestRetentionPolicy(t *testing.T) {
	ts := startServer(t)
	c, ctx := ts.adminClient(), ctxT(t)
	g := aws.String("ret")
	if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: g}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		days int32
		code string
	}{{1, ""}, {3653, ""}, {30, ""}, {2, "InvalidParameterException"}, {0, "InvalidParameterException"}, {-1, "InvalidParameterException"}, {3654, "InvalidParameterException"}} {
		_, err := c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: g, RetentionInDays: aws.Int32(tc.days)})
		if apiCode(err) != tc.code {
			t.Errorf("retention %d: %v", tc.days, err)
		}
		if tc.code != "" && !strings.Contains(apiMessage(err), "Member must satisfy enum value set: [1, 3, 5, 7, 14, 30,") {
			t.Errorf("retention %d message: %s", tc.days, apiMessage(err))
		}
	}
	out, err := c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: g})
	if err != nil || out.LogGroups[0].RetentionInDays == nil || *out.LogGroups[0].RetentionInDays != 30 {
		t.Fatalf("retention not shown: %+v %v", out, err)
	}
	if _, err := c.DeleteRetentionPolicy(ctx, &cwl.DeleteRetentionPolicyInput{LogGroupName: g}); err != nil {
		t.Fatal(err)
	}
	out, _ = c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: g})
	if out.LogGroups[0].RetentionInDays != nil {
		t.Fatalf("retention still shown")
	}
	_, err = c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("missing"), RetentionInDays: aws.Int32(1)})
	if apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("missing group: %v", err)
	}
}

func TestTags(t *testing.T) {
	ts := startServer(t)
	c, ctx := ts.adminClient(), ctxT(t)
	g := aws.String("tagged")
	if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: g, Tags: map[string]string{"env": "dev"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TagLogGroup(ctx, &cwl.TagLogGroupInput{LogGroupName: g, Tags: map[string]string{"team": "keel"}}); err != nil {
		t.Fatal(err)
	}
	lt, err := c.ListTagsLogGroup(ctx, &cwl.ListTagsLogGroupInput{LogGroupName: g})
	if err != nil || len(lt.Tags) != 2 || lt.Tags["env"] != "dev" || lt.Tags["team"] != "keel" {
		t.Fatalf("list tags: %v %v", lt, err)
	}
	dg, _ := c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: g})
	arn := dg.LogGroups[0].LogGroupArn
	if _, err := c.UntagResource(ctx, &cwl.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"env"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: arn, Tags: map[string]string{"x": "1"}}); err != nil {
		t.Fatal(err)
	}
	lr, err := c.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: arn})
	if err != nil || len(lr.Tags) != 2 || lr.Tags["team"] != "keel" || lr.Tags["x"] != "1" {
		t.Fatalf("list tags for resource: %v %v", lr, err)
	}
	if _, err := c.UntagLogGroup(ctx, &cwl.UntagLogGroupInput{LogGroupName: g, Tags: []string{"x", "team"}}); err != nil {
		t.Fatal(err)
	}
	lt, _ = c.ListTagsLogGroup(ctx, &cwl.ListTagsLogGroupInput{LogGroupName: g})
	if len(lt.Tags) != 0 {
		t.Fatalf("tags left: %v", lt.Tags)
	}
	_, err = c.TagLogGroup(ctx, &cwl.TagLogGroupInput{LogGroupName: g, Tags: map[string]string{"bad{key}": "v"}})
	if apiCode(err) != "InvalidParameterException" {
		t.Fatalf("bad tag key: %v", err)
	}
	_, err = c.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:logs:us-east-1:000000000000:log-group:nope")})
	if apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("missing resource: %v", err)
	}
}
