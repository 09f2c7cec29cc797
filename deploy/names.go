package deploy

import (
	"fmt"
	"regexp"
	"strings"
)

// Tags keel puts on what it creates, and finds it by.
const (
	TagImage  = "keel:image"  // user/app:version
	TagEnv    = "keel:env"    // the environment
	TagSHA256 = "keel:sha256" // of disk.raw, on snapshots and AMIs
)

var envName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,19}$`)

// CheckEnv refuses environment names that cannot be part of IAM role and
// log group names.
func CheckEnv(env string) error {
	if !envName.MatchString(env) {
		return fmt.Errorf("-env=%q: an AWS environment is 1 to 20 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit (such as prod)", env)
	}
	return nil
}

// LogGroup is the environment's log group.
func LogGroup(env string) string { return "keel/" + env }

// RoleName is the IAM role (and instance profile) of an app in an
// environment: keel-ENV-USER+APP. Role names allow only [\w+=,.@-]; '/'
// becomes '+', which user and app names never hold, so that the mapping
// stays one to one (a '-' would make alice-x/y and alice/x-y collide).
func RoleName(env, user, app string) (string, error) {
	n := "keel-" + env + "-" + user + "+" + app
	if len(n) > 64 {
		return "", fmt.Errorf("IAM role name %s is %d characters, IAM allows 64: use a shorter -env, user or app name, or pass -role NAME", n, len(n))
	}
	return n, nil
}

// amiName names the AMI of an image: AMI names allow letters, digits,
// spaces and ()[]./-'@_, so the version's '+' and ':' are replaced.
func amiName(image, sha string) string {
	n := strings.NewReplacer(":", " ", "+", "_").Replace(image)
	return fmt.Sprintf("keel %s %s", n, sha[:min(12, len(sha))])
}

// groupName names the security group of an app in an environment.
func groupName(env, user, app string) string { return "keel-" + env + "-" + user + "+" + app }
