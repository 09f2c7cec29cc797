package logs

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/keelvm/keel/logserver/auth"
)

// WithoutHostPrefix stops the SDK from prefixing the endpoint's host with
// "stream-" for StartLiveTail. AWS's own endpoints expect the prefix; a
// custom endpoint such as keel's local server at 127.0.0.1 cannot have it.
func WithoutHostPrefix(o *cwl.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("keelNoHostPrefix",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
			}), middleware.Before)
	})
}

// AdminClient returns a client of keel's local log server at endpoint
// holding the admin key from the server's data directory.
func AdminClient(dataDir, endpoint string) (*cwl.Client, error) {
	kr, _, err := auth.OpenKeyring(dataDir)
	if err != nil {
		return nil, err
	}
	admin, ok := kr.Admin()
	if !ok {
		return nil, fmt.Errorf("no admin key in %s: create one with 'keel logserver key create -name me'", filepath.Join(dataDir, auth.KeysFileName))
	}
	return cwl.New(cwl.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(admin.ID, admin.Secret, "")}, WithoutHostPrefix), nil
}
