package deploy

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// RootDevice is the AMI's root device name.
const RootDevice = "/dev/xvda"

// ec2Tags turns a map into EC2 tags.
func ec2Tags(tags map[string]string) []types.Tag {
	var out []types.Tag
	for k, v := range tags {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out
}

// findImage returns the available AMI keel registered for the disk whose
// sha256 is sha, or "".
func (c *Clients) findImage(ctx context.Context, sha string) (string, error) {
	out, err := c.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"},
		Filters: []types.Filter{{Name: aws.String("tag:" + TagSHA256), Values: []string{sha}}}})
	if err != nil {
		return "", explain(err, "look for the image's AMI", "")
	}
	for _, im := range out.Images {
		if im.State == types.ImageStateAvailable || im.State == types.ImageStatePending {
			return aws.ToString(im.ImageId), nil
		}
	}
	return "", nil
}

// findSnapshot returns a completed snapshot keel uploaded of the disk
// whose sha256 is sha (an earlier run that uploaded it and could not
// register the AMI), or "".
func (c *Clients) findSnapshot(ctx context.Context, sha string) (string, error) {
	out, err := c.EC2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		Filters: []types.Filter{{Name: aws.String("tag:" + TagSHA256), Values: []string{sha}}, {Name: aws.String("status"), Values: []string{"completed"}}}})
	if err != nil {
		return "", explain(err, "look for the image's snapshot", "")
	}
	for _, s := range out.Snapshots {
		if s.State == types.SnapshotStateCompleted {
			return aws.ToString(s.SnapshotId), nil
		}
	}
	return "", nil
}

// ImageSpec is the disk to make an AMI of.
type ImageSpec struct {
	Name   string // user/app:version
	Disk   string // path of disk.raw
	SHA256 string // of disk.raw, hex
	// Terminal draws a progress bar on Progress; else plain lines.
	Terminal bool
}

// ensureImage returns the AMI of the disk: the one registered before
// (found by the sha256 tag), else one registered from a snapshot uploaded
// now. A failure deregisters and deletes what this call made.
func (c *Clients) ensureImage(ctx context.Context, w io.Writer, spec ImageSpec) (ami string, st *UploadStats, err error) {
	fmt.Fprintf(w, "Creating AMI of %s (disk.raw sha256 %s) ... ", spec.Name, spec.SHA256[:12])
	if ami, err = c.findImage(ctx, spec.SHA256); err != nil || ami != "" {
		if err != nil {
			fmt.Fprintln(w, "failed")
			return "", nil, err
		}
		fmt.Fprintf(w, "exists: %s\n", ami)
		// One that another run registered a moment ago may still be pending.
		wt := ec2.NewImageAvailableWaiter(c.EC2, func(o *ec2.ImageAvailableWaiterOptions) { o.MinDelay = time.Second; o.MaxDelay = 10 * time.Second })
		if err := wt.Wait(ctx, &ec2.DescribeImagesInput{ImageIds: []string{ami}}, 30*time.Minute); err != nil {
			return "", nil, explain(err, "wait for AMI "+ami+" to be available", "")
		}
		return ami, nil, nil
	}
	fmt.Fprintln(w)
	tags := map[string]string{TagImage: spec.Name, TagSHA256: spec.SHA256}
	snap, err := c.findSnapshot(ctx, spec.SHA256)
	if err != nil {
		return "", nil, err
	}
	uploaded := false
	if snap != "" {
		fmt.Fprintf(w, "  snapshot %s holds it already\n", snap)
	} else {
		p := newProgressBar(w, spec.Terminal)
		id, stats, err := c.Upload(ctx, spec.Disk, tags, p.update)
		p.end()
		if err != nil {
			return "", &stats, err
		}
		st, snap, uploaded = &stats, id, true
		fmt.Fprintf(w, "  uploaded snapshot %s: %d of %d blocks sent (%.1f MB, the rest are zeros), %.1f MB/s\n",
			snap, stats.Sent, stats.Blocks, float64(stats.Bytes)/1e6, stats.MBPerSecond())
	}
	undoSnap := func() {
		if uploaded {
			c.EC2.DeleteSnapshot(context.WithoutCancel(ctx), &ec2.DeleteSnapshotInput{SnapshotId: aws.String(snap)})
		}
	}
	// Tagged through EC2 too: the tags StartSnapshot takes are the ones
	// EC2 filters by, but a stand-in may keep them apart.
	if _, err = c.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{snap}, Tags: ec2Tags(tags)}); err != nil {
		undoSnap()
		return "", st, explain(err, "tag snapshot "+snap, "")
	}
	out, err := c.EC2.RegisterImage(ctx, &ec2.RegisterImageInput{
		Name:               aws.String(amiName(spec.Name, spec.SHA256)),
		Description:        aws.String("keel image " + spec.Name),
		Architecture:       types.ArchitectureValuesX8664,
		VirtualizationType: aws.String("hvm"),
		EnaSupport:         aws.Bool(true),
		BootMode:           types.BootModeValuesUefi,
		ImdsSupport:        types.ImdsSupportValuesV20,
		RootDeviceName:     aws.String(RootDevice),
		BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String(RootDevice), Ebs: &types.EbsBlockDevice{
			SnapshotId: aws.String(snap), VolumeType: types.VolumeTypeGp3, DeleteOnTermination: aws.Bool(true)}}},
	})
	if err != nil {
		undoSnap()
		return "", st, explain(err, "register the AMI of "+spec.Name, "")
	}
	ami = aws.ToString(out.ImageId)
	undo := func() {
		c.EC2.DeregisterImage(context.WithoutCancel(ctx), &ec2.DeregisterImageInput{ImageId: aws.String(ami)})
		undoSnap()
	}
	if _, err = c.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{ami}, Tags: ec2Tags(tags)}); err != nil {
		undo()
		return "", st, explain(err, "tag AMI "+ami, "")
	}
	wt := ec2.NewImageAvailableWaiter(c.EC2, func(o *ec2.ImageAvailableWaiterOptions) { o.MinDelay = time.Second; o.MaxDelay = 10 * time.Second })
	if err = wt.Wait(ctx, &ec2.DescribeImagesInput{ImageIds: []string{ami}}, 30*time.Minute); err != nil {
		undo()
		return "", st, explain(err, "wait for AMI "+ami+" to be available", "")
	}
	fmt.Fprintf(w, "  registered AMI %s (x86_64, UEFI, ENA, IMDSv2 only, gp3 root deleted on termination)\n", ami)
	return ami, st, nil
}
