package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ebs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keelvm/keel/deploy"
	"github.com/keelvm/keel/iampolicy"
	"github.com/keelvm/keel/image/store"
	"github.com/keelvm/keel/internal/testutil"
)

// awsClients reads what keel made in moto, with the given keys.
type awsClients struct {
	ec2  *ec2.Client
	ebs  *ebs.Client
	iam  *iam.Client
	logs *cwl.Client
}

func newAWSClients(endpoint, keyID, secret string) awsClients {
	creds := credentials.NewStaticCredentialsProvider(keyID, secret, "")
	ep := aws.String(endpoint)
	return awsClients{
		ec2:  ec2.New(ec2.Options{Region: "us-east-1", BaseEndpoint: ep, Credentials: creds}),
		ebs:  ebs.New(ebs.Options{Region: "us-east-1", BaseEndpoint: ep, Credentials: creds}),
		iam:  iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: ep, Credentials: creds}),
		logs: cwl.New(cwl.Options{Region: "us-east-1", BaseEndpoint: ep, Credentials: creds}),
	}
}

func startMoto(t *testing.T, env ...string) *testutil.Moto {
	t.Helper()
	m, err := testutil.StartMoto(t.TempDir(), env...)
	if err != nil {
		testutil.Unavailable(t, "%v", err)
	}
	t.Cleanup(m.Stop)
	return m
}

