package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/keelvm/keel/image/kernel"
	"github.com/keelvm/keel/internal/home"
	"github.com/keelvm/keel/internal/qemu"
	"github.com/keelvm/keel/logs"
	"github.com/keelvm/keel/logserver"
)

// benchImage times `keel fuse` of the example app (kernel cached), sizes
// its initramfs and disk image, and times `keel run` from its start to the
// app's first line in the local log server (TCG here). It runs the keel,
// keel-init and hello that make build put in bin/.
func benchImage(scratch string, _ int) error {
	keelBin, err := filepath.Abs("bin/keel")
	if err != nil {
		return err
	}
	for _, b := range []string{"bin/keel", "bin/keel-init", "bin/hello"} {
		if _, err := os.Stat(b); err != nil {
			return fmt.Errorf("%s: run make build first (make bench does): %w", b, err)
		}
	}
	cache, err := home.Path("kernels")
	if err != nil {
		return err
	}
	if _, err := kernel.Ensure(cache, "", os.Stderr); err != nil {
		return err
	}
	kh := filepath.Join(scratch, "keel-home")
	os.MkdirAll(kh, 0o755)
	if err := os.Symlink(cache, filepath.Join(kh, "kernels")); err != nil && !os.IsExist(err) {
		return err
	}
	env := append(os.Environ(), "KEEL_HOME="+kh)
	keel := func(args ...string) *exec.Cmd {
		c := exec.Command(keelBin, args...)
		c.Env = env
		return c
	}
	defer keel("logserver", "stop").Run()

	t0 := time.Now()
	if out, err := keel("fuse", "bin/hello", "-name", "bench/hello:1", "-force", "--", "-addr", ":8080").CombinedOutput(); err != nil {
		return fmt.Errorf("keel fuse: %v\n%s", err, out)
	}
	report("fuse.seconds", time.Since(t0).Seconds(), "s (examples/hello, kernel cached)")
	img := filepath.Join(kh, "images", "bench", "hello", "1")
	if fi, err := os.Stat(filepath.Join(img, "initrd.img")); err == nil {
		report("image.initrd_mb", float64(fi.Size())/1e6, "MB (zstd; init, app, virtio modules)")
	}
	if out, err := keel("fuse", "bin/hello", "-name", "bench/hello:vbox", "-force", "-target", "virtualbox", "-format", "vdi,raw").CombinedOutput(); err != nil {
		return fmt.Errorf("keel fuse -target virtualbox: %v\n%s", err, out)
	}
	vbox := filepath.Join(kh, "images", "bench", "hello", "vbox")
	if fi, err := os.Stat(filepath.Join(vbox, "disk.vdi")); err == nil {
		report("image.disk_mb", float64(fi.Size())/1e6, "MB (disk.vdi: GPT, ESP with systemd-boot, kernel, initramfs)")
	}
	if fi, err := os.Stat(filepath.Join(vbox, "disk.raw")); err == nil {
		var st syscall.Stat_t
		syscall.Stat(filepath.Join(vbox, "disk.raw"), &st)
		report("image.disk_raw_mb", float64(fi.Size())/1e6, fmt.Sprintf("MB (disk.raw, %.1f MB allocated: sparse)", float64(st.Blocks*512)/1e6))
	}

	if err := qemu.Available(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v: no run figure\n", err)
		return nil
	}
	accel, err := qemu.Accel()
	if err != nil {
		return err
	}
	// The server is started before the clock, as on a developer's machine
	// where it runs already; keel run's own start of it is not the figure.
	if out, err := keel("logserver", "-daemon", "-addr", "127.0.0.1:0").CombinedOutput(); err != nil {
		return fmt.Errorf("keel logserver -daemon: %v\n%s", err, out)
	}
	data := filepath.Join(kh, "logserver")
	st, err := logserver.ReadState(data)
	if err != nil {
		return err
	}
	c, err := logs.AdminClient(data, st.Endpoint)
	if err != nil {
		return err
	}
	run := keel("run", "bench/hello:1")
	t0 = time.Now()
	if err := run.Start(); err != nil {
		return err
	}
	defer func() {
		run.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { run.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			run.Process.Kill()
			<-done
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for {
		out, err := c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("keel/dev"),
			LogStreamNames: []string{"bench/hello"}, FilterPattern: aws.String(`"hello listening"`)})
		if err == nil && len(out.Events) > 0 {
			report("run.to_first_log_ms", float64(time.Since(t0).Milliseconds()), "ms (keel run start to the app's first line in the local server, "+accel+")")
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("the app's first line did not reach the server within 3 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
