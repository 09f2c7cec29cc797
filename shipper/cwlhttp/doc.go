// Package cwlhttp is the shipper's own CloudWatch Logs transport: the four
// calls a shipper makes (PutLogEvents with a body written beforehand,
// CreateLogGroup, CreateLogStream, PutRetentionPolicy) as signed HTTP
// POSTs of the service's JSON 1.1 protocol, and the service's error
// answers as *APIError. It links aws-sdk-go-v2's core (credentials, the
// SigV4 signer) and not the CloudWatch Logs service package, whose
// package initialisation (schemas, endpoint rules) cost PID 1 ~39 ms of
// boot under TCG and most of its binary (docs/lean-init.md).
//
// It does no retries: the shipper retries whole requests itself. It
// imports no keel package.
package cwlhttp