// TestDeployEC2 deploys a fused -target aws image with keel run -env prod
// against moto_server as AWS (one server for the whole story), and checks
// what AWS then holds: the snapshot's blocks, the AMI, the role and its
// policy, the instance, the log group; a second run reuses the AMI; ps
// lists both instances and kill ends one; and the errors a user can cause.
func TestDeployEC2(t *testing.T) {
	// The enforcing server of the IAM test starts meanwhile: moto_server
	// takes seconds to start.
	type started struct {
		m   *testutil.Moto
		err error
	}
	enforcing := make(chan started, 1)
	go func() {
		m, err := testutil.StartMoto(t.TempDir(), "INITIAL_NO_AUTH_ACTION_COUNT=6")
		enforcing <- started{m, err}
	}()
	t.Cleanup(func() { (<-enforcing).m.Stop() }) // nil-safe
	moto := startMoto(t)
	homeDir, initBin, hello := fuseHome(t)
	fenv := []string{"KEEL_INIT=" + initBin}
	if r := keelEnv(t, homeDir, fenv, "fuse", hello, "-name", "test/hello:1", "-target", "aws"); r.code != 0 {
		t.Fatalf("fuse -target aws: %+v", r)
	}
	if r := keelEnv(t, homeDir, fenv, "fuse", hello, "-name", "test/local:1"); r.code != 0 {
		t.Fatalf("fuse: %+v", r)
	}
	st := store.Store{Dir: filepath.Join(homeDir, "images")}
	ref, _ := store.ParseRef("test/hello:1")
	man, err := st.Load(ref)
	if err != nil {
		t.Fatal(err)
	}
	disk, err := os.ReadFile(filepath.Join(st.Path(ref), "disk.raw"))
	if err != nil {
		t.Fatal(err)
	}
	var sha string
	for _, a := range man.Artifacts {
		if a.Name == "disk.raw" {
			sha = a.SHA256
		}
	}
	rec := newRecorder(t, moto.Endpoint)
	env := append(moto.Env("AKIDTEST", "secret"), "AWS_ENDPOINT_URL_EC2="+rec.url)
	c := newAWSClients(moto.Endpoint, "AKIDTEST", "secret")
	ctx := context.Background()

	t.Run("errors before AWS", func(t *testing.T) {
		for _, tc := range []struct {
			env  []string
			args []string
			want string
		}{
			{moto.Env("", "")[2:], []string{"run", "test/hello:1", "-env", "prod", "-detach"}, "no AWS credentials"},
			{env, []string{"run", "test/local:1", "-env", "prod"}, "has no disk.raw to make an AMI of: fuse it for EC2 with 'keel fuse " + hello + " -name test/local:1 -target aws -force'"},
			{env, []string{"run", "test/hello:1", "-env", "Prod"}, `-env="Prod"`},
			{env, []string{"run", "test/hello:1", "-env", "prod", "-set", "keel.colour=blue"}, `unknown key "keel.colour"`},
			{env, []string{"run", "test/hello:1", "-env", "prod", "-logs.retention", "8"}, "-logs.retention 8"},
			{env, []string{"kill", "-env", "prod", "i-0000"}, "no instance i-0000 of keel in environment prod"},
		} {
			r := keelEnv(t, homeDir, tc.env, tc.args...)
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("keel %v: exit %d, stderr %q; want %q", tc.args, r.code, r.stderr, tc.want)
			}
		}
		if out, _ := c.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}}); out != nil && len(out.Images) > 0 {
			t.Errorf("refused runs registered %d AMIs", len(out.Images))
		}
	})

	r := keelEnv(t, homeDir, env, "run", "test/hello:1", "-env", "prod", "-detach", "-set", "keel.env=MODE=prod")
	if r.code != 0 {
		t.Fatalf("keel run -env prod: %+v", r)
	}
	first := strings.TrimSpace(r.stdout)
	for _, want := range []string{"Creating Log Group keel/prod ... done", "Creating Log Stream keel/prod > test/hello ... done",
		"Creating IAM Role keel-prod-test+hello ... done", "uploading:", "registered AMI", "Instance " + first} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("first run's output lacks %q:\n%s", want, r.stderr)
		}
	}

	// The AMI and its snapshot, found by the disk's sha256.
	imgs, err := c.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})
	if err != nil || len(imgs.Images) != 1 {
		t.Fatalf("AMIs: %+v, %v", imgs, err)
	}
	snaps, err := c.ec2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		Filters: []ec2types.Filter{{Name: aws.String("tag:" + deploy.TagSHA256), Values: []string{sha}}}})
	if err != nil || len(snaps.Snapshots) != 1 {
		t.Fatalf("snapshots tagged with the disk's sha256: %+v, %v", snaps, err)
	}
	im := imgs.Images[0]
	// moto 5.2.1 keeps only the boot mode of what RegisterImage gets: the
	// rest is checked on the wire, as keel sent it.
	if im.BootMode != ec2types.BootModeValuesUefi {
		t.Errorf("AMI boot mode %s", im.BootMode)
	}
	reg := rec.find("RegisterImage")
	if reg == nil {
		t.Fatal("keel sent no RegisterImage")
	}
	for k, v := range map[string]string{"Architecture": "x86_64", "VirtualizationType": "hvm", "EnaSupport": "true", "BootMode": "uefi",
		"ImdsSupport": "v2.0", "RootDeviceName": deploy.RootDevice, "BlockDeviceMapping.1.DeviceName": deploy.RootDevice,
		"BlockDeviceMapping.1.Ebs.VolumeType": "gp3", "BlockDeviceMapping.1.Ebs.DeleteOnTermination": "true"} {
		if reg.Get(k) != v {
			t.Errorf("RegisterImage %s=%q, want %q", k, reg.Get(k), v)
		}
	}
	if reg.Get("BlockDeviceMapping.1.Ebs.SnapshotId") != aws.ToString(snaps.Snapshots[0].SnapshotId) {
		t.Errorf("RegisterImage of snapshot %s, the disk's is %s", reg.Get("BlockDeviceMapping.1.Ebs.SnapshotId"), aws.ToString(snaps.Snapshots[0].SnapshotId))
	}
	if tags := tagMap(im.Tags); tags[deploy.TagSHA256] != sha || tags[deploy.TagImage] != "test/hello:1" {
		t.Errorf("AMI tags %v", tags)
	}
	// The snapshot holds exactly disk.raw's non-zero 512 KiB blocks.
	snap := aws.ToString(snaps.Snapshots[0].SnapshotId)
	got := readSnapshot(t, c.ebs, snap)
	var nonzero []int32
	for i := 0; i*deploy.BlockSize < len(disk); i++ {
		b := disk[i*deploy.BlockSize : min(len(disk), (i+1)*deploy.BlockSize)]
		if bytes.Count(b, []byte{0}) != len(b) {
			nonzero = append(nonzero, int32(i))
		}
		if data, ok := got[int32(i)]; ok && !bytes.Equal(data[:len(b)], b) {
			t.Errorf("snapshot block %d differs from disk.raw's", i)
		}
	}
	var sent []int32
	for i := range got {
		sent = append(sent, i)
	}
	slices.Sort(sent)
	if !slices.Equal(sent, nonzero) || len(nonzero) == 0 || len(nonzero)*deploy.BlockSize >= len(disk) {
		t.Errorf("snapshot blocks %v, want disk.raw's non-zero blocks %v (of %d)", sent, nonzero, len(disk)/deploy.BlockSize)
	}

	// The role: trusted by EC2, one inline policy, exactly the least-privilege one.
	role, err := c.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("keel-prod-test+hello")})
	if err != nil {
		t.Fatal(err)
	}
	if trust, _ := url.PathUnescape(aws.ToString(role.Role.AssumeRolePolicyDocument)); !strings.Contains(trust, "ec2.amazonaws.com") {
		t.Errorf("trust policy %s", trust)
	}
	want := iampolicy.ShipOwnLogs("aws", "us-east-1", "123456789012", "keel/prod", "test/hello")
	checkPolicy := func(when string) {
		t.Helper()
		names, err := c.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("keel-prod-test+hello")})
		if err != nil || !slices.Equal(names.PolicyNames, []string{deploy.PolicyName}) {
			t.Errorf("%s: inline policies %v, %v", when, names, err)
		}
		att, err := c.iam.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("keel-prod-test+hello")})
		if err != nil || len(att.AttachedPolicies) != 0 {
			t.Errorf("%s: attached policies %v, %v", when, att, err)
		}
		p, err := c.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("keel-prod-test+hello"), PolicyName: aws.String(deploy.PolicyName)})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := url.PathUnescape(aws.ToString(p.PolicyDocument))
		doc, err := iampolicy.Parse([]byte(raw))
		if err != nil || !iampolicy.Equal(doc, want) {
			t.Errorf("%s: role policy %s (%v), want %s", when, raw, err, want.Marshal())
		}
	}
	checkPolicy("first run")
	prof, err := c.iam.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("keel-prod-test+hello")})
	if err != nil || len(prof.InstanceProfile.Roles) != 1 || aws.ToString(prof.InstanceProfile.Roles[0].RoleName) != "keel-prod-test+hello" {
		t.Errorf("instance profile: %+v, %v", prof, err)
	}

	// The instance: the AMI, the profile, IMDSv2 only with hop limit 1, tags, user data.
	ins := describeInstance(t, c.ec2, first)
	if aws.ToString(ins.ImageId) != aws.ToString(im.ImageId) || ins.InstanceType != ec2types.InstanceTypeT3Micro {
		t.Errorf("instance of %s, %s", aws.ToString(ins.ImageId), ins.InstanceType)
	}
	if ins.IamInstanceProfile == nil || !strings.HasSuffix(aws.ToString(ins.IamInstanceProfile.Arn), ":instance-profile/keel-prod-test+hello") {
		t.Errorf("instance profile %+v", ins.IamInstanceProfile)
	}
	if mo := ins.MetadataOptions; mo == nil || mo.HttpTokens != ec2types.HttpTokensStateRequired || aws.ToInt32(mo.HttpPutResponseHopLimit) != 1 {
		t.Errorf("metadata options %+v", mo)
	}
	if tags := tagMap(ins.Tags); tags[deploy.TagImage] != "test/hello:1" || tags[deploy.TagEnv] != "prod" || tags["Name"] == "" {
		t.Errorf("instance tags %v", tags)
	}
	ud, err := c.ec2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(first), Attribute: ec2types.InstanceAttributeNameUserData})
	if err != nil || ud.UserData == nil {
		t.Fatalf("user data: %v", err)
	}
	b, _ := base64.StdEncoding.DecodeString(aws.ToString(ud.UserData.Value))
	for _, line := range []string{"keel.logs.group=keel/prod", "keel.logs.stream=test/hello", "keel.logs.region=us-east-1", "keel.env=MODE=prod"} {
		if !slices.Contains(strings.Split(string(b), "\n"), line) {
			t.Errorf("user data lacks %q:\n%s", line, b)
		}
	}
	if len(ins.SecurityGroups) != 1 {
		t.Fatalf("security groups %+v", ins.SecurityGroups)
	}
	sgs, err := c.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{aws.ToString(ins.SecurityGroups[0].GroupId)}})
	if err != nil || len(sgs.SecurityGroups) != 1 || len(sgs.SecurityGroups[0].IpPermissions) != 0 {
		t.Errorf("the instance's security group should have no ingress: %+v, %v", sgs, err)
	}
	lg, err := c.logs.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("keel/prod")})
	if err != nil || len(lg.LogGroups) != 1 || aws.ToInt32(lg.LogGroups[0].RetentionInDays) != 30 {
		t.Errorf("log group keel/prod: %+v, %v", lg, err)
	}

	// Again, with a policy someone widened meanwhile: it is put back, the
	// AMI is reused, nothing is uploaded; -port opens a port.
	wide := iampolicy.Document{Version: iampolicy.Version, Statement: []iampolicy.Statement{{Effect: iampolicy.Allow, Action: iampolicy.Strings{"logs:*"}, Resource: iampolicy.Strings{"*"}}}}
	if _, err := c.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("keel-prod-test+hello"), PolicyName: aws.String(deploy.PolicyName), PolicyDocument: aws.String(string(wide.Marshal()))}); err != nil {
		t.Fatal(err)
	}
	r = keelEnv(t, homeDir, env, "run", "test/hello:1", "-env", "prod", "-detach", "-port", "8080")
	if r.code != 0 {
		t.Fatalf("second keel run -env prod: %+v", r)
	}
	second := strings.TrimSpace(r.stdout)
	if second == first || strings.Contains(r.stderr, "uploading") || !strings.Contains(r.stderr, "exists: "+aws.ToString(im.ImageId)) || !strings.Contains(r.stderr, "replaced") {
		t.Errorf("second run (instance %s) should reuse the AMI, upload nothing and replace the policy:\n%s", second, r.stderr)
	}
	checkPolicy("second run")
	if ins2 := describeInstance(t, c.ec2, second); aws.ToString(ins2.ImageId) != aws.ToString(im.ImageId) {
		t.Errorf("second instance runs %s", aws.ToString(ins2.ImageId))
	}
	if imgs, _ := c.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}}); imgs == nil || len(imgs.Images) != 1 {
		t.Errorf("after the second run: %v AMIs, want 1", imgs)
	}

	third := followDeploy(t, homeDir, env, c.logs)

	r = keelEnv(t, homeDir, env, "ps", "-env", "prod")
	if r.code != 0 || !strings.Contains(r.stdout, third) || !strings.Contains(r.stdout, second) || !strings.Contains(r.stdout, "test/hello:1") {
		t.Errorf("keel ps -env prod: %+v", r)
	}
	if r := keelEnv(t, homeDir, env, "ps", "-env", "staging"); r.code != 0 || strings.Contains(r.stdout, first) {
		t.Errorf("keel ps -env staging lists prod's instances: %+v", r)
	}
	r = keelEnv(t, homeDir, env, "kill", "-env", "prod", first)
	if r.code != 0 || !strings.Contains(r.stderr, "Stopping "+first) || !strings.Contains(r.stderr, "terminated") {
		t.Errorf("keel kill -env prod: %+v", r)
	}
	if s := describeInstance(t, c.ec2, first).State; s == nil || s.Name != ec2types.InstanceStateNameTerminated {
		t.Errorf("killed instance's state %+v", s)
	}
	if s := describeInstance(t, c.ec2, second).State; s == nil || s.Name != ec2types.InstanceStateNameRunning {
		t.Errorf("the other instance's state %+v", s)
	}
	if r := keelEnv(t, homeDir, env, "ps", "-env", "prod"); strings.Contains(r.stdout, first) || !strings.Contains(r.stdout, second) {
		t.Errorf("keel ps after kill: %+v", r)
	}
	if r := keelEnv(t, homeDir, env, "kill", "-env", "prod", "-force", second); r.code != 0 || strings.Contains(r.stderr, "Stopping") {
		t.Errorf("keel kill -force: %+v", r)
	}

	t.Run("-role", func(t *testing.T) {
		if r := keelEnv(t, homeDir, env, "run", "test/hello:1", "-env", "prod", "-detach", "-role", "nope"); r.code != 1 || !strings.Contains(r.stderr, "-role nope: no such IAM role") {
			t.Errorf("-role of a missing role: %+v", r)
		}
		if _, err := c.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ops-role"), AssumeRolePolicyDocument: aws.String(deploy.TrustPolicy)}); err != nil {
			t.Fatal(err)
		}
		if r := keelEnv(t, homeDir, env, "run", "test/hello:1", "-env", "prod", "-detach", "-role", "ops-role"); r.code != 1 || !strings.Contains(r.stderr, "the role is in no instance profile") {
			t.Errorf("-role without an instance profile: %+v", r)
		}
		c.iam.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("ops-profile")})
		c.iam.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("ops-profile"), RoleName: aws.String("ops-role")})
		r := keelEnv(t, homeDir, env, "run", "test/hello:1", "-env", "prod", "-detach", "-role", "ops-role")
		if r.code != 0 || !strings.Contains(r.stderr, "Using IAM Role ops-role (instance profile ops-profile)") || strings.Contains(r.stderr, "Creating IAM Role") {
			t.Fatalf("-role ops-role: %+v", r)
		}
		if p := describeInstance(t, c.ec2, strings.TrimSpace(r.stdout)).IamInstanceProfile; p == nil || !strings.HasSuffix(aws.ToString(p.Arn), "/ops-profile") {
			t.Errorf("instance profile with -role: %+v", p)
		}
	})
	t.Run("IAM enforced", func(t *testing.T) {
		e := <-enforcing
		enforcing <- e // for the cleanup
		if e.err != nil {
			testutil.Unavailable(t, "%v", e.err)
		}
		testDeployIAM(t, e.m, homeDir, sha)
	})
}

