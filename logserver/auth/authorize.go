package auth

import "fmt"

// Authorize reports whether key may perform action (e.g. "GetLogEvents") on
// group/stream; stream "" for group-level actions, and group "" too for
// actions on no group (DescribeLogGroups). It returns nil when allowed, or an
// AccessDeniedException worded as AWS words it for an IAM user named after
// the key, with account and region filling in the ARNs.
func Authorize(key Key, action, group, stream, account, region string) *Error {
	if key.Policy != nil {
		return authorizePolicy(key, action, group, stream, account, region)
	}
	if key.Scope.Allows(action, group, stream) {
		return nil
	}
	user := key.Name
	if user == "" {
		user = key.ID
	}
	resource := fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s:log-stream:%s", region, account, group, stream)
	if stream == "" && group != "" {
		resource = fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s:*", region, account, group)
	}
	action = trimLogsPrefix(action)
	return newError(CodeAccessDenied, fmt.Sprintf(
		"User: arn:aws:iam::%s:user/%s is not authorized to perform: logs:%s on resource: %s "+
			"because no identity-based policy allows the logs:%s action",
		account, user, action, resource, action))
}
