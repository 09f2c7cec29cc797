// Package piperead drains an OS pipe, such as a child process's stdout,
// with as little CPU as `cat` spends on it, so that the process writing
// into the pipe runs as fast as it would with nothing but cat behind it.
//
// It knows nothing of lines or events: it hands big chunks of bytes to a
// sink. The sink must not block; what it does with the bytes is its own
// business (the shipper copies them into its buffer).
//
// Why not io.Copy: a Go *os.File pipe is read through the runtime's
// poller, and each read that finds the pipe empty parks the goroutine,
// wakes the poller's thread and hands the goroutine back, several thread
// switches per few kilobytes that on a small VM cost the writer a third of
// its speed (measured: a Go reader let `yes | head` write at 0.6 to 0.8 of
// its speed into cat). Here one locked thread waits in poll(2) and reads,
// and after a read that found less than a chunk it sleeps a moment so that
// the next read takes what the writer wrote meanwhile in one go: fewer,
// bigger reads, as long as the pipe is large enough to hold what the
// writer writes during the nap (it never waits for us otherwise).
package piperead

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Chunk is the size of a read: big reads make the per-read costs (a
// system call, the sink's lock, a timestamp) small per byte.
const Chunk = 256 << 10

// nap is the pause after a read that emptied the pipe. The pipe must hold
// what a fast writer writes in that time: 1 MiB at 2 GB/s is 500 µs.
const nap = 500 * time.Microsecond

// Size is the pipe capacity to ask Pipe for: Linux's default
// /proc/sys/fs/pipe-max-size, and the smallest for which napping cannot
// make the writer wait (a smaller pipe is read as soon as there is data).
// A big pipe also absorbs the moments when the reader is not scheduled.
const Size = 1 << 20

// pollEvery bounds how long Stop takes to be noticed by a reader waiting
// for data that does not come.
const pollEvery = 100 * time.Millisecond

// Reader drains one pipe. Its zero value is not usable; see Pipe.
type Reader struct {
	f    *os.File
	stop atomic.Bool
}

// Pipe makes a pipe of the given capacity (the kernel's default where it
// refuses) and returns its Reader and its write end, for a child process.
//
// The pipe is made here, not by os.Pipe, because os.Pipe registers the
// read end with the Go runtime's epoll: then every write into the pipe
// wakes a runtime thread blocked in epoll_wait, which finds no goroutine
// waiting (ours polls on its own) and sleeps again, a thread switch per
// write that cost a flooding writer a tenth of its speed here.
func Pipe(size int) (*Reader, *os.File, error) {
	var fds [2]int
	// Blocking descriptors, so that os.NewFile leaves them out of the
	// runtime's poller; the reader makes its end non-blocking itself.
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return nil, nil, fmt.Errorf("make pipe: %w", err)
	}
	if size > 0 {
		// Refused above /proc/sys/fs/pipe-max-size for the unprivileged;
		// the default 64 KiB works, the reader then reads without napping.
		_, _ = unix.FcntlInt(uintptr(fds[1]), unix.F_SETPIPE_SZ, size)
	}
	r := os.NewFile(uintptr(fds[0]), "|0")
	w := os.NewFile(uintptr(fds[1]), "|1")
	return &Reader{f: r}, w, nil
}

// Close closes the read end. Run must have returned.
func (r *Reader) Close() error { return r.f.Close() }

// Stop asks Run to take what the pipe holds now, without waiting for more
// or reading what is written after, and return. For a pipe whose writer's
// children may hold it open forever.
func (r *Reader) Stop() { r.stop.Store(true) }

// Run reads the pipe until its writers close it (or Stop), passing each
// chunk read to sink, which must not keep the slice. It returns nil at the
// end of the pipe and the read error otherwise. Run occupies an OS thread
// of its own while it runs.
func (r *Reader) Run(sink func([]byte)) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rc, err := r.f.SyscallConn()
	if err != nil {
		return fmt.Errorf("read pipe %s: %w", r.f.Name(), err)
	}
	buf := make([]byte, Chunk)
	var rerr error
	// Control holds the descriptor for the whole loop, so that a Close
	// elsewhere cannot let its number be reused under the reads.
	cerr := rc.Control(func(fd uintptr) { rerr = r.loop(int(fd), buf, sink) })
	if cerr != nil {
		return fmt.Errorf("read pipe %s: %w", r.f.Name(), cerr)
	}
	if rerr != nil {
		return fmt.Errorf("read pipe %s: %w", r.f.Name(), rerr)
	}
	return nil
}

func (r *Reader) loop(fd int, buf []byte, sink func([]byte)) error {
	// os.Pipe's descriptors are non-blocking; os.NewFile's may not be,
	// and a blocking read could not notice Stop.
	if err := unix.SetNonblock(fd, true); err != nil {
		return err
	}
	napping := false
	if size, err := unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0); err == nil && size >= Size {
		napping = true
	}
	// After Stop, what the pipe held then is still read, and no more: a
	// writer as fast as the reader would otherwise keep it forever.
	left := -1
	for {
		if left < 0 && r.stop.Load() {
			n, err := unix.IoctlGetInt(fd, unix.TIOCINQ) // FIONREAD: bytes in the pipe
			if err != nil {
				return nil
			}
			left = n
		}
		if left == 0 {
			return nil
		}
		want := buf
		if left > 0 && left < len(want) {
			want = want[:left]
		}
		n, err := unix.Read(fd, want)
		switch {
		case n > 0:
			sink(buf[:n])
			if left > 0 {
				left -= n
			}
			if napping && n < len(buf) && left < 0 {
				sleep(nap)
			}
		case n == 0 && err == nil:
			return nil // every writer closed it
		case errors.Is(err, unix.EINTR):
		case errors.Is(err, unix.EAGAIN):
			if left >= 0 || r.stop.Load() {
				return nil
			}
			if err := wait(fd); err != nil {
				return err
			}
		default:
			return err
		}
	}
}

// wait blocks until fd is readable, ends, or pollEvery passes.
func wait(fd int) error {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	_, err := unix.Poll(pfd, int(pollEvery/time.Millisecond))
	if err != nil && !errors.Is(err, unix.EINTR) {
		return fmt.Errorf("poll: %w", err)
	}
	return nil
}

// sleep naps on this thread, keeping its P: the Go timer would hand the
// goroutine to another thread and back, and a plain system call this long
// lets sysmon hand the P to another thread, which wakes, finds nothing
// to do and sleeps again: the very switching this package avoids. A nap
// this short delays a stop-the-world at most by its length.
func sleep(d time.Duration) {
	ts := unix.NsecToTimespec(d.Nanoseconds())
	// EINTR (a preemption signal): a shorter nap is fine.
	unix.RawSyscall(unix.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), 0, 0)
}
