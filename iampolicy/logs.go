package iampolicy

import "fmt"

// The CloudWatch Logs actions a VM needs to ship its logs, and nothing
// more: it never reads, never creates groups, never deletes.
const (
	ActionCreateLogStream = "logs:CreateLogStream"
	ActionPutLogEvents    = "logs:PutLogEvents"
)

// StreamARN is the ARN of a log stream as IAM names it for
// CreateLogStream and PutLogEvents.
func StreamARN(partition, region, account, group, stream string) string {
	return fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s:log-stream:%s", partition, region, account, group, stream)
}

// ShipOwnLogs is the least-privilege policy of an instance that ships its
// own logs: CreateLogStream and PutLogEvents on its stream and on the
// streams below it (STREAM/boot), nothing else. The same document is the
// inline policy of the EC2 instance role a deployment creates and the
// rights of the session credentials `keel run` gives a local VM.
func ShipOwnLogs(partition, region, account, group, stream string) Document {
	arn := StreamARN(partition, region, account, group, stream)
	return Document{Version: Version, Statement: []Statement{{
		Sid:      "ShipOwnLogs",
		Effect:   Allow,
		Action:   Strings{ActionCreateLogStream, ActionPutLogEvents},
		Resource: Strings{arn, arn + "/*"},
	}}}
}
