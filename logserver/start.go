package logserver

import "context"

// Start runs a server in this process, in the background, and returns once
// it accepts connections. stop shuts it down and waits for it. Tests,
// benchmarks and embedding programs use it; rc.Ready is taken over.
func Start(rc RunConfig) (st State, stop func(), err error) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan State, 1)
	done := make(chan error, 1)
	rc.Ready = func(s State) { ready <- s }
	go func() { done <- Run(ctx, rc) }()
	select {
	case st = <-ready:
		return st, func() { cancel(); <-done }, nil
	case err := <-done:
		cancel()
		return State{}, nil, err
	}
}
