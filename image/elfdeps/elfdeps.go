// Package elfdeps tells what an x86-64 Linux executable needs to run in an
// image that holds nothing else: whether it is static, and if not, its
// program interpreter and the shared libraries it needs, found on the host
// the way the dynamic loader would find them. It also guesses whether the
// program speaks TLS, so that the image builder can add CA certificates.
//
// Plan does it for every ELF file of an app directory at once, as the
// image's loader (with no ld.so.cache) will search: it says which host
// libraries to add, where, and which links the image needs. It knows the
// loader's rules, not how images are written.
//
// It reads ELF files with debug/elf; it never runs them (ldd would, and
// ldd on an untrusted binary executes its code).
package elfdeps

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Info is what an executable needs.
type Info struct {
	Static bool
	// Interp is the program interpreter named in the binary (e.g.
	// /lib64/ld-linux-x86-64.so.2); InterpHost is the host file it is.
	Interp, InterpHost string
	// Libs are the shared libraries needed, transitively, in a stable
	// order: each with the name the loader looks for and the host file.
	Libs []Lib
	// TLS is true when the program probably makes TLS connections (a Go
	// program linking crypto/tls, or a library such as libssl).
	TLS bool
}

// Lib is one shared library.
type Lib struct {
	Name string // DT_NEEDED name, e.g. libc.so.6
	Path string // where it is found on the host, e.g. /lib/x86_64-linux-gnu/libc.so.6
}

// ErrNotELF is returned for a file that is not an ELF executable.
var ErrNotELF = errors.New("not an ELF executable")

// Resolver finds libraries. Root, when set, is prefixed to every search
// path (tests point it at a fake filesystem).
type Resolver struct {
	Root string
	// Dirs are searched after a binary's own RUNPATH; default: the
	// directories of /etc/ld.so.conf plus the loader's built-in ones.
	Dirs []string
}

// Inspect reads path and resolves its dependencies with the host's
// libraries.
func Inspect(path string) (Info, error) { return (&Resolver{}).Inspect(path) }

// Inspect reads path and resolves its dependencies.
func (r *Resolver) Inspect(path string) (Info, error) {
	f, err := open(path)
	if err != nil {
		return Info{}, err
	}
	defer f.Close()
	var info Info
	info.TLS = usesGoTLS(path)
	interp, err := interpreter(f)
	if err != nil {
		return Info{}, fmt.Errorf("read %s: %w", path, err)
	}
	needed, err := f.ImportedLibraries()
	if err != nil {
		return Info{}, fmt.Errorf("read dynamic section of %s: %w", path, err)
	}
	if interp == "" && len(needed) == 0 {
		info.Static = true
		return info, nil
	}
	if interp == "" {
		return Info{}, fmt.Errorf("%s needs shared libraries %v but names no program interpreter: it is a library, not an executable", path, needed)
	}
	info.Interp = interp
	info.InterpHost, err = r.existing(interp)
	if err != nil {
		return Info{}, fmt.Errorf("%s needs the program interpreter %s, which is not on this host: %w", path, interp, err)
	}
	if r.Dirs == nil {
		r.Dirs = r.defaultDirs()
	}
	seen := map[string]bool{}
	// rpaths are the DT_RPATHs of the object being walked and of those
	// that loaded it, nearest first: the loader searches them all for the
	// object's dependencies unless the object has a DT_RUNPATH.
	var walk func(from, origin string, f *elf.File, chain []string, rpaths [][]string) error
	walk = func(from, origin string, f *elf.File, chain []string, rpaths [][]string) error {
		libs, err := f.ImportedLibraries()
		if err != nil {
			return fmt.Errorf("read dynamic section of %s: %w", from, err)
		}
		sp := r.searchPath(origin, f)
		rpaths = append([][]string{sp.rpath}, rpaths...)
		var dirs []string
		if !sp.hasRunpath {
			for _, d := range rpaths {
				dirs = append(dirs, d...)
			}
		}
		dirs = append(dirs, sp.runpath...)
		for _, name := range libs {
			if isTLSLibrary(name) {
				info.TLS = true
			}
			// The interpreter is the loader libc names as a dependency:
			// it is in memory already, under the interpreter's path.
			if seen[name] || name == filepath.Base(info.Interp) {
				continue
			}
			seen[name] = true
			host, err := r.find(name, dirs)
			if err != nil {
				return fmt.Errorf("%s needs shared library %s (via %s), which is not on this host: install the package that has it, or build the app static (CGO_ENABLED=0)", path, name, strings.Join(append(chain, filepath.Base(from)), " -> "))
			}
			info.Libs = append(info.Libs, Lib{Name: name, Path: host})
			lf, err := open(host)
			if err != nil {
				return err
			}
			// A library's $ORIGIN is the directory it was found in, as
			// the loader opened it: symlinks are not resolved.
			err = walk(host, filepath.Dir(host), lf, append(chain, filepath.Base(from)), rpaths)
			lf.Close()
			if err != nil {
				return err
			}
		}
		return nil
	}
	// The executable's $ORIGIN is where the file itself is: the loader
	// takes it from /proc/self/exe, symlinks resolved, so an app started
	// through a link (/usr/local/bin/app -> /opt/app/bin/app) finds
	// $ORIGIN/../lib under /opt/app.
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		return Info{}, fmt.Errorf("resolve %s: %w", path, err)
	}
	if err := walk(path, filepath.Dir(resolved), f, nil, nil); err != nil {
		return Info{}, err
	}
	return info, nil
}

