package deploy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ebs"
	ebstypes "github.com/aws/aws-sdk-go-v2/service/ebs/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// InFlight is how many blocks an upload sends at once: EBS direct takes
// blocks in any order, and one block at a time waits on the round trip.
const InFlight = 8

// UploadStats says what an upload did.
type UploadStats struct {
	Blocks  int64         // of the disk
	Read    int           // blocks read: those the file system holds data for
	Sent    int           // blocks sent: the read ones that are not all zeros
	Bytes   int64         // sent
	Elapsed time.Duration // sending the blocks
	Total   time.Duration // from StartSnapshot to the snapshot completed
}

// MBPerSecond is the rate of the sent bytes while blocks were sent.
func (s UploadStats) MBPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Bytes) / 1e6 / s.Elapsed.Seconds()
}

// Progress hears of each block done (read and sent or skipped) out of
// total candidates; bytes is what was sent so far.
type Progress func(done, total int, bytes int64)

// Upload writes the disk at path into a new EBS snapshot through the EBS
// direct APIs and returns its id once the snapshot is completed. Blocks
// the file system holds no data for are not read, all-zero blocks are not
// sent (a new snapshot reads zeros there); the others go InFlight at a
// time, each with its SHA256 checksum. If anything fails or ctx ends (the
// user's Ctrl-C), the snapshot is deleted before Upload returns: no
// half-made snapshot stays behind.
func (c *Clients) Upload(ctx context.Context, path string, tags map[string]string, progress Progress) (id string, st UploadStats, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", st, fmt.Errorf("open the disk: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", st, err
	}
	st.Blocks = (fi.Size() + BlockSize - 1) / BlockSize
	blocks, err := dataBlocks(f, fi.Size())
	if err != nil {
		return "", st, err
	}
	st.Read = len(blocks)
	const gib = 1 << 30
	var etags []ebstypes.Tag
	for k, v := range tags {
		etags = append(etags, ebstypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	start := time.Now()
	out, err := c.EBS.StartSnapshot(ctx, &ebs.StartSnapshotInput{
		VolumeSize:  aws.Int64((fi.Size() + gib - 1) / gib),
		Description: aws.String("keel " + tags[TagImage] + " disk.raw"),
		Tags:        etags,
		Timeout:     aws.Int32(60), // minutes without a block before AWS cancels it
	})
	if err != nil {
		return "", st, explain(err, "start an EBS snapshot", "")
	}
	id = aws.ToString(out.SnapshotId)
	defer func() {
		if err != nil {
			// A snapshot that was not completed is of no use: delete it,
			// also when ctx was cancelled (hence WithoutCancel).
			bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if _, derr := c.EC2.DeleteSnapshot(bg, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)}); derr != nil {
				err = fmt.Errorf("%w; deleting the unfinished snapshot %s failed too (%v): delete it with 'aws ec2 delete-snapshot --snapshot-id %s'", err, id, derr, id)
			} else {
				err = fmt.Errorf("%w (the unfinished snapshot %s was deleted)", err, id)
			}
		}
	}()
	t0 := time.Now()
	sent, sentBytes, err := c.putBlocks(ctx, f, id, blocks, progress)
	st.Sent, st.Bytes, st.Elapsed = sent, sentBytes, time.Since(t0)
	if err != nil {
		return id, st, err
	}
	if _, err = c.EBS.CompleteSnapshot(ctx, &ebs.CompleteSnapshotInput{SnapshotId: aws.String(id), ChangedBlocksCount: aws.Int32(int32(sent))}); err != nil {
		return id, st, explain(err, "complete snapshot "+id, "")
	}
	w := ec2.NewSnapshotCompletedWaiter(c.EC2, func(o *ec2.SnapshotCompletedWaiterOptions) { o.MinDelay = time.Second; o.MaxDelay = 5 * time.Second })
	if err = w.Wait(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}}, time.Hour); err != nil {
		return id, st, explain(err, "wait for snapshot "+id+" to complete", "")
	}
	st.Total = time.Since(start)
	return id, st, nil
}

// putBlocks sends the non-zero blocks among those listed, InFlight at a
// time, and returns how many it sent and their bytes.
func (c *Clients) putBlocks(ctx context.Context, f *os.File, id string, blocks []int64, progress Progress) (int, int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan int64)
	var (
		sent, done atomic.Int64
		bytesSent  atomic.Int64
		wg         sync.WaitGroup
		mu         sync.Mutex // serialises progress
	)
	for range min(InFlight, max(1, len(blocks))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, BlockSize)
			for b := range work {
				clear(buf) // the last block of a disk not a multiple of 512 KiB reads short
				if _, err := f.ReadAt(buf, b*BlockSize); err != nil && err != io.EOF {
					cancel(fmt.Errorf("read block %d of %s: %w", b, f.Name(), err))
					return
				}
				if !isZero(buf) {
					sum := sha256.Sum256(buf)
					_, err := c.EBS.PutSnapshotBlock(ctx, &ebs.PutSnapshotBlockInput{
						SnapshotId: aws.String(id), BlockIndex: aws.Int32(int32(b)),
						BlockData: bytes.NewReader(buf), DataLength: aws.Int32(BlockSize),
						Checksum: aws.String(base64.StdEncoding.EncodeToString(sum[:])), ChecksumAlgorithm: ebstypes.ChecksumAlgorithmChecksumAlgorithmSha256,
					})
					if err != nil {
						if ctx.Err() == nil {
							cancel(explain(err, fmt.Sprintf("write block %d of snapshot %s", b, id), ""))
						}
						return
					}
					sent.Add(1)
					bytesSent.Add(BlockSize)
				}
				n := done.Add(1)
				if progress != nil {
					mu.Lock()
					progress(int(n), len(blocks), bytesSent.Load())
					mu.Unlock()
				}
			}
		}()
	}
feed:
	for _, b := range blocks {
		select {
		case work <- b:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		if errors.Is(err, context.Canceled) {
			return int(sent.Load()), bytesSent.Load(), errors.New("upload interrupted")
		}
		return int(sent.Load()), bytesSent.Load(), err
	}
	return int(sent.Load()), bytesSent.Load(), nil
}
