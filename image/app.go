package image

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/keelvm/keel/bootcfg"
	"github.com/keelvm/keel/image/elfdeps"
	"github.com/keelvm/keel/image/initramfs"
	"github.com/keelvm/keel/image/store"
)

// appFiles returns the initramfs entries of the app and what it needs,
// and the arguments that go before the user's (java's -jar app.jar).
func (f Fuse) appFiles() ([]initramfs.Entry, store.App, []string, error) {
	app := store.App{Source: f.App}
	fi, err := os.Stat(f.App)
	if err != nil {
		return nil, app, nil, fmt.Errorf("app %s: %w", f.App, err)
	}
	owner := f.owner()
	var (
		files []initramfs.Entry
		lead  []string
		exe   string   // host path of the program the image runs
		roots []string // host paths of a directory app
		dir   bool
	)
	switch {
	case fi.IsDir():
		if f.Entrypoint == "" {
			return nil, app, nil, fmt.Errorf("app %s is a directory: name the program to run in it with -entrypoint (a path relative to the directory)", f.App)
		}
		// A root given as a symlink (current -> releases/v42) is its target.
		// Absolute, so that the entrypoint's resolved path can be compared
		// with it: a relative root ("." above all) and an absolute link
		// into it would otherwise look like a link out of the directory.
		abs, err := filepath.Abs(f.App)
		if err != nil {
			return nil, app, nil, fmt.Errorf("app %s: %w", f.App, err)
		}
		root, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return nil, app, nil, fmt.Errorf("app %s: %w", f.App, err)
		}
		rel := path.Clean("/" + filepath.ToSlash(f.Entrypoint))
		exe = filepath.Join(root, filepath.FromSlash(rel))
		efi, err := os.Stat(exe)
		if err != nil {
			return nil, app, nil, fmt.Errorf("entrypoint %s: %w", f.Entrypoint, err)
		}
		// Said plainly: read as a program, a directory fails with "is a
		// directory" twice over, and "." would pass for a link out of it.
		if efi.IsDir() {
			return nil, app, nil, fmt.Errorf("entrypoint %s is a directory: name the program to run, relative to %s (for example bin/server)", f.Entrypoint, f.App)
		}
		// What the image runs must be in the image: an entrypoint that
		// is a link out of the directory would dangle there.
		real, err := filepath.EvalSymlinks(exe)
		if err != nil || !strings.HasPrefix(real, root+string(filepath.Separator)) {
			return nil, app, nil, fmt.Errorf("entrypoint %s is a link to %s, outside %s: the image holds only the directory; copy the program into it", f.Entrypoint, real, f.App)
		}
		if efi.Mode()&0o111 == 0 {
			return nil, app, nil, fmt.Errorf("entrypoint %s is not executable: chmod +x it", exe)
		}
		app.Path = "/app" + rel
		files, err = treeFiles(root, "/app", owner, abs)
		if err != nil {
			return nil, app, nil, err
		}
		exe, roots, dir = real, []string{root, abs}, true
	case fi.Mode().IsRegular() && isJar(f.App):
		if f.Entrypoint != "" {
			return nil, app, nil, fmt.Errorf("-entrypoint is for a directory app, and %s is a JAR: keel runs it with java -jar", f.App)
		}
		var notes []string
		files, app, lead, notes, err = f.jarFiles(owner)
		if err != nil {
			return nil, app, nil, err
		}
		for _, n := range notes {
			if !f.checking {
				fmt.Fprintf(f.Progress, "  note     %s\n", n)
			}
		}
		exe, roots = "", nil
	case fi.Mode().IsRegular():
		if f.Entrypoint != "" {
			return nil, app, nil, fmt.Errorf("-entrypoint is for a directory app, and %s is a file", f.App)
		}
		exe = f.App
		app.Path = "/app/" + filepath.Base(f.App)
		files = []initramfs.Entry{{Path: app.Path, Kind: initramfs.File, Mode: 0o755, Source: f.App}}
	default:
		return nil, app, nil, fmt.Errorf("app %s is neither a file nor a directory", f.App)
	}

	tls := false
	if exe != "" {
		ep, err := f.entrypoint(exe, app.Path, dir, files)
		if err != nil {
			return nil, app, nil, err
		}
		files = append(files, ep.files...)
		app.Kind, app.Runtime, tls = ep.kind, ep.runtime, ep.tls
		if ep.program != "" {
			app.Path, lead = ep.program, ep.lead
		}
	}
	libs, plan, err := f.libraries(files, app.Path, roots)
	if err != nil {
		return nil, app, nil, err
	}
	files = append(files, libs...)
	for _, l := range plan.Libs {
		app.Libs = append(app.Libs, l.Guest)
	}
	if f.Certs == "yes" || (f.Certs == "auto" && (tls || plan.TLS)) {
		if _, err := os.Stat(f.CABundle); err != nil {
			return nil, app, nil, fmt.Errorf("the app makes TLS connections and needs CA certificates, but %s is missing: install the Debian package ca-certificates, or fuse with -certs=no", f.CABundle)
		}
		files = append(files, initramfs.Entry{Path: HostCABundle, Kind: initramfs.File, Mode: 0o644, Source: f.CABundle})
		app.Certs = true
		have := map[string]bool{}
		for _, e := range files {
			have[e.Path] = true
		}
		files = append(files, opensslCerts(plan, have)...)
	}
	// Programs that look up their user (os/user, getpwuid) find one.
	files = append(files,
		initramfs.Entry{Path: "/etc/passwd", Kind: initramfs.File, Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		initramfs.Entry{Path: "/etc/group", Kind: initramfs.File, Mode: 0o644, Data: []byte("root:x:0:\nnogroup:x:65534:\n")},
	)
	return files, app, lead, nil
}

