// Package auth is the access control of keel's local CloudWatch Logs server:
// it keeps the server's access keys and verifies the AWS Signature Version 4
// that real AWS clients (aws-sdk-go-v2, AWS CLI v2, boto3) put on every request.
//
// Three pieces:
//
//   - Keyring (keyring.go; keys.go, keysfile.go, files.go, credentials.go)
//     holds the keys, stored in DATA/keys.json (mode 0600, replaced
//     atomically). Another process, such as `keel logserver key create` run
//     while the server is up, may change that file: writers serialize on an
//     flock of DATA/keys.lock, and a running Keyring notices the new file on
//     its next Lookup, so new keys work and deleted ones stop working at once,
//     without a restart. The first OpenKeyring of an empty data directory
//     makes an admin key and writes it to DATA/credentials for
//     AWS_SHARED_CREDENTIALS_FILE.
//   - Verifier (sigv4.go; authheader.go, canonical.go) checks the
//     Authorization header against the request and its body and answers with
//     the key that signed it, or with the error AWS itself would send (code
//     and message as AWS words them).
//   - Authorize (authorize.go; scope.go) applies a key's Scope to one action
//     on one log group or stream and words a refusal as AWS's
//     AccessDeniedException.
//
// Boundaries: this package knows nothing of the server's operations, JSON
// bodies or storage. The HTTP layer reads the body, calls Verify, works out the
// action and its target from the request, calls Authorize, and turns an *Error
// into the awsJson1_1 error response. Only signed headers are supported (no
// presigned URLs, no SigV4a, no session semantics for X-Amz-Security-Token:
// the token is signed like any other header and otherwise ignored).
//
// The package needs flock(2) and so builds on Unix systems only.
package auth