// testDeployIAM runs keel against a moto_server that enforces IAM
// policies: a user whose policy is README's minus iam:CreateRole hears
// which permission is missing and the way out, and nothing is left of the
// role; a user with README's policy deploys, lists and kills.
//
// moto 5.2.1 checks actions only (every request's resource is "*") and
// evaluates no conditions, so the policies' resources become "*" here: the
// test shows that the policy's actions cover every call keel makes. Its
// SigV4 check also fails ebs:CompleteSnapshot's signature (the AWS CLI's
// as well), so the allowed user's AMI is registered by the test, not
// uploaded.
func testDeployIAM(t *testing.T, moto *testutil.Moto, homeDir, sha string) {
	ctx := context.Background()
	root := newAWSClients(moto.Endpoint, "AKIDROOT", "root")
	keys := map[string][2]string{}
	for _, u := range []string{"alice", "bob"} { // 3 requests each: the 6 moto lets through unchecked
		if _, err := root.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}); err != nil {
			t.Fatal(err)
		}
		k, err := root.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(u)})
		if err != nil {
			t.Fatal(err)
		}
		keys[u] = [2]string{aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey)}
		if _, err := root.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(u), PolicyName: aws.String("keel"),
			PolicyDocument: aws.String(actionsOnly(t, deploy.UserPolicy, map[string]string{"bob": "iam:CreateRole"}[u]))}); err != nil {
			t.Fatal(err)
		}
	}
	alice := newAWSClients(moto.Endpoint, keys["alice"][0], keys["alice"][1])

	r := keelEnv(t, homeDir, moto.Env(keys["bob"][0], keys["bob"][1]), "run", "test/hello:1", "-env", "prod", "-detach")
	for _, want := range []string{"create IAM role keel-prod-test+hello: your credentials may not create IAM roles (iam:CreateRole was denied); ask your AWS administrator for iam:CreateRole, or pass -role NAME"} {
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("keel run without iam:CreateRole: exit %d, stderr %q; want %q", r.code, r.stderr, want)
		}
	}
	if _, err := alice.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("keel-prod-test+hello")}); err == nil {
		t.Error("a denied run left role keel-prod-test+hello")
	}

	if r := keelEnv(t, homeDir, moto.Env("AKIDUNKNOWN", "nope"), "run", "test/hello:1", "-env", "prod", "-detach"); r.code != 1 || !strings.Contains(r.stderr, "AWS refused your credentials") {
		t.Errorf("keel run with credentials AWS does not know: %+v", r)
	}

	reg, err := alice.ec2.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("keel test/hello 1"), Architecture: ec2types.ArchitectureValuesX8664,
		RootDeviceName: aws.String(deploy.RootDevice), BootMode: ec2types.BootModeValuesUefi,
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{{DeviceName: aws.String(deploy.RootDevice), Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String("snap-12345678")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{aws.ToString(reg.ImageId)},
		Tags: []ec2types.Tag{{Key: aws.String(deploy.TagSHA256), Value: aws.String(sha)}}}); err != nil {
		t.Fatal(err)
	}
	aliceEnv := moto.Env(keys["alice"][0], keys["alice"][1])
	r = keelEnv(t, homeDir, aliceEnv, "run", "test/hello:1", "-env", "prod", "-detach", "-port", "443")
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || !strings.Contains(r.stderr, "exists: "+aws.ToString(reg.ImageId)) {
		t.Fatalf("keel run with README's policy: %+v", r)
	}
	if r := keelEnv(t, homeDir, aliceEnv, "ps", "-env", "prod"); r.code != 0 || !strings.Contains(r.stdout, id) {
		t.Errorf("keel ps with README's policy: %+v", r)
	}
	if r := keelEnv(t, homeDir, aliceEnv, "kill", "-env", "prod", id); r.code != 0 || !strings.Contains(r.stderr, "terminated") {
		t.Errorf("keel kill with README's policy: %+v", r)
	}
}

