// Package iampolicy is the part of AWS IAM's policy language that keel
// needs: documents of Allow and Deny statements over actions and resources
// with `*` and `?` wildcards, written (for the instance role a deployment
// attaches on EC2) and evaluated (by the local log server, for the session
// credentials `keel run` gives a VM), so that what a local run is allowed is
// exactly what production allows.
//
// Evaluation follows IAM's rules for one identity policy: an explicit Deny
// wins, then any Allow, otherwise the request is implicitly denied. Action
// names compare without regard to case (as IAM does: "logs:putlogevents"
// matches); resources compare case-sensitively. Conditions, NotAction,
// NotResource and Principal are not supported: a document using them is
// refused by Parse rather than half-understood.
//
// The package is a leaf: it imports no keel package.
package iampolicy
