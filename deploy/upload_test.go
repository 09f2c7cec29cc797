package deploy

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ebs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/keelvm/keel/internal/testutil"
)

// snapshotBlocks reads a snapshot back through the EBS direct APIs: its
// written blocks by index.
func snapshotBlocks(t *testing.T, c *Clients, id string) map[int32][]byte {
	t.Helper()
	ctx := context.Background()
	out := map[int32][]byte{}
	in := &ebs.ListSnapshotBlocksInput{SnapshotId: aws.String(id)}
	for {
		page, err := c.EBS.ListSnapshotBlocks(ctx, in, testutil.MotoBlockIndex)
		if err != nil {
			t.Fatalf("list blocks of %s: %v", id, err)
		}
		for _, b := range page.Blocks {
			got, err := c.EBS.GetSnapshotBlock(ctx, &ebs.GetSnapshotBlockInput{SnapshotId: aws.String(id), BlockIndex: b.BlockIndex, BlockToken: b.BlockToken})
			if err != nil {
				t.Fatalf("get block %d of %s: %v", aws.ToInt32(b.BlockIndex), id, err)
			}
			data, err := io.ReadAll(got.BlockData)
			got.BlockData.Close()
			if err != nil {
				t.Fatal(err)
			}
			out[aws.ToInt32(b.BlockIndex)] = data
		}
		if page.NextToken == nil {
			return out
		}
		in.NextToken = page.NextToken
	}
}

// TestUploadSkipsZeros: the snapshot holds exactly the disk's non-zero
// blocks, byte for byte; holes and written zeros are not sent.
func TestUploadSkipsZeros(t *testing.T) {
	c := clients(t)
	p := sparseDisk(t, 10, map[int64]int{0: 0, 4: 100, 9: BlockSize - 4096}, []int64{2, 3})
	var calls int
	id, st, err := c.Upload(context.Background(), p, map[string]string{TagImage: "test/zeros:1"}, func(done, total int, _ int64) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if st.Blocks != 10 || st.Sent != 3 || st.Bytes != 3*BlockSize || calls != st.Read {
		t.Errorf("stats %+v after %d progress calls; want 10 blocks, 3 sent, a call per block read", st, calls)
	}
	disk, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	got := snapshotBlocks(t, c, id)
	var idx []int32
	for i, data := range got {
		idx = append(idx, i)
		if !bytes.Equal(data, disk[int64(i)*BlockSize:int64(i+1)*BlockSize]) {
			t.Errorf("block %d differs from the disk's", i)
		}
	}
	slices.Sort(idx)
	if !slices.Equal(idx, []int32{0, 4, 9}) {
		t.Errorf("snapshot blocks %v, want [0 4 9]", idx)
	}
	snaps, err := c.EC2.DescribeSnapshots(context.Background(), &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}})
	if err != nil || len(snaps.Snapshots) != 1 || snaps.Snapshots[0].State != types.SnapshotStateCompleted {
		t.Errorf("snapshot %s as EC2 sees it: %+v, %v", id, snaps, err)
	}
}

// TestUploadInterrupted: SIGINT (Ctrl-C) during the upload ends it, and
// the unfinished snapshot is deleted.
func TestUploadInterrupted(t *testing.T) {
	c := clients(t)
	data := map[int64]int{}
	for b := range int64(64) {
		data[b] = 0
	}
	p := sparseDisk(t, 64, data, nil)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	sent := false
	id, st, err := c.Upload(ctx, p, map[string]string{TagImage: "test/sigint:1"}, func(done, total int, _ int64) {
		if !sent {
			sent = true
			syscall.Kill(os.Getpid(), syscall.SIGINT)
			// Held until the signal has cancelled the upload: the other
			// workers wait for this callback, so few more blocks go.
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Second):
			}
		}
	})
	if err == nil || !strings.Contains(err.Error(), "interrupted") || !strings.Contains(err.Error(), "was deleted") {
		t.Fatalf("interrupted upload: %v", err)
	}
	if st.Sent > 1+InFlight {
		t.Errorf("%d blocks were sent after the interrupt", st.Sent-1)
	}
	snaps, err := c.EC2.DescribeSnapshots(context.Background(), &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range snaps.Snapshots {
		if aws.ToString(s.SnapshotId) == id {
			t.Errorf("the interrupted upload left snapshot %s (%s)", id, s.State)
		}
	}
}