// actionsOnly rewrites a policy for moto's evaluation (resources "*", no
// conditions), without the action drop if not empty.
func actionsOnly(t *testing.T, policy, drop string) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		t.Fatalf("README's policy: %v", err)
	}
	for _, st := range doc["Statement"].([]any) {
		st := st.(map[string]any)
		st["Resource"] = "*"
		delete(st, "Condition")
		if acts, ok := st["Action"].([]any); ok {
			st["Action"] = slices.DeleteFunc(acts, func(a any) bool { return a == drop })
		}
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// recorder is a reverse proxy in front of moto that keeps the form of
// every EC2 query request, to check what keel sent where moto keeps less.
type recorder struct {
	url  string
	mu   sync.Mutex
	reqs []url.Values
}

func newRecorder(t *testing.T, target string) *recorder {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		if form, err := url.ParseQuery(string(body)); err == nil {
			r.mu.Lock()
			r.reqs = append(r.reqs, form)
			r.mu.Unlock()
		}
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

// find returns the last request of the action, or nil.
func (r *recorder) find(action string) url.Values {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.reqs) - 1; i >= 0; i-- {
		if r.reqs[i].Get("Action") == action {
			return r.reqs[i]
		}
	}
	return nil
}

// followDeploy runs keel run -env prod without -detach: once the instance
// runs it shows the app's events from CloudWatch Logs as they arrive, and
// Ctrl-C stops the following, not the instance. It returns the instance.
func followDeploy(t *testing.T, homeDir string, env []string, logs *cwl.Client) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "run", "test/hello:1", "-env", "prod")
	cmd.Env = append(append(cleanEnv(), "KEEL_TEST_AS_KEEL=1", "KEEL_HOME="+homeDir,
		"AWS_CONFIG_FILE="+filepath.Join(homeDir, "no-aws-config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(homeDir, "no-aws-credentials")), env...)
	var stdout, stderr testutil.SyncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitFor := func(what string, buf *testutil.SyncBuffer, text string) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); !strings.Contains(buf.String(), text); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("keel run -env prod: no %s after 60 s; stdout:\n%s\nstderr:\n%s", what, stdout.String(), stderr.String())
			}
		}
	}
	waitFor("following", &stderr, "Following keel/prod > test/hello")
	ctx := context.Background()
	msg := fmt.Sprintf("hello from the instance %d", time.Now().UnixNano())
	if _, err := logs.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("keel/prod"), LogStreamName: aws.String("test/hello"),
		LogEvents: []cwltypes.InputLogEvent{{Timestamp: aws.Int64(time.Now().UnixMilli()), Message: aws.String(msg)}}}); err != nil {
		t.Fatal(err)
	}
	waitFor("event", &stdout, msg)
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Errorf("keel run -env prod after Ctrl-C: %v\n%s", err, stderr.String())
	}
	id := strings.SplitN(stdout.String(), "\n", 2)[0]
	if !strings.HasPrefix(id, "i-") || !strings.Contains(stderr.String(), id+" keeps running") {
		t.Errorf("keel run -env prod: stdout %q, stderr:\n%s", stdout.String(), stderr.String())
	}
	return id
}

