package testutil

import (
	"bytes"
	"context"
	"io"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/service/ebs"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// quotedIndex matches moto 5.2.1's ListSnapshotBlocks answer, which
// quotes BlockIndex ("BlockIndex": "6") where the API has a number; the
// SDK rightly refuses that.
var quotedIndex = regexp.MustCompile(`"BlockIndex":\s*"(\d+)"`)

// MotoBlockIndex is an ebs option for test reads of moto's
// ListSnapshotBlocks: it unquotes BlockIndex before the SDK decodes it.
// Only tests use it: keel never lists blocks.
func MotoBlockIndex(o *ebs.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("motoBlockIndex",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleDeserialize(ctx, in)
				if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && err == nil {
					b, rerr := io.ReadAll(resp.Body)
					resp.Body.Close()
					if rerr != nil {
						return out, md, rerr
					}
					resp.Body = io.NopCloser(bytes.NewReader(quotedIndex.ReplaceAll(b, []byte(`"BlockIndex": $1`))))
				}
				return out, md, err
			}), middleware.After)
	})
}
