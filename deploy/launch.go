package deploy

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/keelvm/keel/bootcfg"
)

// UserData is what an instance gets as its user data: the launch's keel.*
// settings, one key=value a line under a comment, the format the init's
// IMDS reader parses (the keys are those of the kernel command line).
func UserData(settings []string) []byte {
	var b strings.Builder
	b.WriteString("# keel launch settings (keel run -env): key=value lines, # comments\n")
	for _, s := range settings {
		b.WriteString(bootcfg.UserDataLine(s))
	}
	return []byte(b.String())
}

// createGroup creates the security group of one instance in the default
// VPC, with ingress on exactly the given TCP ports (none: no ingress at
// all). Its own group per instance: opening a port for one launch never
// opens it for another, and kill removes it with the instance.
func (c *Clients) createGroup(ctx context.Context, w io.Writer, name string, ports []int32, tags map[string]string) (id string, err error) {
	fmt.Fprintf(w, "Creating Security Group %s ... ", name)
	cg, err := c.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name),
		Description:       aws.String("keel instance of " + tags[TagImage] + ": ingress only on the ports keel run -port opened"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroup, Tags: ec2Tags(tags)}}})
	if err != nil {
		fmt.Fprintln(w, "failed")
		if errorCode(err) == "VPCIdNotSpecified" || errorCode(err) == "InvalidVpcID.NotFound" {
			return "", fmt.Errorf("create security group %s: this region has no default VPC; create one with 'aws ec2 create-default-vpc'", name)
		}
		return "", explain(err, "create security group "+name, "")
	}
	id = aws.ToString(cg.GroupId)
	if len(ports) == 0 {
		fmt.Fprintf(w, "done: %s, no ingress\n", id)
		return id, nil
	}
	var perms []types.IpPermission
	for _, port := range ports {
		perms = append(perms, types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port),
			IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0"), Description: aws.String("keel run -port")}}})
	}
	if _, err := c.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: perms}); err != nil {
		fmt.Fprintln(w, "failed")
		c.deleteGroup(ctx, id)
		return "", explain(err, fmt.Sprintf("open ports %v in security group %s", ports, name), "")
	}
	fmt.Fprintf(w, "done: %s, TCP ports %v open to the world\n", id, ports)
	return id, nil
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
	Groups                                               []string // security groups keel made for it
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

// deleteGroup removes a security group keel made for one instance. EC2
// refuses while an instance that used it is still shutting down
// (DependencyViolation): that is waited out, for a while.
func (c *Clients) deleteGroup(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Minute)
	defer cancel()
	for {
		_, err := c.EC2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
		if err == nil || errorCode(err) == "InvalidGroup.NotFound" {
			return nil
		}
		if errorCode(err) != "DependencyViolation" {
			return explain(err, "delete security group "+id, "")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("delete security group %s: still in use; delete it later with 'aws ec2 delete-security-group --group-id %s'", id, id)
		case <-time.After(5 * time.Second):
		}
	}
}
