package shipper

import (
	"strings"
	"testing"
)

// TestBlocksFIFO: records go out of the block FIFO in the order they went
// in, across block boundaries, oversized records get blocks of their own,
// and recycled blocks are written again.
func TestBlocksFIFO(t *testing.T) {
	cases := []struct {
		name  string
		sizes []int
	}{
		{"small records fill blocks", []int{100, 100, 100, 100, 100, 100}},
		{"a record exactly a block", []int{4096 - recHeader, 1}},
		{"oversized record", []int{10, 10_000, 10}},
		{"many blocks", func() []int {
			var s []int
			for i := 0; i < 200; i++ {
				s = append(s, 1+i*37%1500)
			}
			return s
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bs := blocks{size: 4096}
			for round := 0; round < 3; round++ { // again on recycled blocks
				for i, n := range tc.sizes {
					r := record{ts: int64(i), seq: uint64(i + 1), kind: recEvent, src: uint16(i % 7), data: []byte(strings.Repeat(string(rune('a'+i%26)), n))}
					b := bs.writable(r.size())
					b.buf = putRecord(b.buf, &r)
					b.recs++
				}
				if got := bs.frontSeq(); got != 1 {
					t.Fatalf("front seq %d", got)
				}
				i := 0
				for len(bs.q) > 0 {
					b := bs.popFront()
					for off := 0; off < len(b.buf); i++ {
						var r record
						r, off = readRecord(b.buf, off)
						if r.seq != uint64(i+1) || r.ts != int64(i) || len(r.data) != tc.sizes[i] || r.src != uint16(i%7) || r.data[0] != byte('a'+i%26) {
							t.Fatalf("round %d: record %d is seq %d, %d bytes", round, i, r.seq, len(r.data))
						}
					}
					bs.recycle(b)
				}
				if i != len(tc.sizes) || bs.bytes != 0 || !bs.empty() {
					t.Fatalf("round %d: %d records read, %d bytes left", round, i, bs.bytes)
				}
			}
			if len(bs.free) == 0 {
				t.Fatal("no block was kept for reuse")
			}
		})
	}
}

// TestCountRecord: a chunk's events are the lines that start in it.
func TestCountRecord(t *testing.T) {
	cases := []struct {
		data       string
		cont       bool
		want, size int
	}{
		{"a\nb\n", false, 2, 2},
		{"a\nb", false, 2, 2},
		{"a\nb", true, 1, 2},   // "a" ends a line begun earlier
		{"abc", true, 0, 3},    // the middle of a line
		{"abc", false, 1, 3},   // a line begins, not ended
		{"\n", true, 0, 0},     // just the end of a line
		{"x\n\n", false, 2, 1}, // an empty line counts (it is skipped later)
	}
	for _, tc := range cases {
		r := record{kind: recChunk, data: []byte(tc.data)}
		if tc.cont {
			r.flags = recCont
		}
		if n, by := countRecord(&r); n != tc.want || by != tc.size {
			t.Errorf("countRecord(%q, cont=%v) = %d, %d; want %d, %d", tc.data, tc.cont, n, by, tc.want, tc.size)
		}
	}
}