// owner is the uid of the app's files: its user's, so that it may use
// them; the names are those of the image's /etc/passwd.
func (f Fuse) owner() int {
	switch f.User { // checked by prepare: a uid, root or nobody
	case "", "nobody":
		uid, _ := strconv.Atoi(bootcfg.DefaultUser)
		return uid
	case "root":
		return 0
	}
	if uid, err := strconv.Atoi(f.User); err == nil {
		return uid
	}
	return -1
}

// libraries returns the entries that make every ELF file of files load in
// the image: program interpreters, libraries from the host, links.
func (f Fuse) libraries(files []initramfs.Entry, entry string, roots []string) ([]initramfs.Entry, elfdeps.Plan, error) {
	var objs []elfdeps.Object
	for _, e := range files {
		if e.Kind == initramfs.File && e.Source != "" && strings.HasPrefix(e.Path, "/app/") && elfdeps.IsELF(e.Source) && elfdeps.Loadable(e.Source) {
			objs = append(objs, elfdeps.Object{Host: e.Source, Guest: e.Path})
		}
	}
	// The entrypoint first (its interpreter and libraries are found
	// first), then in path order.
	host := hostFiles(files)
	sort.SliceStable(objs, func(i, j int) bool {
		if (objs[i].Host == host[entry]) != (objs[j].Host == host[entry]) {
			return objs[i].Host == host[entry]
		}
		return objs[i].Guest < objs[j].Guest
	})
	r := &elfdeps.Resolver{}
	plan, err := r.Plan(elfdeps.Layout{Objects: objs, Files: host, Roots: roots, Prefix: "/app"})
	if err != nil {
		return nil, plan, err
	}
	// Said by image path where the needing file is the app's.
	guestOf := map[string]string{}
	for _, e := range files {
		if e.Source != "" {
			guestOf[e.Source] = e.Path
		}
	}
	name := func(host string) string {
		if g, ok := guestOf[host]; ok {
			return g
		}
		return host
	}
	var out []initramfs.Entry
	for _, p := range append(plan.Interps, plan.Libs...) {
		out = append(out, initramfs.Entry{Path: p.Guest, Kind: initramfs.File, Mode: 0o755, Source: p.Host})
		if f.Verbose && !f.checking {
			fmt.Fprintf(f.Progress, "  + %s (from the host, for %s)\n", p.Guest, name(p.For))
		}
	}
	for _, l := range plan.Links {
		out = append(out, initramfs.Entry{Path: l.Guest, Kind: initramfs.Symlink, Mode: 0o777, Data: []byte(l.Target)})
		if f.Verbose && !f.checking {
			fmt.Fprintf(f.Progress, "  + %s -> %s (for %s)\n", l.Guest, l.Target, name(l.For))
		}
	}
	for _, n := range plan.Notes {
		if !f.checking {
			fmt.Fprintf(f.Progress, "  note     %s\n", n)
		}
	}
	return out, plan, nil
}
