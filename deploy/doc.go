// Package deploy puts a fused keel image on EC2 and manages the instances it
// launches: the environment's log group and the app's stream, a
// least-privilege instance role, an AMI made from the image's disk.raw
// through the EBS direct APIs (never uploaded twice), and the instance
// itself; then lists and stops keel's instances by tag.
//
// Every step is idempotent (a re-run finds what exists and reuses it),
// says what it does in one line, and leaves nothing half-made when it
// fails. AWS errors a user can cause come back in words naming the missing
// permission or resource and the way out (see explain.go).
//
// It talks to AWS only through aws-sdk-go-v2's service clients, built from
// the standard configuration, so that the per-service endpoint settings
// (AWS_ENDPOINT_URL_EC2, _EBS, _IAM, _STS, _CLOUDWATCH_LOGS) let another
// implementation such as moto_server stand in. The init never links it.
package deploy
