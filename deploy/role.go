package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/keelvm/keel/iampolicy"
)

// PolicyName is the name of the role's one inline policy.
const PolicyName = "keel-ship-own-logs"

// TrustPolicy lets EC2 instances, and only them, assume the role.
const TrustPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// roleFix is the way out of a denied IAM write.
const roleFix = "pass -role NAME of an existing role (with an instance profile of the same name) that may write the app's log stream"

// ensureRole makes the app's role, its inline policy and its instance
// profile (all named name) exist as they should, and returns the profile's
// name. What it creates in this call is removed again if a later part
// fails, so that a failed run leaves no role without its policy.
func (c *Clients) ensureRole(ctx context.Context, w io.Writer, name string, policy iampolicy.Document, tags map[string]string) (err error) {
	var undo []func(context.Context)
	defer func() {
		if err != nil {
			bg := context.WithoutCancel(ctx)
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i](bg)
			}
		}
	}()
	roleCreated := false
	fmt.Fprintf(w, "Creating IAM Role %s ... ", name)
	_, err = c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	switch {
	case err == nil:
		fmt.Fprintln(w, "exists")
	case isNoSuchEntity(err):
		var itags []iamtypes.Tag
		for k, v := range tags {
			itags = append(itags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		_, err = c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(TrustPolicy),
			Description: aws.String("keel: lets the app's EC2 instances ship their own logs, nothing else"), Tags: itags})
		if err != nil {
			fmt.Fprintln(w, "failed")
			return explain(err, "create IAM role "+name, roleFix)
		}
		roleCreated = true
		undo = append(undo, func(ctx context.Context) {
			c.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)})
		})
		fmt.Fprintln(w, "done")
	default:
		fmt.Fprintln(w, "failed")
		return explain(err, "read IAM role "+name, roleFix)
	}

	fmt.Fprintf(w, "Setting its policy %s (logs:CreateLogStream, logs:PutLogEvents on %s) ... ", PolicyName, policy.Statement[0].Resource[0])
	cur, err := c.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(PolicyName)})
	state := "done"
	switch {
	case err == nil:
		// IAM returns the document URL-encoded (RFC 3986).
		doc, derr := url.PathUnescape(aws.ToString(cur.PolicyDocument))
		if derr != nil {
			doc = aws.ToString(cur.PolicyDocument)
		}
		if have, perr := iampolicy.Parse([]byte(doc)); perr == nil && iampolicy.Equal(have, policy) {
			fmt.Fprintln(w, "unchanged")
			break
		}
		state = "replaced (the role's policy differed from the least-privilege one)"
		fallthrough
	case isNoSuchEntity(err):
		if _, err = c.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(PolicyName),
			PolicyDocument: aws.String(string(policy.Marshal()))}); err != nil {
			fmt.Fprintln(w, "failed")
			return explain(err, "set the inline policy of IAM role "+name, roleFix)
		}
		if roleCreated { // a role that was there keeps its (now right) policy
			undo = append(undo, func(ctx context.Context) {
				c.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(PolicyName)})
			})
		}
		fmt.Fprintln(w, state)
	default:
		fmt.Fprintln(w, "failed")
		return explain(err, "read the inline policy of IAM role "+name, roleFix)
	}

	fmt.Fprintf(w, "Creating Instance Profile %s ... ", name)
	prof, err := c.IAM.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
	var roles []iamtypes.Role
	created := false
	switch {
	case err == nil:
		fmt.Fprintln(w, "exists")
		roles = prof.InstanceProfile.Roles
	case isNoSuchEntity(err):
		if _, err = c.IAM.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name)}); err != nil {
			fmt.Fprintln(w, "failed")
			return explain(err, "create instance profile "+name, roleFix)
		}
		created = true
		undo = append(undo, func(ctx context.Context) {
			c.IAM.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String(name)})
		})
		fmt.Fprintln(w, "done")
	default:
		fmt.Fprintln(w, "failed")
		return explain(err, "read instance profile "+name, roleFix)
	}
	has := false
	for _, r := range roles {
		if aws.ToString(r.RoleName) == name {
			has = true
		} else {
			return fmt.Errorf("instance profile %s holds role %s, not %s: remove it ('aws iam remove-role-from-instance-profile --instance-profile-name %s --role-name %s') or pass -role", name, aws.ToString(r.RoleName), name, name, aws.ToString(r.RoleName))
		}
	}
	if !has {
		if _, err = c.IAM.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: aws.String(name)}); err != nil {
			return explain(err, "add role "+name+" to instance profile "+name, roleFix)
		}
		undo = append(undo, func(ctx context.Context) {
			c.IAM.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: aws.String(name)})
		})
	}
	if created {
		fmt.Fprintf(w, "Waiting for instance profile %s to be usable ... ", name)
		wt := iam.NewInstanceProfileExistsWaiter(c.IAM, func(o *iam.InstanceProfileExistsWaiterOptions) { o.MinDelay = time.Second })
		if err = wt.Wait(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)}, 2*time.Minute); err != nil {
			fmt.Fprintln(w, "failed")
			return explain(err, "wait for instance profile "+name, "")
		}
		fmt.Fprintln(w, "done")
	}
	return nil
}

// useRole checks a role given with -role and finds its instance profile:
// the one of the same name, else the first that holds the role.
func (c *Clients) useRole(ctx context.Context, w io.Writer, name string) (string, error) {
	if _, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)}); err != nil {
		if isNoSuchEntity(err) {
			return "", fmt.Errorf("-role %s: no such IAM role in this account (list them with 'aws iam list-roles')", name)
		}
		return "", explain(err, "read IAM role "+name, "")
	}
	profile := name
	if _, err := c.IAM.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)}); err != nil {
		if !isNoSuchEntity(err) {
			return "", explain(err, "read instance profile "+name, "")
		}
		out, err := c.IAM.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String(name)})
		if err != nil {
			return "", explain(err, "list the instance profiles of role "+name, "")
		}
		if len(out.InstanceProfiles) == 0 {
			return "", fmt.Errorf("-role %s: the role is in no instance profile, and EC2 takes roles only through one: create it with 'aws iam create-instance-profile --instance-profile-name %s' and 'aws iam add-role-to-instance-profile --instance-profile-name %s --role-name %s'", name, name, name, name)
		}
		profile = aws.ToString(out.InstanceProfiles[0].InstanceProfileName)
	}
	fmt.Fprintf(w, "Using IAM Role %s (instance profile %s): its policies are yours to keep to the least the app needs\n", name, profile)
	return profile, nil
}

func isNoSuchEntity(err error) bool {
	var nse *iamtypes.NoSuchEntityException
	return errors.As(err, &nse) || errorCode(err) == "NoSuchEntity"
}
