package deploy

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// describe lists the instances a DescribeInstances call selects.
func (c *Clients) describe(ctx context.Context, in *ec2.DescribeInstancesInput) ([]Instance, error) {
	var out []Instance
	pg := ec2.NewDescribeInstancesPaginator(c.EC2, in)
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, explain(err, "list EC2 instances", "")
		}
		for _, r := range page.Reservations {
			for _, i := range r.Instances {
				x := Instance{ID: aws.ToString(i.InstanceId), Type: string(i.InstanceType),
					Address: aws.ToString(i.PublicIpAddress), PrivateAddress: aws.ToString(i.PrivateIpAddress),
					Launched: aws.ToTime(i.LaunchTime)}
				for _, g := range i.SecurityGroups {
					if strings.HasPrefix(aws.ToString(g.GroupName), "keel-") {
						x.Groups = append(x.Groups, aws.ToString(g.GroupId))
					}
				}
				if i.State != nil {
					x.State = string(i.State.Name)
				}
				for _, t := range i.Tags {
					switch aws.ToString(t.Key) {
					case TagImage:
						x.Image = aws.ToString(t.Value)
					case TagEnv:
						x.Env = aws.ToString(t.Value)
					}
				}
				out = append(out, x)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Launched.Before(out[j].Launched) })
	return out, nil
}

// List returns keel's instances in env (by the keel:env tag), terminated
// ones excepted, oldest first.
func (c *Clients) List(ctx context.Context, env string) ([]Instance, error) {
	return c.describe(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("tag:" + TagEnv), Values: []string{env}},
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped", "shutting-down"}},
	}})
}

// Kill ends one of keel's instances in env. Unless force, it is stopped
// first (EC2 presses the ACPI power button: the init stops the app and
// flushes its logs) and terminated once stopped; with force it is
// terminated at once. An instance not tagged with env is refused, so that
// a mistyped id cannot end another environment's machine.
func (c *Clients) Kill(ctx context.Context, w io.Writer, env, id string, force bool, wait time.Duration) error {
	ins, err := c.describe(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("instance-id"), Values: []string{id}}}})
	if err != nil {
		return err
	}
	if len(ins) == 0 || ins[0].Env != env {
		return fmt.Errorf("no instance %s of keel in environment %s (see keel ps -env %s)", id, env, env)
	}
	if ins[0].State == "terminated" {
		return fmt.Errorf("instance %s is terminated already", id)
	}
	ids := []string{id}
	if !force && ins[0].State != "stopped" {
		fmt.Fprintf(w, "Stopping %s (power button: the app gets SIGTERM, its last lines are delivered) ... ", id)
		if _, err := c.EC2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: ids}); err != nil {
			fmt.Fprintln(w, "failed")
			return explain(err, "stop instance "+id, "")
		}
		wt := ec2.NewInstanceStoppedWaiter(c.EC2, func(o *ec2.InstanceStoppedWaiterOptions) { o.MinDelay = time.Second; o.MaxDelay = 5 * time.Second })
		if err := wt.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids}, wait); err != nil {
			fmt.Fprintln(w, "failed")
			return fmt.Errorf("%s did not stop within %v (%v): 'keel kill -env %s -force %s' terminates it at once", id, wait, err, env, id)
		}
		fmt.Fprintln(w, "stopped")
	}
	fmt.Fprintf(w, "Terminating %s ... ", id)
	if _, err := c.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids}); err != nil {
		fmt.Fprintln(w, "failed")
		return explain(err, "terminate instance "+id, "")
	}
	wt := ec2.NewInstanceTerminatedWaiter(c.EC2, func(o *ec2.InstanceTerminatedWaiterOptions) { o.MinDelay = time.Second; o.MaxDelay = 5 * time.Second })
	if err := wt.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids}, wait); err != nil {
		fmt.Fprintln(w, "still shutting down")
		for _, g := range ins[0].Groups {
			fmt.Fprintf(w, "Its security group %s stays: delete it once the instance is gone ('aws ec2 delete-security-group --group-id %s')\n", g, g)
		}
		return nil
	}
	fmt.Fprintln(w, "terminated")
	for _, g := range ins[0].Groups {
		if err := c.deleteGroup(ctx, g); err != nil {
			return err
		}
		fmt.Fprintf(w, "Deleted its security group %s\n", g)
	}
	return nil
}
