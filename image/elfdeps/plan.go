package elfdeps

import (
	"debug/elf"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// LibDir is the directory of the image where a library goes when the
// image's loader would not find it where it is: the first directory the
// loader searches when there is no ld.so.cache (the image has none).
const LibDir = "/lib/x86_64-linux-gnu"

// ImageDirs are the directories Debian's loader searches by itself, with
// no ld.so.cache and no LD_LIBRARY_PATH (`ld.so --help`, "system search
// path"): what an image's loader finds without help.
var ImageDirs = []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib"}

// glibcHelpers are libraries glibc loads with dlopen, which no DT_NEEDED
// names: the NSS modules for /etc/hosts and DNS (getaddrinfo), and libgcc_s
// for unwinding (pthread_cancel, backtrace). They come along with libc.
var glibcHelpers = []string{"libnss_files.so.2", "libnss_dns.so.2", "libgcc_s.so.1"}

// Object is an ELF file of the app: its host path, and its path in the
// image.
type Object struct{ Host, Guest string }

// Layout is the app as the image will hold it, for Plan.
type Layout struct {
	// Objects are the app's ELF files, the entrypoint first.
	Objects []Object
	// Files maps each regular file and symlink of the app's directory
	// (image path) to the host path it is read from: the directory's own
	// copies of libraries, found before the host's.
	Files map[string]string
	// Roots are the host paths of the app's directory (the directory, and
	// the paths the user knows it by), which Prefix replaces in the image:
	// an absolute RPATH into the directory is looked up there.
	Roots  []string
	Prefix string
}

// Plan is what the image needs besides the app's own files for its ELF
// files to load, with no LD_LIBRARY_PATH.
type Plan struct {
	// Interps are the program interpreters, at the path the programs name
	// (Guest), read from Host.
	Interps []Placed
	// Libs are the host libraries to add, each at its host path.
	Libs []Placed
	// Links are symlinks to add so that the image's loader finds a
	// library it would not find where it is: Guest -> Target.
	Links []Link
	// TLS is true when a library that speaks TLS is needed.
	TLS bool
	// Notes say what the caller may want to tell the user.
	Notes []string
}

// Placed is a file added from the host.
type Placed struct {
	Name  string // what the loader looks for (DT_NEEDED), or the interpreter's path
	Host  string // the file read
	Guest string // its path in the image
	For   string // the file that needed it first (host path)
}

// Link is a symlink the image needs.
type Link struct {
	Guest, Target string
	For           string // the file that needed it first (host path)
}

// obj is an ELF file being walked: where it is read from, where it will
// be in the image, and whether it is one of the app's files.
type obj struct {
	host, guest string
	inApp       bool
	// origin is $ORIGIN on the host and in the image.
	hostOrigin, guestOrigin string
}

// dirPair is a search directory as the host's loader and the image's
// loader see it; app is the directory of the app it lies in, if any.
type dirPair struct{ host, guest, app string }

// Plan finds, for every ELF file of the app, the libraries its DT_NEEDED
// names, as the image's loader would search for them: the object's
// RPATH/RUNPATH ($ORIGIN expanded), the app directory's own copies (by
// name), then this host's libraries (r.Dirs). Each library is added once
// at its host path; a library the image's loader would not find there
// gets a link in LibDir. A library found nowhere is an error that names
// the file needing it.
func (r *Resolver) Plan(l Layout) (Plan, error) {
	if r.Dirs == nil {
		r.Dirs = r.defaultDirs()
	}
	p := &planner{r: r, l: l, guests: map[string]string{}, walked: map[string]bool{}, interps: map[string]bool{}}
	for _, o := range l.Objects {
		f, err := open(o.Host)
		if err != nil {
			return Plan{}, err
		}
		interp, err := interpreter(f)
		f.Close()
		if err != nil {
			return Plan{}, fmt.Errorf("read %s: %w", o.Host, err)
		}
		if interp == "" || p.interps[interp] {
			continue
		}
		p.interps[interp] = true
		host, err := r.existing(interp)
		if err != nil {
			return Plan{}, fmt.Errorf("%s needs the program interpreter %s, which is not on this host: %w", o.Host, interp, err)
		}
		p.out.Interps = append(p.out.Interps, Placed{Name: interp, Host: host, Guest: interp, For: o.Host})
		p.guests[interp] = host
	}
	for _, o := range l.Objects {
		// The executable's $ORIGIN is where the file itself is, symlinks
		// resolved (the loader takes it from /proc/self/exe).
		hostOrigin := filepath.Dir(o.Host)
		if real, err := filepath.EvalSymlinks(o.Host); err == nil {
			hostOrigin = filepath.Dir(real)
		}
		if err := p.walk(obj{host: o.Host, guest: o.Guest, inApp: true, hostOrigin: hostOrigin, guestOrigin: path.Dir(o.Guest)}, nil, nil); err != nil {
			return Plan{}, err
		}
	}
	// glibc's dlopened helpers, from where libc came.
	for _, lib := range slices.Clone(p.out.Libs) {
		if lib.Name != "libc.so.6" {
			continue
		}
		for _, h := range glibcHelpers {
			host := filepath.Join(filepath.Dir(lib.Host), h)
			guest := path.Join(path.Dir(lib.Guest), h)
			if _, taken := p.guests[guest]; taken || !isX8664(host) {
				continue
			}
			p.place(Placed{Name: h, Host: host, Guest: guest, For: lib.Host}, !slices.Contains(ImageDirs, path.Dir(guest)))
			if err := p.walk(obj{host: host, guest: guest, hostOrigin: filepath.Dir(host), guestOrigin: path.Dir(guest)}, []string{lib.Host}, nil); err != nil {
				return Plan{}, err
			}
		}
	}
	sort.Slice(p.out.Links, func(i, j int) bool { return p.out.Links[i].Guest < p.out.Links[j].Guest })
	return p.out, nil
}

type planner struct {
	r       *Resolver
	l       Layout
	out     Plan
	guests  map[string]string // image path of every library, interpreter and link added: its host file or link target
	walked  map[string]bool   // host paths of objects walked
	interps map[string]bool
}

// walk resolves the DT_NEEDED of o, and of what it finds. rpaths are the
// DT_RPATHs of the objects that loaded o, nearest first: the loader
// searches them for o's dependencies unless o has a DT_RUNPATH.
func (p *planner) walk(o obj, chain []string, rpaths [][]dirPair) error {
	if p.walked[o.host] {
		return nil
	}
	p.walked[o.host] = true
	f, err := open(o.host)
	if err != nil {
		return err
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		return fmt.Errorf("read dynamic section of %s: %w", o.host, err)
	}
	rpath, runpath, hasRunpath := p.searchDirs(o, f)
	rpaths = append([][]dirPair{rpath}, rpaths...)
	var dirs []dirPair
	if !hasRunpath {
		for _, d := range rpaths {
			dirs = append(dirs, d...)
		}
	}
	dirs = append(dirs, runpath...)
	chain = append(chain[:len(chain):len(chain)], o.host)
	for _, name := range libs {
		if isTLSLibrary(name) {
			p.out.TLS = true
		}
		if p.isInterp(name) {
			continue
		}
		found, err := p.find(name, o, dirs, chain)
		if err != nil {
			return err
		}
		if err := p.walk(found, chain, rpaths); err != nil {
			return err
		}
	}
	return nil
}

// isInterp: the interpreter is the loader, which libc names as a
// dependency; it is in memory already, under the interpreter's path.
func (p *planner) isInterp(name string) bool {
	for i := range p.interps {
		if path.Base(i) == name {
			return true
		}
	}
	return false
}

// searchDirs reads o's DT_RPATH and DT_RUNPATH (rpath is nil when there
// is a DT_RUNPATH, which the loader then follows alone).
func (p *planner) searchDirs(o obj, f *elf.File) (rpath, runpath []dirPair, hasRunpath bool) {
	dirs := func(tag elf.DynTag) ([]dirPair, bool) {
		vals, _ := f.DynString(tag)
		var out []dirPair
		for _, v := range vals {
			for _, d := range strings.Split(v, ":") {
				if d == "" {
					continue
				}
				dp := dirPair{host: expandOrigin(d, o.hostOrigin), guest: expandOrigin(d, o.guestOrigin)}
				switch {
				case o.inApp && d != dp.guest: // $ORIGIN: the same place of the app in both
					dp.app = path.Clean(dp.guest)
				case o.inApp:
					dp.app = p.intoApp(d)
				}
				out = append(out, dp)
			}
		}
		return out, len(vals) > 0
	}
	runpath, hasRunpath = dirs(elf.DT_RUNPATH)
	if !hasRunpath {
		rpath, _ = dirs(elf.DT_RPATH)
	}
	return rpath, runpath, hasRunpath
}

func expandOrigin(d, origin string) string {
	d = strings.ReplaceAll(d, "${ORIGIN}", origin)
	return strings.ReplaceAll(d, "$ORIGIN", origin)
}

// intoApp maps an absolute host directory inside the app's directory to
// its image path; "" if it is not inside.
func (p *planner) intoApp(dir string) string {
	if !filepath.IsAbs(dir) {
		return ""
	}
	clean := filepath.Clean(dir)
	for _, root := range p.l.Roots {
		if root == "" {
			continue
		}
		if rel, err := filepath.Rel(filepath.Clean(root), clean); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return path.Join(p.l.Prefix, filepath.ToSlash(rel))
		}
	}
	return ""
}

