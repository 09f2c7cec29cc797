// Package logserver is keel's local CloudWatch Logs server: the awsJson1_1
// HTTP API that real AWS clients (aws-sdk-go-v2, the AWS CLI, boto3) speak,
// with AWS's validation rules, error codes and message texts, SigV4 access
// control and durable storage.
//
// It owns the wire protocol (framing, decoding, errors, pagination tokens),
// the semantics of each operation, and the server process around them: the
// data directory lock, the state file that tells clients where it listens,
// and an idempotent, race-free background start (StartDaemon) for commands
// such as `keel run`. Storage lives in package store, signature verification
// and keys in package auth; flags and help texts live in cmd/keel.
package logserver
