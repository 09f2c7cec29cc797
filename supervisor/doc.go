// Package supervisor runs keel's one application inside PID 1: it starts the
// app, carries its output to a log sink line by line, reaps every process on
// the machine, restarts the app by policy, forwards signals to it and stops
// it in order.
//
// Its job:
//   - Reaper: the only caller of wait4 in the process. It reaps every child,
//     orphans included, and hands each started process's exit status to its
//     starter exactly once. Every child of the process must be started
//     through Reaper.StartProcess (never exec.Cmd, whose Wait races with it).
//   - Supervisor: starts the app as its user, in its own process group, with
//     a clean environment, stdin on /dev/null and stdout/stderr on pipes whose
//     readers never wait on anything but the pipe; applies the restart policy
//     with capped exponential backoff; reports lifecycle events (source
//     "keel"); forwards signals; shuts down with SIGTERM to the app's process
//     group, a grace period that lasts until the whole group has ended (a
//     wrapper script dies first, the server it started is still stopping),
//     SIGKILL, and optionally a sweep of every other process (PID 1 use).
//     What an app leaves in its group when it exits is stopped the same way,
//     before a restart or at shutdown.
//
// Boundaries: the package does not install signal handlers for the caller
// (the init owns signal.Notify and calls Forward or Shutdown), does not ship
// logs (events go to a Sink, which must never block, such as the shipper),
// does not read configuration, and does not power the machine off.
//
// Nothing here may bring PID 1 down: every goroutine recovers from panics and
// reports them as errors (Options.OnError and an ERROR event).
package supervisor