// open opens an ELF file and checks it is x86-64 Linux.
func open(path string) (*elf.File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var magic [4]byte
	if _, err := io.ReadFull(fh, magic[:]); err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		fh.Close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	} else if string(magic[:]) != elf.ELFMAG {
		fh.Close()
		what := "its first bytes are not \\x7fELF"
		if err == nil && magic[0] == '#' && magic[1] == '!' {
			what = "it is a script, and an image runs programs: make the entrypoint a binary (for example a static build of your program)"
		}
		return nil, fmt.Errorf("%s is %w: %s", path, ErrNotELF, what)
	}
	fh.Close()
	// elf.Open, not elf.NewFile: only the former's Close closes the file.
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s is %w: %v", path, ErrNotELF, err)
	}
	if f.Machine != elf.EM_X86_64 || f.Class != elf.ELFCLASS64 {
		f.Close()
		return nil, fmt.Errorf("%s is built for %v (%v), but keel images run x86-64: rebuild it for amd64 (Go: GOARCH=amd64)", path, f.Machine, f.Class)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		f.Close()
		return nil, fmt.Errorf("%s is %w: it is an ELF %v file", path, ErrNotELF, f.Type)
	}
	return f, nil
}

func interpreter(f *elf.File) (string, error) {
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := io.ReadAll(p.Open())
			if err != nil {
				return "", fmt.Errorf("read PT_INTERP: %w", err)
			}
			return string(bytes.TrimRight(b, "\x00")), nil
		}
	}
	return "", nil
}

// searchPath is an object's own library search directories, $ORIGIN
// expanded.
type searchPath struct {
	// rpath is DT_RPATH, which the loader ignores when the object also
	// has a DT_RUNPATH (then rpath is nil).
	rpath, runpath []string
	hasRunpath     bool
}

// searchPath reads an object's DT_RUNPATH and DT_RPATH, with $ORIGIN
// expanded to origin.
func (r *Resolver) searchPath(origin string, f *elf.File) searchPath {
	dirs := func(tag elf.DynTag) ([]string, bool) {
		vals, _ := f.DynString(tag)
		var out []string
		for _, v := range vals {
			for _, d := range strings.Split(v, ":") {
				d = strings.ReplaceAll(d, "${ORIGIN}", origin)
				d = strings.ReplaceAll(d, "$ORIGIN", origin)
				if d != "" {
					out = append(out, d)
				}
			}
		}
		return out, len(vals) > 0
	}
	var sp searchPath
	sp.runpath, sp.hasRunpath = dirs(elf.DT_RUNPATH)
	if !sp.hasRunpath {
		sp.rpath, _ = dirs(elf.DT_RPATH)
	}
	return sp
}

// find looks for a library in dirs (the object's search path), then in
// r.Dirs.
func (r *Resolver) find(name string, dirs []string) (string, error) {
	if strings.Contains(name, "/") {
		return r.existing(name)
	}
	for _, d := range append(dirs[:len(dirs):len(dirs)], r.Dirs...) {
		p := filepath.Join(r.Root, d, name)
		if isX8664(p) {
			return p, nil
		}
	}
	return "", os.ErrNotExist
}

func (r *Resolver) existing(p string) (string, error) {
	full := filepath.Join(r.Root, p)
	if _, err := os.Stat(full); err != nil {
		return "", err
	}
	return full, nil
}

// isX8664 skips libraries of another architecture found first on the path
// (for example i386 multiarch libraries), as the loader does.
func isX8664(p string) bool {
	f, err := elf.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	return f.Machine == elf.EM_X86_64 && f.Class == elf.ELFCLASS64
}

// defaultDirs reads /etc/ld.so.conf (and its includes) and appends the
// directories the loader searches without a cache.
func (r *Resolver) defaultDirs() []string {
	var dirs []string
	var read func(path string, depth int)
	read = func(path string, depth int) {
		if depth > 4 {
			return
		}
		fh, err := os.Open(filepath.Join(r.Root, path))
		if err != nil {
			return
		}
		defer fh.Close()
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = strings.TrimSpace(line[:i])
			}
			switch {
			case line == "":
			case strings.HasPrefix(line, "include "):
				pat := strings.TrimSpace(strings.TrimPrefix(line, "include "))
				if !filepath.IsAbs(pat) {
					pat = filepath.Join(filepath.Dir(path), pat)
				}
				matches, _ := filepath.Glob(filepath.Join(r.Root, pat))
				for _, m := range matches {
					rel, _ := filepath.Rel(filepath.Join(r.Root, "/"), m)
					read("/"+rel, depth+1)
				}
			default:
				dirs = append(dirs, line)
			}
		}
	}
	read("/etc/ld.so.conf", 0)
	return append(dirs, "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib")
}

func isTLSLibrary(name string) bool {
	for _, p := range []string{"libssl.", "libgnutls.", "libnss3.", "libcurl", "libmbedtls.", "libwolfssl."} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// usesGoTLS looks for crypto/tls in a Go binary's symbol and function
// names, which survive stripping (the runtime needs them for tracebacks).
func usesGoTLS(path string) bool {
	fh, err := os.Open(path)
	if err != nil {
		return false
	}
	defer fh.Close()
	needle := []byte("crypto/tls.(*Conn).Handshake")
	buf := make([]byte, 1<<20)
	keep := len(needle) - 1
	n0 := 0
	for {
		n, err := fh.Read(buf[n0:])
		if bytes.Contains(buf[:n0+n], needle) {
			return true
		}
		if err != nil {
			return false
		}
		if n0+n > keep {
			copy(buf, buf[n0+n-keep:n0+n])
			n0 = keep
		}
	}
}