// find resolves one DT_NEEDED name of o and adds what the image needs for
// it; it returns the library found, to be walked in turn.
func (p *planner) find(name string, o obj, dirs []dirPair, chain []string) (obj, error) {
	// What the image's loader searches for o, besides its own directories.
	literal := make([]string, 0, len(dirs))
	for _, d := range dirs {
		literal = append(literal, path.Clean(d.guest))
	}
	onPath := func(dir string) bool {
		return slices.Contains(literal, dir) || slices.Contains(ImageDirs, dir)
	}
	// 1. The object's search path, where it lies in the app's directory.
	for _, d := range dirs {
		if d.app == "" {
			continue
		}
		guest := path.Join(d.app, name)
		if host, ok := p.l.Files[guest]; ok && isX8664(host) {
			if !onPath(d.app) {
				p.link(name, guest, o.host)
			}
			return obj{host: host, guest: guest, inApp: true, hostOrigin: filepath.Dir(host), guestOrigin: d.app}, nil
		}
	}
	// 2. The directory's own copy, wherever it is in the directory.
	if guest, host, ok := p.own(name, o.guest); ok {
		if !onPath(path.Dir(guest)) {
			p.link(name, guest, o.host)
		}
		return obj{host: host, guest: guest, inApp: true, hostOrigin: filepath.Dir(host), guestOrigin: path.Dir(guest)}, nil
	}
	// 3. This host: the object's search path, then the system's.
	var hostDirs []string
	for _, d := range dirs {
		if d.app == "" {
			hostDirs = append(hostDirs, d.host)
		}
	}
	var host string
	if strings.Contains(name, "/") {
		if h, err := p.r.existing(name); err == nil {
			host = h
		}
	} else if h, err := p.r.find(name, hostDirs); err == nil {
		host = h
	}
	if host == "" {
		needer := chain[len(chain)-1]
		if len(chain) > 1 {
			needer = fmt.Sprintf("%s (needed by %s)", needer, chain[0])
		}
		return obj{}, fmt.Errorf("%s needs shared library %s, which is neither in the app's directory nor on this host: install the package that has it, or put it in the directory", needer, name)
	}
	guest := filepath.ToSlash(strings.TrimPrefix(host, p.r.Root))
	if !strings.HasPrefix(guest, "/") {
		guest = "/" + guest
	}
	if _, taken := p.guests[guest]; !taken {
		p.place(Placed{Name: name, Host: host, Guest: guest, For: o.host}, !onPath(path.Dir(guest)))
	} else if !onPath(path.Dir(guest)) {
		p.link(name, guest, o.host)
	}
	return obj{host: host, guest: guest, hostOrigin: filepath.Dir(host), guestOrigin: path.Dir(guest)}, nil
}

