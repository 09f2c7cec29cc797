package shipper

import (
	"context"
	"sync"

	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
)

// fake is an in-memory CloudWatch Logs for unit tests: it checks every rule
// of each request it accepts and can fail on demand.
type fake struct {
	mu        sync.Mutex
	got       []string // messages in acceptance order
	calls     int
	bad       []string // rule violations seen
	group     bool
	stream    bool
	retention int32
	// failPut, if set, may fail call n (from 1) before it is accepted.
	failPut    func(n int, in *cwl.PutLogEventsInput) error
	failGroup  error
	groupCalls int
}

func newFake() *fake { return &fake{group: true, stream: true} }

func (f *fake) PutLogEvents(ctx context.Context, in *cwl.PutLogEventsInput, _ ...func(*cwl.Options)) (*cwl.PutLogEventsOutput, error) {
	f.mu.Lock()
	f.calls++
	n, fail := f.calls, f.failPut
	f.mu.Unlock()
	if fail != nil {
		errc := make(chan error, 1)
		go func() { errc <- fail(n, in) }()
		var err error
		select {
		case err = <-errc:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.group || !f.stream {
		return nil, &types.ResourceNotFoundException{Message: strPtr("The specified log stream does not exist.")}
	}
	size := 0
	for i, e := range in.LogEvents {
		size += len(*e.Message) + 26
		if i > 0 && *e.Timestamp < *in.LogEvents[i-1].Timestamp {
			f.bad = append(f.bad, "order")
		}
		if *e.Message == "" {
			f.bad = append(f.bad, "empty")
		}
	}
	if size > maxBatchBytes || len(in.LogEvents) > maxBatchEvents || len(in.LogEvents) == 0 {
		f.bad = append(f.bad, "size")
	}
	for _, e := range in.LogEvents {
		f.got = append(f.got, *e.Message)
	}
	return &cwl.PutLogEventsOutput{}, nil
}

func (f *fake) CreateLogGroup(context.Context, *cwl.CreateLogGroupInput, ...func(*cwl.Options)) (*cwl.CreateLogGroupOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.groupCalls++
	if f.failGroup != nil {
		return nil, f.failGroup
	}
	if f.group {
		return nil, &types.ResourceAlreadyExistsException{Message: strPtr("The specified log group already exists")}
	}
	f.group = true
	return &cwl.CreateLogGroupOutput{}, nil
}

func (f *fake) CreateLogStream(context.Context, *cwl.CreateLogStreamInput, ...func(*cwl.Options)) (*cwl.CreateLogStreamOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.group {
		return nil, &types.ResourceNotFoundException{Message: strPtr("The specified log group does not exist.")}
	}
	if f.stream {
		return nil, &types.ResourceAlreadyExistsException{Message: strPtr("The specified log stream already exists")}
	}
	f.stream = true
	return &cwl.CreateLogStreamOutput{}, nil
}

func (f *fake) PutRetentionPolicy(_ context.Context, in *cwl.PutRetentionPolicyInput, _ ...func(*cwl.Options)) (*cwl.PutRetentionPolicyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.retention = *in.RetentionInDays
	return &cwl.PutRetentionPolicyOutput{}, nil
}

// serviceDown makes every PutLogEvents fail as unavailable until the
// returned function is called.
func serviceDown(f *fake) (up func()) {
	var mu sync.Mutex
	down := true
	f.failPut = func(int, *cwl.PutLogEventsInput) error {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return apiErr("ServiceUnavailableException", "down")
		}
		return nil
	}
	return func() {
		mu.Lock()
		down = false
		mu.Unlock()
	}
}

func (f *fake) messages() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

func strPtr(s string) *string { return &s }

func apiErr(code, msg string) error {
	return &smithy.GenericAPIError{Code: code, Message: msg}
}
