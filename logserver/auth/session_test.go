package auth

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/keelvm/keel/iampolicy"
)

func sessionClient(url string, key Key) *cloudwatchlogs.Client {
	return cloudwatchlogs.New(cloudwatchlogs.Options{
		Region: "eu-west-3", BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret, SessionToken: key.Token}, nil
		}),
	})
}

// TestSessionCredentials drives session credentials through the real
// CloudWatch Logs client and the server's SigV4 check: valid, wrong token,
// no token, expired, revoked, and outside the policy.
func TestSessionCredentials(t *testing.T) {
	keys, _, dir := openTestKeyring(t)
	srv := authServer(t, keys)
	ctx := context.Background()
	// authServer authorizes in account 000000000000, region eu-west-3.
	pol := iampolicy.ShipOwnLogs("aws", "eu-west-3", "000000000000", "keel/dev", "alice/hello")
	cli, _, err := OpenKeyring(dir) // keel run, another process
	if err != nil {
		t.Fatal(err)
	}
	sess, err := cli.CreateSession("vm-run-1-alice-hello", pol, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	short, err := cli.CreateSession("vm-run-1-short", pol, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := cli.CreateSession("vm-run-1-revoked", pol, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !sess.IsSession() || len(sess.Token) != sessionTokenLength || !sess.Expires.After(time.Now().Add(59*time.Minute)) {
		t.Fatalf("session %+v: want a token and an expiry in an hour", sess)
	}
	put := func(k Key, group, stream string) error {
		_, err := sessionClient(srv.URL, k).PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{
			LogGroupName: aws.String(group), LogStreamName: aws.String(stream),
			LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(1), Message: aws.String("hi")}}})
		return err
	}
	// tokenAfter sends k's token unsigned: added once the request is signed,
	// as AWS's SigV4 test suite's post-sts-header-after does.
	tokenAfter := func(k Key) error {
		unsigned := k
		unsigned.Token = ""
		_, err := sessionClient(srv.URL, unsigned).PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{
			LogGroupName: aws.String("keel/dev"), LogStreamName: aws.String("alice/hello"),
			LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(1), Message: aws.String("hi")}}},
			func(o *cloudwatchlogs.Options) {
				o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
					return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("tokenAfterSigning",
						func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
							in.Request.(*smithyhttp.Request).Header.Set(securityTokenHeader, k.Token)
							return next.HandleFinalize(ctx, in)
						}), middleware.After)
				})
			})
		return err
	}
	wrongSecret := func(k Key) Key { k.Secret = strings.Repeat("y", len(k.Secret)); return k }
	wrongToken, noToken := sess, sess
	wrongToken.Token = strings.Repeat("x", sessionTokenLength)
	noToken.Token = ""
	tests := []struct {
		name string
		call func() error
		code string
	}{
		{"valid: its stream", func() error { return put(sess, "keel/dev", "alice/hello") }, ""},
		{"valid: its boot stream", func() error { return put(sess, "keel/dev", "alice/hello/boot") }, ""},
		{"valid: creates its stream", func() error {
			_, err := sessionClient(srv.URL, sess).CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{
				LogGroupName: aws.String("keel/dev"), LogStreamName: aws.String("alice/hello")})
			return err
		}, ""},
		{"wrong scope: a stream that merely starts alike", func() error { return put(sess, "keel/dev", "alice/hello2") }, CodeAccessDenied},
		{"wrong scope: other group", func() error { return put(sess, "keel/prod", "alice/hello") }, CodeAccessDenied},
		{"wrong scope: creates a group", func() error {
			_, err := sessionClient(srv.URL, sess).CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("keel/dev")})
			return err
		}, CodeAccessDenied},
		{"wrong scope: reads", func() error {
			_, err := sessionClient(srv.URL, sess).GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{
				LogGroupName: aws.String("keel/dev"), LogStreamName: aws.String("alice/hello")})
			return err
		}, CodeAccessDenied},
		{"wrong token", func() error { return put(wrongToken, "keel/dev", "alice/hello") }, CodeUnrecognizedClient},
		{"no token", func() error { return put(noToken, "keel/dev", "alice/hello") }, CodeUnrecognizedClient},
		{"expired", func() error {
			time.Sleep(time.Until(short.Expires) + 10*time.Millisecond)
			return put(short, "keel/dev", "alice/hello")
		}, CodeExpiredToken},
		// The signature first: a request not signed with the session's
		// secret learns nothing of its token or expiry.
		{"expired, wrong secret", func() error { return put(wrongSecret(short), "keel/dev", "alice/hello") }, CodeInvalidSignature},
		{"wrong token, wrong secret", func() error { return put(wrongSecret(wrongToken), "keel/dev", "alice/hello") }, CodeInvalidSignature},
		{"valid: token not signed", func() error { return tokenAfter(sess) }, ""},
		{"expired: token not signed", func() error { return tokenAfter(short) }, CodeExpiredToken},
		{"revoked", func() error {
			if n, err := cli.DeleteWhere(func(k Key) bool { return k.ID == revoked.ID }); err != nil || n != 1 {
				t.Fatalf("DeleteWhere: %d, %v", n, err)
			}
			return put(revoked, "keel/dev", "alice/hello")
		}, CodeUnrecognizedClient},
	}
	for _, tt := range tests {
		err := tt.call()
		if got := apiCode(err); got != tt.code || (tt.code == "" && err != nil) {
			t.Errorf("%s: got %v, want code %q", tt.name, err, tt.code)
		}
	}
}

func TestCreateSessionRefuses(t *testing.T) {
	keys, _, _ := openTestKeyring(t)
	pol := iampolicy.ShipOwnLogs("aws", "us-east-1", "000000000000", "keel/dev", "a/b")
	for _, tc := range []struct {
		name string
		pol  iampolicy.Document
		ttl  time.Duration
		want string
	}{
		{"vm-1", pol, 0, "lifetime"},
		{"vm-2", pol, 13 * time.Hour, "lifetime"},
		{"vm 3", pol, time.Hour, "may contain only"},
		{"vm-4", iampolicy.Document{Version: iampolicy.Version}, time.Hour, "no statement"},
	} {
		if _, err := keys.CreateSession(tc.name, tc.pol, tc.ttl); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
}
