package deploy

import (
	"github.com/keelvm/keel/bootcfg"

	"errors"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

func TestExplain(t *testing.T) {
	op := func(svc, name, code string) error {
		return &smithy.OperationError{ServiceID: svc, OperationName: name, Err: &smithy.GenericAPIError{Code: code, Message: "msg"}}
	}
	for _, tc := range []struct {
		err        error
		doing, fix string
		want       []string
	}{
		{op("IAM", "CreateRole", "AccessDenied"), "create IAM role keel-prod-a+b", roleFix,
			[]string{"create IAM role keel-prod-a+b: your credentials may not create IAM roles (iam:CreateRole was denied); ask your AWS administrator for iam:CreateRole, or pass -role NAME"}},
		{op("EC2", "RunInstances", "UnauthorizedOperation"), "launch", "", []string{"may not launch EC2 instances (ec2:RunInstances was denied)"}},
		{op("EBS", "PutSnapshotBlock", "AccessDeniedException"), "write", "", []string{"ebs:PutSnapshotBlock was denied"}},
		{op("CloudWatch Logs", "CreateLogGroup", "AccessDeniedException"), "create log group keel/prod", "", []string{"logs:CreateLogGroup was denied", "README"}},
		{op("EC2", "DescribeImages", "AuthFailure"), "look", "", []string{"AWS refused your credentials (AuthFailure", "aws sts get-caller-identity"}},
		{op("STS", "GetCallerIdentity", "InvalidClientTokenId"), "find your AWS account", "", []string{"AWS refused your credentials"}},
		{op("EC2", "RegisterImage", "InvalidAMIName.Duplicate"), "register", "", []string{"register: InvalidAMIName.Duplicate: msg"}},
		{errors.New("plain"), "do", "", []string{"do: plain"}},
	} {
		got := explain(tc.err, tc.doing, tc.fix).Error()
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("explain(%v) = %q, want %q in it", tc.err, got, w)
			}
		}
	}
	var d *DeniedError
	if !errors.As(explain(op("IAM", "PutRolePolicy", "AccessDenied"), "x", ""), &d) || d.Action != "iam:PutRolePolicy" {
		t.Errorf("a denial is a DeniedError naming the action: %+v", d)
	}
}

func TestNames(t *testing.T) {
	if n, err := RoleName("prod", "alice", "hello"); err != nil || n != "keel-prod-alice+hello" {
		t.Errorf("RoleName = %q, %v", n, err)
	}
	if _, err := RoleName("prod", strings.Repeat("u", 30), strings.Repeat("a", 30)); err == nil || !strings.Contains(err.Error(), "IAM allows 64") {
		t.Errorf("a long role name: %v", err)
	}
	if got := amiName("alice/hello:1.0+b", "0123456789abcdef"); got != "keel alice/hello 1.0_b 0123456789ab" {
		t.Errorf("amiName = %q", got)
	}
	for env, ok := range map[string]bool{"prod": true, "test-1": true, "Prod": false, "": false, "a/b": false, strings.Repeat("e", 21): false} {
		if err := CheckEnv(env); (err == nil) != ok {
			t.Errorf("CheckEnv(%q) = %v", env, err)
		}
	}
}

func TestUserData(t *testing.T) {
	got := string(UserData([]string{"keel.logs.group=keel/prod", "keel.env=A=b c"}))
	want := "# keel launch settings (keel run -env): key=value lines, # comments\nkeel.logs.group=keel/prod\n\"keel.env=A=b c\"\n"
	if got != want {
		t.Errorf("UserData = %q, want %q", got, want)
	}
	// The init reads back what was meant, the value with its space.
	var c bootcfg.Config
	if err := c.ApplyUserData([]byte(got + "keel.logs.stream=u/a\n")); err != nil {
		t.Fatal(err)
	}
	if len(c.Env) != 1 || c.Env[0] != "A=b c" {
		t.Errorf("env read back: %q", c.Env)
	}
}

func TestProgressBar(t *testing.T) {
	var plain strings.Builder
	p := newProgressBar(&plain, false)
	for i := 1; i <= 20; i++ {
		p.update(i, 20, int64(i)*BlockSize)
	}
	p.end()
	if lines := strings.Count(plain.String(), "\n"); lines != 10 || strings.Contains(plain.String(), "\r") || !strings.Contains(plain.String(), "20/20 blocks (100%)") {
		t.Errorf("plain progress: %d lines:\n%s", lines, plain.String())
	}
	var tty strings.Builder
	p = newProgressBar(&tty, true)
	p.update(1, 2, BlockSize)
	p.update(2, 2, 2*BlockSize)
	p.end()
	if !strings.HasPrefix(tty.String(), "\r  uploading [") || !strings.Contains(tty.String(), "2/2 blocks") || !strings.HasSuffix(tty.String(), "\n") {
		t.Errorf("terminal progress: %q", tty.String())
	}
}
