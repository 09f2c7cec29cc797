package deploy

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// servicePrefixes map the SDK's service ids onto IAM's action prefixes.
var servicePrefixes = map[string]string{
	"EC2": "ec2", "EBS": "ebs", "IAM": "iam", "STS": "sts", "CloudWatch Logs": "logs",
}

// deniedCodes are the error codes AWS services answer a request the
// caller's policies do not allow with.
var deniedCodes = map[string]bool{
	"AccessDenied": true, "AccessDeniedException": true, "UnauthorizedOperation": true,
	"UnauthorizedAccess": true, "Forbidden": true,
}

// badCredentialCodes mean the credentials themselves were refused.
var badCredentialCodes = map[string]bool{
	"InvalidClientTokenId": true, "UnrecognizedClientException": true, "AuthFailure": true,
	"SignatureDoesNotMatch": true, "ExpiredToken": true, "ExpiredTokenException": true,
	"InvalidAccessKeyId": true, "IncompleteSignature": true,
}

// DeniedError is an AWS request the caller's credentials may not make.
type DeniedError struct {
	Action string // IAM action, e.g. iam:CreateRole
	Doing  string // what keel was doing, e.g. "create role keel-prod-alice+hello"
	Fix    string // another way out than asking for the permission, if any
	Err    error
}

func (e *DeniedError) Error() string {
	s := fmt.Sprintf("%s: your credentials may not %s (%s was denied); ask your AWS administrator for %s",
		e.Doing, actionWords(e.Action), e.Action, e.Action)
	if e.Fix != "" {
		s += ", or " + e.Fix
	}
	return s + " (keel's README, section \"On AWS\", lists every permission keel run -env needs)"
}

func (e *DeniedError) Unwrap() error { return e.Err }

// actionWords says what an action does, for the user.
func actionWords(action string) string {
	if w, ok := map[string]string{
		"iam:CreateRole":                    "create IAM roles",
		"iam:GetRole":                       "read IAM roles",
		"iam:PutRolePolicy":                 "set an IAM role's inline policy",
		"iam:GetRolePolicy":                 "read an IAM role's inline policy",
		"iam:CreateInstanceProfile":         "create IAM instance profiles",
		"iam:GetInstanceProfile":            "read IAM instance profiles",
		"iam:AddRoleToInstanceProfile":      "add a role to an instance profile",
		"iam:PassRole":                      "pass an IAM role to an EC2 instance",
		"ebs:StartSnapshot":                 "upload EBS snapshots",
		"ebs:PutSnapshotBlock":              "write EBS snapshot blocks",
		"ebs:CompleteSnapshot":              "complete EBS snapshots",
		"ec2:RegisterImage":                 "register AMIs",
		"ec2:RunInstances":                  "launch EC2 instances",
		"ec2:CreateSecurityGroup":           "create security groups",
		"ec2:TerminateInstances":            "terminate EC2 instances",
		"ec2:StopInstances":                 "stop EC2 instances",
		"logs:CreateLogGroup":               "create CloudWatch Logs log groups",
		"logs:CreateLogStream":              "create CloudWatch Logs log streams",
		"logs:PutRetentionPolicy":           "set a log group's retention",
		"logs:DescribeLogGroups":            "list CloudWatch Logs log groups",
		"sts:GetCallerIdentity":             "find the AWS account they belong to",
		"ec2:DescribeImages":                "list AMIs",
		"ec2:DescribeInstances":             "list EC2 instances",
		"ec2:CreateTags":                    "tag EC2 resources",
		"ec2:AuthorizeSecurityGroupIngress": "open ports in security groups",
	}[action]; ok {
		return w
	}
	return "call " + action
}

// explain turns an AWS error into one a user can act on: a denied action
// names the permission (and fix, when there is another way out), refused
// credentials say so, an unreachable endpoint names it. doing says what
// keel was doing ("create role X").
func explain(err error, doing, fix string) error {
	if err == nil {
		return nil
	}
	var oe *smithy.OperationError
	var api smithy.APIError
	var re *smithyhttp.ResponseError
	forbidden := errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden
	if errors.As(err, &oe) && oe.ServiceID == "STS" && oe.OperationName == "GetCallerIdentity" &&
		(forbidden || errors.As(err, &api) && (deniedCodes[api.ErrorCode()] || badCredentialCodes[api.ErrorCode()])) {
		// GetCallerIdentity needs no permission: a refusal is of the credentials.
		return fmt.Errorf("%s: AWS refused your credentials (%v): check them with 'aws sts get-caller-identity', or refresh your session ('aws sso login')", doing, errorCode(err))
	}
	if errors.As(err, &api) && errors.As(err, &oe) {
		action := servicePrefixes[oe.ServiceID] + ":" + oe.OperationName
		switch {
		case deniedCodes[api.ErrorCode()]:
			return &DeniedError{Action: action, Doing: doing, Fix: fix, Err: err}
		case badCredentialCodes[api.ErrorCode()]:
			return fmt.Errorf("%s: AWS refused your credentials (%s: %s): check them with 'aws sts get-caller-identity', or refresh your session ('aws sso login')", doing, api.ErrorCode(), api.ErrorMessage())
		}
		return fmt.Errorf("%s: %s", doing, strings.TrimSpace(api.ErrorCode()+": "+api.ErrorMessage()))
	}
	// A 403 whose body the SDK could not read (a stand-in answering a
	// JSON protocol in XML, a proxy) is a denial all the same.
	if forbidden && oe != nil {
		return &DeniedError{Action: servicePrefixes[oe.ServiceID] + ":" + oe.OperationName, Doing: doing, Fix: fix, Err: err}
	}
	var ne net.Error
	var oe2 *net.OpError
	if errors.As(err, &oe2) || errors.As(err, &ne) {
		svc := "AWS"
		if oe != nil {
			svc = oe.ServiceID
		}
		return fmt.Errorf("%s: cannot reach the %s endpoint (%v): check your network, the region, and AWS_ENDPOINT_URL* if set", doing, svc, err)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// errorCode is the AWS error code of err, or "".
func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}
