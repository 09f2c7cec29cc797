package deploy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ebs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/keelvm/keel/logs"
)

// Clients are the AWS service clients of one region.
type Clients struct {
	Region string
	EC2    *ec2.Client
	EBS    *ebs.Client
	IAM    *iam.Client
	STS    *sts.Client
	Logs   *cwl.Client
}

// Connect loads the standard AWS configuration (profile, environment, SSO;
// region overrides the configured one when not empty) and checks that it
// holds a region and credentials, so that their absence is said once, in
// words, before anything is attempted.
func Connect(ctx context.Context, region string) (*Clients, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: set AWS_REGION, a region in your AWS profile, or pass -region")
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return nil, fmt.Errorf("no AWS credentials: configure a profile ('aws configure' or 'aws sso login') or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (%v)", err)
	}
	var logOpts []func(*cwl.Options)
	// Live tail's "stream-" host prefix exists only on AWS's own
	// endpoints: a stand-in at 127.0.0.1 cannot have it.
	if os.Getenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS") != "" || os.Getenv("AWS_ENDPOINT_URL") != "" {
		logOpts = append(logOpts, logs.WithoutHostPrefix)
	}
	return &Clients{
		Region: cfg.Region,
		EC2:    ec2.NewFromConfig(cfg),
		EBS:    ebs.NewFromConfig(cfg),
		IAM:    iam.NewFromConfig(cfg),
		STS:    sts.NewFromConfig(cfg),
		Logs:   cwl.NewFromConfig(cfg, logOpts...),
	}, nil
}

// Identity is the caller's account and partition, from STS.
type Identity struct {
	Account, Partition, ARN string
}

// Whoami asks STS who the credentials are.
func (c *Clients) Whoami(ctx context.Context) (Identity, error) {
	out, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Identity{}, explain(err, "find your AWS account", "")
	}
	id := Identity{Account: aws.ToString(out.Account), ARN: aws.ToString(out.Arn), Partition: "aws"}
	if p := strings.Split(id.ARN, ":"); len(p) > 2 && p[0] == "arn" && p[1] != "" {
		id.Partition = p[1]
	}
	return id, nil
}
