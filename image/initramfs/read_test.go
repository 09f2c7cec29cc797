package initramfs

import (
	"bytes"
	"compress/gzip"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// archive returns the compressed archive of entries (WriteTo's zstd), and
// the same archive gzip-compressed and uncompressed, as older keel images
// and other tools write them.
func archive(t *testing.T, entries ...Entry) (zst, gz, raw []byte) {
	t.Helper()
	a := New()
	for _, e := range entries {
		if err := a.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	var z, g, r bytes.Buffer
	if _, err := a.WriteTo(&z); err != nil {
		t.Fatal(err)
	}
	if err := a.writeCPIO(&r); err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(&g)
	zw.Write(r.Bytes())
	zw.Close()
	return z.Bytes(), g.Bytes(), r.Bytes()
}

func TestRead(t *testing.T) {
	random := make([]byte, 300<<10) // stored as raw blocks
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	baseZ, baseG, baseR := archive(t,
		Entry{Path: "/init", Kind: File, Mode: 0o755, Data: random},
		Entry{Path: "/zeros", Kind: File, Mode: 0o644, Data: make([]byte, 1<<20)}, // RLE blocks
		Entry{Path: "/etc/keel/config.json", Kind: File, Mode: 0o644, Data: []byte(`{"app":"/a"}`)},
	)
	overZ, overG, _ := archive(t, Entry{Path: "/etc/keel/config.json", Kind: File, Mode: 0o644, Data: []byte(`{"app":"/b"}`)})
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	pad := []byte{0, 0, 0}
	base := []string{"/etc", "/etc/keel", "/etc/keel/config.json", "/init", "/zeros"}
	over := []string{"/etc", "/etc/keel", "/etc/keel/config.json"}
	cases := []struct {
		name    string
		in      []byte
		want    []string // paths in archive order
		lastApp string   // the last config.json's app
		err     string
	}{
		{"zstd", baseZ, base, "/a", ""},
		{"gzip", baseG, base, "/a", ""},
		{"uncompressed", baseR, base, "/a", ""},
		{"zstd, padding, zstd (keel run's overlay)", cat(baseZ, pad, overZ), append(base, over...), "/b", ""},
		{"gzip then zstd", cat(baseG, overZ), append(base, over...), "/b", ""},
		{"zstd then gzip", cat(baseZ, pad, overG), append(base, over...), "/b", ""},
		{"uncompressed then zstd", cat(baseR, pad, overZ), append(base, over...), "/b", ""},
		{"zstd cut short", baseZ[:len(baseZ)-10], nil, "", "cut short"},
		{"not an archive", []byte("hello"), nil, "", "neither a zstd, gzip nor newc"},
		{"garbage after an archive", cat(baseZ, []byte("x")), base, "/a", "neither"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Read(bytes.NewReader(tc.in))
			if tc.err == "" && err != nil {
				t.Fatal(err)
			}
			if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("err = %v, want one saying %q", err, tc.err)
			}
			var paths []string
			app := ""
			for _, e := range got {
				paths = append(paths, e.Path)
				switch e.Path {
				case "/etc/keel/config.json":
					app = strings.TrimSuffix(strings.TrimPrefix(string(e.Data), `{"app":"`), `"}`)
				case "/init":
					if !bytes.Equal(e.Data, random) {
						t.Error("/init's content differs")
					}
				case "/zeros":
					if len(e.Data) != 1<<20 || bytes.Count(e.Data, []byte{0}) != 1<<20 {
						t.Error("/zeros' content differs")
					}
				}
			}
			if strings.Join(paths, " ") != strings.Join(tc.want, " ") || app != tc.lastApp {
				t.Errorf("read %v (app %q), want %v (app %q)", paths, app, tc.want, tc.lastApp)
			}
		})
	}
}

// TestReadRefusesHugeFrames: a zstd frame may claim any content size in
// its header; Read refuses one over its bound instead of allocating it
// (the decoder's own bound is 64 GiB).
func TestReadRefusesHugeFrames(t *testing.T) {
	// A 1 MiB window (not single-segment: the decoder bounds windows
	// itself), 3 GiB of content claimed, one empty last raw block.
	frame := append(append([]byte{}, zstdMagic...), 0xc0, 0x50, 0, 0, 0, 0xc0, 0, 0, 0, 0, 1, 0, 0)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Read(bytes.NewReader(frame))
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("a frame claiming 3 GiB and holding nothing was read")
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
		t.Fatalf("reading it allocated %d MiB (%v)", n>>20, err)
	}
}