// own finds the app's own copy of a library by name: in the needing
// file's directory first, else the first in path order.
func (p *planner) own(name, needer string) (guest, host string, ok bool) {
	if h, found := p.l.Files[path.Join(path.Dir(needer), name)]; found && isX8664(h) {
		return path.Join(path.Dir(needer), name), h, true
	}
	var cands []string
	for g := range p.l.Files {
		if path.Base(g) == name {
			cands = append(cands, g)
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if len(cands[i]) != len(cands[j]) {
			return len(cands[i]) < len(cands[j])
		}
		return cands[i] < cands[j]
	})
	for _, g := range cands {
		if isX8664(p.l.Files[g]) {
			return g, p.l.Files[g], true
		}
	}
	return "", "", false
}

// place adds a host library, and a link in LibDir when the image's loader
// would not find it where it is.
func (p *planner) place(pl Placed, link bool) {
	p.guests[pl.Guest] = pl.Host
	p.out.Libs = append(p.out.Libs, pl)
	if link {
		p.link(pl.Name, pl.Guest, pl.For)
	}
}

// link adds LibDir/name -> target, unless LibDir/name is taken: then the
// image's loader finds that one, and a note says so.
func (p *planner) link(name, target, needer string) {
	g := path.Join(LibDir, name)
	if g == target {
		return
	}
	if old, taken := p.guests[g]; taken {
		if old != "link:"+target {
			p.out.Notes = append(p.out.Notes, fmt.Sprintf("%s needs %s from %s, but the image's %s is another file; the loader may take that one", needer, name, target, g))
		}
		return
	}
	p.guests[g] = "link:" + target
	p.out.Links = append(p.out.Links, Link{Guest: g, Target: target, For: needer})
}

// IsELF reports whether path is a regular file starting with the ELF
// magic.
func IsELF(path string) bool {
	fh, err := os.Open(path)
	if err != nil {
		return false
	}
	defer fh.Close()
	var magic [4]byte
	n, _ := fh.Read(magic[:])
	return n == 4 && string(magic[:]) == elf.ELFMAG
}

// Loadable reports whether path is an x86-64 executable or shared object
// (what the loader maps), and not an object file, core dump or an ELF of
// another machine, which an app directory may also hold.
func Loadable(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return f.Machine == elf.EM_X86_64 && f.Class == elf.ELFCLASS64 && (f.Type == elf.ET_EXEC || f.Type == elf.ET_DYN)
}