func tagMap(tags []ec2types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func describeInstance(t *testing.T, c *ec2.Client, id string) ec2types.Instance {
	t.Helper()
	out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil || len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Fatalf("describe instance %q: %+v, %v", id, out, err)
	}
	return out.Reservations[0].Instances[0]
}

// readSnapshot reads a snapshot's written blocks back through the EBS
// direct APIs.
func readSnapshot(t *testing.T, c *ebs.Client, id string) map[int32][]byte {
	t.Helper()
	ctx := context.Background()
	out := map[int32][]byte{}
	in := &ebs.ListSnapshotBlocksInput{SnapshotId: aws.String(id)}
	for {
		page, err := c.ListSnapshotBlocks(ctx, in, testutil.MotoBlockIndex)
		if err != nil {
			t.Fatalf("list blocks of %s: %v", id, err)
		}
		for _, b := range page.Blocks {
			got, err := c.GetSnapshotBlock(ctx, &ebs.GetSnapshotBlockInput{SnapshotId: aws.String(id), BlockIndex: b.BlockIndex, BlockToken: b.BlockToken})
			if err != nil {
				t.Fatalf("get block %d of %s: %v", aws.ToInt32(b.BlockIndex), id, err)
			}
			var buf bytes.Buffer
			_, err = buf.ReadFrom(got.BlockData)
			got.BlockData.Close()
			if err != nil {
				t.Fatal(err)
			}
			out[aws.ToInt32(b.BlockIndex)] = buf.Bytes()
		}
		if page.NextToken == nil {
			return out
		}
		in.NextToken = page.NextToken
	}
}

func TestAWSEnv(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  string
		aws  bool
	}{
		{[]string{"a/b:1"}, "", false},
		{[]string{"a/b:1", "-env", "dev"}, "dev", false},
		{[]string{"a/b:1", "-env", "prod"}, "prod", true},
		{[]string{"a/b:1", "--env=prod", "-detach"}, "prod", true},
		{[]string{"-env=staging"}, "staging", true},
	} {
		env, aws := awsEnv(tc.args)
		if env != tc.env || aws != tc.aws {
			t.Errorf("awsEnv(%q) = %q, %v; want %q, %v", tc.args, env, aws, tc.env, tc.aws)
		}
	}
}
