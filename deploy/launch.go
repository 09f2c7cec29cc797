package deploy

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// UserData is what an instance gets as its user data: the launch's keel.*
// settings, one key=value a line under a comment, the format the init's
// IMDS reader parses (the keys are those of the kernel command line).
func UserData(settings []string) []byte {
	var b strings.Builder
	b.WriteString("# keel launch settings (keel run -env): key=value lines, # comments\n")
	for _, s := range settings {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// ensureGroup returns the app's security group in the default VPC, with
// ingress opened to exactly the given TCP ports (none: no ingress at all),
// and whether this call created it.
func (c *Clients) ensureGroup(ctx context.Context, w io.Writer, name string, ports []int32, tags map[string]string) (id string, created bool, err error) {
	fmt.Fprintf(w, "Creating Security Group %s ... ", name)
	out, err := c.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{{Name: aws.String("group-name"), Values: []string{name}}}})
	if err != nil {
		fmt.Fprintln(w, "failed")
		return "", false, explain(err, "look for security group "+name, "")
	}
	var perms []types.IpPermission
	if len(out.SecurityGroups) > 0 {
		id, perms = aws.ToString(out.SecurityGroups[0].GroupId), out.SecurityGroups[0].IpPermissions
		fmt.Fprintf(w, "exists: %s\n", id)
	} else {
		cg, err := c.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name),
			Description:       aws.String("keel app " + name + ": ingress only on the ports keel run -port opened"),
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroup, Tags: ec2Tags(tags)}}})
		if err != nil {
			fmt.Fprintln(w, "failed")
			if errorCode(err) == "VPCIdNotSpecified" || errorCode(err) == "InvalidVpcID.NotFound" {
				return "", false, fmt.Errorf("create security group %s: this region has no default VPC; create one with 'aws ec2 create-default-vpc'", name)
			}
			return "", false, explain(err, "create security group "+name, "")
		}
		id, created = aws.ToString(cg.GroupId), true
		fmt.Fprintf(w, "done: %s\n", id)
	}
	undo := func() {
		if created {
			c.EC2.DeleteSecurityGroup(context.WithoutCancel(ctx), &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
		}
	}
	var stale []types.IpPermission
	have := map[int32]bool{}
	for _, p := range perms {
		port := aws.ToInt32(p.FromPort)
		if aws.ToString(p.IpProtocol) == "tcp" && port == aws.ToInt32(p.ToPort) && slices.Contains(ports, port) {
			have[port] = true
			continue
		}
		stale = append(stale, p)
	}
	if len(stale) > 0 {
		fmt.Fprintf(w, "  closing %d ingress rule(s) no -port asks for\n", len(stale))
		if _, err := c.EC2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: stale}); err != nil {
			return "", false, explain(err, "close ports of security group "+name, "")
		}
	}
	for _, port := range ports {
		if have[port] {
			continue
		}
		fmt.Fprintf(w, "  opening TCP port %d to the world\n", port)
		_, err := c.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id),
			IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port),
				IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0"), Description: aws.String("keel run -port")}}}}})
		if err != nil {
			undo()
			return "", false, explain(err, fmt.Sprintf("open port %d in security group %s", port, name), "")
		}
	}
	return id, created, nil
}

// LaunchSpec is one instance to launch.
type LaunchSpec struct {
	AMI, Profile, Group, InstanceType string
	UserData                          []byte
	Tags                              map[string]string
}

// Instance is one of keel's instances as EC2 describes it.
type Instance struct {
	ID, Image, Env, State, Type, Address, PrivateAddress string
	Launched                                             time.Time
}

// launch runs one instance and waits until it runs. A launch that fails
// after EC2 accepted it (or is interrupted while waiting) terminates the
// instance: nothing is left running that keel did not report.
func (c *Clients) launch(ctx context.Context, w io.Writer, spec LaunchSpec) (Instance, error) {
	fmt.Fprintf(w, "Launching %s instance of %s ... ", spec.InstanceType, spec.AMI)
	in := &ec2.RunInstancesInput{
		ImageId: aws.String(spec.AMI), InstanceType: types.InstanceType(spec.InstanceType),
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String(spec.Profile)},
		MetadataOptions: &types.InstanceMetadataOptionsRequest{HttpTokens: types.HttpTokensStateRequired,
			HttpPutResponseHopLimit: aws.Int32(1), HttpEndpoint: types.InstanceMetadataEndpointStateEnabled},
		UserData:                          aws.String(base64.StdEncoding.EncodeToString(spec.UserData)),
		SecurityGroupIds:                  []string{spec.Group},
		InstanceInitiatedShutdownBehavior: types.ShutdownBehaviorTerminate,
		TagSpecifications: []types.TagSpecification{
			{ResourceType: types.ResourceTypeInstance, Tags: ec2Tags(spec.Tags)},
			{ResourceType: types.ResourceTypeVolume, Tags: ec2Tags(spec.Tags)},
		},
	}
	var out *ec2.RunInstancesOutput
	var err error
	// A new instance profile takes seconds to reach EC2: its "Invalid IAM
	// Instance Profile" means wait, not give up.
	for deadline := time.Now().Add(90 * time.Second); ; {
		out, err = c.EC2.RunInstances(ctx, in)
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), "instance profile") || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			fmt.Fprintln(w, "interrupted")
			return Instance{}, ctx.Err()
		case <-time.After(3 * time.Second):
		}
	}
	if err != nil {
		fmt.Fprintln(w, "failed")
		return Instance{}, explain(err, "launch an instance of "+spec.AMI, "")
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	fmt.Fprintln(w, id)
	fmt.Fprintf(w, "Waiting for %s to run ... ", id)
	wt := ec2.NewInstanceRunningWaiter(c.EC2, func(o *ec2.InstanceRunningWaiterOptions) { o.MinDelay = time.Second; o.MaxDelay = 5 * time.Second })
	if err := wt.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, 10*time.Minute); err != nil {
		fmt.Fprintln(w, "failed")
		c.EC2.TerminateInstances(context.WithoutCancel(ctx), &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
		return Instance{}, fmt.Errorf("%w (instance %s was terminated)", explain(err, "wait for instance "+id+" to run", ""), id)
	}
	fmt.Fprintln(w, "running")
	ins, err := c.describe(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil || len(ins) == 0 {
		return Instance{ID: id, State: "running"}, err
	}
	return ins[0], nil
}

// deleteGroup removes a security group this run created for an instance
// that did not launch.
func (c *Clients) deleteGroup(ctx context.Context, id string) {
	c.EC2.DeleteSecurityGroup(context.WithoutCancel(ctx), &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
}
