package cwlhttp

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
)

// TestDecodeError: the code is X-Amzn-ErrorType's, else the body's
// __type (else code), stripped of a namespace before '#' and anything
// after ':' (docs/cloudwatch-logs.md, the SDK's awsjson1.1 rules).
func TestDecodeError(t *testing.T) {
	for _, c := range []struct {
		name, header, body string
		status             int
		code, msg          string
		fault              smithy.ErrorFault
	}{
		{"body type", "", `{"__type":"ThrottlingException","message":"Rate exceeded"}`, 400, "ThrottlingException", "Rate exceeded", smithy.FaultClient},
		{"header first", "ExpiredTokenException", `{"__type":"Other","message":"m"}`, 400, "ExpiredTokenException", "m", smithy.FaultClient},
		{"header annotated", "ResourceNotFoundException:http://internal.amazon.com/coral/", `{}`, 400, "ResourceNotFoundException", "", smithy.FaultClient},
		{"namespaced", "", `{"__type":"com.amazonaws.logs#InvalidParameterException","Message":"bad"}`, 400, "InvalidParameterException", "bad", smithy.FaultClient},
		{"both", "", `{"__type":"aws.protocoltests.restjson#FooError:http://x/","message":"m"}`, 400, "FooError", "m", smithy.FaultClient},
		{"code field", "", `{"code":"ServiceUnavailableException"}`, 503, "ServiceUnavailableException", "", smithy.FaultServer},
		{"not json", "", `<html>bad gateway</html>`, 502, "UnknownError", "Bad Gateway", smithy.FaultServer},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			if c.header != "" {
				h.Set("X-Amzn-ErrorType", c.header)
			}
			e := decodeError("PutLogEvents", c.status, h, []byte(c.body))
			if e.ErrorCode() != c.code || e.ErrorMessage() != c.msg || e.ErrorFault() != c.fault {
				t.Fatalf("got %q %q fault %d, want %q %q fault %d", e.Code, e.Message, e.ErrorFault(), c.code, c.msg, c.fault)
			}
		})
	}
}

// TestEndpoint: a region's public endpoint, in its partition; a
// configured endpoint is taken as it is, and a malformed one refused.
func TestEndpoint(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1":     "https://logs.us-east-1.amazonaws.com",
		"cn-north-1":    "https://logs.cn-north-1.amazonaws.com.cn",
		"us-gov-west-1": "https://logs.us-gov-west-1.amazonaws.com",
	} {
		if got := Endpoint(region); got != want {
			t.Errorf("Endpoint(%s) = %s, want %s", region, got, want)
		}
	}
	creds := credsFunc()
	c, err := New(Options{Region: "eu-west-1", Credentials: creds})
	if err != nil || c.url != "https://logs.eu-west-1.amazonaws.com/" {
		t.Errorf("default endpoint: %v %v", c, err)
	}
	c, err = New(Options{Region: "eu-west-1", Credentials: creds, Endpoint: "http://127.0.0.1:4566"})
	if err != nil || c.url != "http://127.0.0.1:4566/" {
		t.Errorf("configured endpoint: %v %v", c, err)
	}
	for _, bad := range []string{"127.0.0.1:4566", "ftp://x", "http://"} {
		if _, err := New(Options{Region: "eu-west-1", Credentials: creds, Endpoint: bad}); err == nil {
			t.Errorf("endpoint %q accepted", bad)
		}
	}
	if _, err := New(Options{Credentials: creds}); err == nil {
		t.Error("no region accepted")
	}
}

func credsFunc() aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "s"}, nil
	})
}
