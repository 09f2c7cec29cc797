package deploy

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"

	"github.com/keelvm/keel/iampolicy"
)

// Spec is one `keel run IMAGE -env ENV` on EC2.
type Spec struct {
	Env       string
	Image     string // user/app:version
	User, App string
	Disk      string // disk.raw of the image (fused with -target aws)
	SHA256    string // of disk.raw, hex
	// Stream is the app's log stream (user/app unless fused otherwise);
	// empty when the image ships no logs.
	Stream       string
	Retention    int32 // days, for a new log group; 0: never expire
	Role         string
	InstanceType string
	Ports        []int32
	Settings     []string // keel.KEY=VALUE, from -set
	Terminal     bool     // w is a terminal: draw progress bars
}

// Result says what a deployment made or found.
type Result struct {
	Instance Instance
	AMI      string
	Upload   *UploadStats // nil: the AMI existed, nothing was uploaded
	Group    string
	Stream   string
}

// Deploy runs the steps of a deployment in order, each said in one line
// on w: the log group and stream, the role, the AMI, the security group,
// the instance. Each finds and reuses what exists.
func (c *Clients) Deploy(ctx context.Context, w io.Writer, s Spec) (Result, error) {
	res := Result{Group: LogGroup(s.Env), Stream: s.Stream}
	me, err := c.Whoami(ctx)
	if err != nil {
		return res, err
	}
	if s.Stream != "" {
		if err := c.ensureLogs(ctx, w, res.Group, s.Stream, s.Retention); err != nil {
			return res, err
		}
	} else {
		fmt.Fprintf(w, "The image ships no logs (fused with -logs.type console or none): no log group\n")
	}
	var profile string
	if s.Role != "" {
		if profile, err = c.useRole(ctx, w, s.Role); err != nil {
			return res, err
		}
	} else {
		name, err := RoleName(s.Env, s.User, s.App)
		if err != nil {
			return res, err
		}
		stream := s.Stream
		if stream == "" { // nothing to ship: a policy that allows nothing real
			stream = s.User + "/" + s.App
		}
		policy := iampolicy.ShipOwnLogs(me.Partition, c.Region, me.Account, res.Group, stream)
		if err := c.ensureRole(ctx, w, name, policy, map[string]string{TagEnv: s.Env, "keel:app": s.User + "/" + s.App}); err != nil {
			return res, err
		}
		profile = name
	}
	ami, st, err := c.ensureImage(ctx, w, ImageSpec{Name: s.Image, Disk: s.Disk, SHA256: s.SHA256, Terminal: s.Terminal})
	res.AMI, res.Upload = ami, st
	if err != nil {
		return res, err
	}
	var rnd [4]byte
	rand.Read(rnd[:])
	sg, err := c.createGroup(ctx, w, fmt.Sprintf("%s-%x", groupName(s.Env, s.User, s.App), rnd), s.Ports,
		map[string]string{TagEnv: s.Env, TagImage: s.Image})
	if err != nil {
		return res, err
	}
	var settings []string
	if s.Stream != "" {
		settings = append(settings, "keel.logs.group="+res.Group, "keel.logs.stream="+s.Stream, "keel.logs.region="+c.Region, "keel.logs.image="+s.Image)
	}
	settings = append(settings, s.Settings...)
	if ud := UserData(settings); len(ud) > 16<<10 {
		c.deleteGroup(ctx, sg)
		return res, fmt.Errorf("the user data would be %d bytes, EC2 takes 16 KiB: pass fewer or shorter -set values", len(ud))
	}
	ins, err := c.launch(ctx, w, LaunchSpec{AMI: ami, Profile: profile, Group: sg, InstanceType: s.InstanceType,
		UserData: UserData(settings), Tags: map[string]string{TagEnv: s.Env, TagImage: s.Image, "Name": s.Image + " (" + s.Env + ")"}})
	if err != nil {
		c.deleteGroup(ctx, sg)
		return res, err
	}
	res.Instance = ins
	return res, nil
}
