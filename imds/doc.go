// Package imds is a local instance metadata service: the IMDSv2 subset that
// EC2 serves at 169.254.169.254 and that keel's init reads (the instance's
// identity and region, its instance role's credentials, its user data).
// `keel run` serves it to its VM through QEMU's guestfwd, so that an image
// gets under keel run exactly what it gets on EC2, through the same client
// code (aws-sdk-go-v2's feature/ec2/imds and credentials/ec2rolecreds).
//
// Only IMDSv2 is served: a session token first (PUT /latest/api/token with
// a TTL of 1 to 21600 s), and every other request must carry a valid one
// (401 otherwise), as on an instance with HttpTokens=required. What the
// metadata holds is the caller's (Server's fields); where the credentials
// come from is the caller's too (Server.Credentials).
package imds
