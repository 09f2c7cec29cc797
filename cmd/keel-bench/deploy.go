package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/keelvm/keel/deploy"
	"github.com/keelvm/keel/image/kernel"
	"github.com/keelvm/keel/internal/home"
	"github.com/keelvm/keel/internal/testutil"
)

func init() { benches = append(benches, bench{"deploy", benchDeploy}) }

// benchDeploy fuses the example app for AWS and puts its disk.raw into an
// EBS snapshot on a moto_server standing in for AWS: the upload's rate
// (loopback; moto's Python is the far end, not a network) and the share
// of the disk's blocks sent, which must be what the disk's allocation
// says (blocks with data that are not all zeros). Then the seconds of
// `keel run -env bench -detach`, first with the upload, then reusing the AMI.
func benchDeploy(scratch string, _ int) error {
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
	kh := filepath.Join(scratch, "deploy-home")
	os.MkdirAll(kh, 0o755)
	if err := os.Symlink(cache, filepath.Join(kh, "kernels")); err != nil && !os.IsExist(err) {
		return err
	}
	moto, err := testutil.StartMoto(scratch)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v: no deploy figures\n", err)
		return nil
	}
	defer moto.Stop()
	awsEnv := append(moto.Env("AKIDBENCH", "secret"), "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+filepath.Join(kh, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(kh, "none"))
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(append(env, "KEEL_HOME="+kh, "KEEL_INIT="+mustAbs("bin/keel-init")), awsEnv...)
	keel := func(args ...string) *exec.Cmd {
		c := exec.Command(keelBin, args...)
		c.Env = env
		return c
	}
	if out, err := keel("fuse", "bin/hello", "-name", "bench/hello:aws", "-force", "-target", "aws", "--", "-addr", ":8080").CombinedOutput(); err != nil {
		return fmt.Errorf("keel fuse -target aws: %v\n%s", err, out)
	}
	disk := filepath.Join(kh, "images", "bench", "hello", "aws", "disk.raw")
	total, allocated, nonzero, err := deploy.DiskBlocks(disk)
	if err != nil {
		return err
	}

	for _, kv := range awsEnv { // this process's clients, as keel's would be
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	ctx := context.Background()
	c, err := deploy.Connect(ctx, "us-east-1")
	if err != nil {
		return err
	}
	// Twice: moto_server loads each service's backend on its first
	// request; the second upload is the figure.
	var st deploy.UploadStats
	for range 2 {
		if _, st, err = c.Upload(ctx, disk, map[string]string{deploy.TagImage: "bench/hello:aws"}, nil); err != nil {
			return err
		}
	}
	report("deploy.upload_mb_per_s", st.MBPerSecond(), fmt.Sprintf("MB/s (%d blocks of 512 KiB to moto_server on loopback, %d in flight)", st.Sent, deploy.InFlight))
	ratio := float64(st.Sent) / float64(st.Blocks)
	report("deploy.blocks_sent_ratio", ratio, fmt.Sprintf("(%d of %d blocks sent; the file system holds data for %d, of which %d are not all zeros)", st.Sent, st.Blocks, len(allocated), len(nonzero)))
	if st.Blocks != total || st.Sent != len(nonzero) {
		return fmt.Errorf("the upload sent %d of %d blocks, the disk's allocation says %d of %d", st.Sent, st.Blocks, len(nonzero), total)
	}

	for _, pass := range []string{"first", "again"} {
		t0 := time.Now()
		if out, err := keel("run", "bench/hello:aws", "-env", "bench", "-detach").CombinedOutput(); err != nil {
			return fmt.Errorf("keel run -env bench: %v\n%s", err, out)
		}
		what := map[string]string{"first": "s (log group, role, upload, AMI, instance; moto_server)", "again": "s (everything found and reused but the instance)"}[pass]
		report("deploy.run_"+pass+"_seconds", time.Since(t0).Seconds(), what)
	}
	return nil
}

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		fail(err)
	}
	return a
}
