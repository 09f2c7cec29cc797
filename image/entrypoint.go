package image

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/keelvm/keel/image/elfdeps"
	"github.com/keelvm/keel/image/initramfs"
)

// entry is what the image runs, as the entrypoint tells.
type entry struct {
	kind, runtime string
	tls           bool
	// program and lead, when set, replace the entrypoint: a script whose
	// #! line is "/usr/bin/env NAME" runs as NAME SCRIPT.
	program string
	lead    []string
	// files are added to the image: the link from a #! line's
	// interpreter path to the directory's copy of it.
	files []initramfs.Entry
}

// entrypoint checks the program the image runs (exe on the host, guest in
// the image): an x86-64 ELF executable, or in a directory app a #! script
// whose interpreter the directory holds. Anything else is refused with
// what to fuse instead.
func (f Fuse) entrypoint(exe, guest string, dir bool, files []initramfs.Entry) (entry, error) {
	static, tls, err := elfdeps.Check(exe)
	if err == nil {
		kind := map[bool]string{true: "static", false: "dynamic"}[static]
		if dir {
			kind += " in a directory"
		}
		return entry{kind: kind, tls: tls, runtime: runtimeOf(guest, exe)}, nil
	}
	if !errors.Is(err, elfdeps.ErrNotELF) {
		return entry{}, err
	}
	if interp, arg, ok := shebang(exe); ok {
		if !dir {
			return entry{}, fmt.Errorf("%s is a script for %s, and the image holds only the app: fuse a directory that holds the script and its interpreter (for example dash or busybox as bin/sh), with -entrypoint naming the script", exe, interp)
		}
		return scriptEntry(exe, guest, interp, arg, files)
	}
	return entry{}, notProgram(exe, guest, dir, err)
}

// shebang reads a script's #! line: the interpreter and its one argument.
func shebang(p string) (interp, arg string, ok bool) {
	fh, err := os.Open(p)
	if err != nil {
		return "", "", false
	}
	defer fh.Close()
	line, err := bufio.NewReader(fh).ReadString('\n')
	if err != nil && line == "" || !strings.HasPrefix(line, "#!") {
		return "", "", false
	}
	fields := strings.Fields(strings.TrimPrefix(line, "#!"))
	if len(fields) == 0 {
		return "", "", false
	}
	// The kernel passes the rest of the line as one argument.
	return fields[0], strings.Join(fields[1:], " "), true
}

// shells can stand in for /bin/sh, in this order.
var shells = []string{"sh", "dash", "busybox", "bash", "ash"}

// scriptEntry finds a script's interpreter in the directory. The #! path
// itself (/bin/sh) is made a link to the directory's copy, so that the
// kernel runs the script as it is, and so do the app's system() and
// popen(), which run /bin/sh.
func scriptEntry(exe, guest, interp, arg string, files []initramfs.Entry) (entry, error) {
	have := hostFiles(files)
	isProgram := func(g string) bool {
		h, ok := have[g]
		if !ok {
			return false
		}
		fi, err := os.Stat(h)
		return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 && elfdeps.IsELF(h)
	}
	// find looks for a program by name in the directory: bin/NAME first,
	// then anywhere, the shortest path first.
	find := func(names ...string) string {
		for _, n := range names {
			for _, g := range []string{"/app/bin/" + n, "/app/usr/bin/" + n, "/app/" + n} {
				if isProgram(g) {
					return g
				}
			}
			var cands []string
			for g := range have {
				if path.Base(g) == n && isProgram(g) {
					cands = append(cands, g)
				}
			}
			sort.Slice(cands, func(i, j int) bool {
				return len(cands[i]) < len(cands[j]) || len(cands[i]) == len(cands[j]) && cands[i] < cands[j]
			})
			if len(cands) > 0 {
				return cands[0]
			}
		}
		return ""
	}
	if interp == "/usr/bin/env" || interp == "/bin/env" {
		name := strings.Fields(arg)
		if len(name) != 1 {
			return entry{}, fmt.Errorf("entrypoint %s starts with #!%s %s: name one program after env (env's options are not supported), or the interpreter's path in the image (#!/app/bin/python3)", exe, interp, arg)
		}
		prog := find(name[0])
		if prog == "" {
			return entry{}, fmt.Errorf("entrypoint %s is a script for %s, which is not in the directory: put it there (for example as bin/%s)", exe, name[0], name[0])
		}
		return entry{kind: "script in a directory", runtime: runtimeOf(prog, have[prog]), program: prog, lead: []string{guest}}, nil
	}
	if isProgram(path.Clean(interp)) { // #!/app/bin/dash
		return entry{kind: "script in a directory", runtime: runtimeOf(interp, have[interp])}, nil
	}
	names := []string{path.Base(interp)}
	if path.Base(interp) == "sh" {
		names = shells
	}
	prog := find(append([]string{strings.TrimPrefix(path.Clean(interp), "/")}, names...)...)
	if prog == "" {
		hint := "put it in the directory, for example as bin/" + path.Base(interp)
		if path.Base(interp) == "sh" {
			hint = "put a shell in the directory: dash or busybox as bin/sh (with its libraries, which keel adds from this host, or static)"
		}
		return entry{}, fmt.Errorf("entrypoint %s is a script for %s, which is not in the directory: %s", exe, interp, hint)
	}
	link := initramfs.Entry{Path: path.Clean(interp), Kind: initramfs.Symlink, Mode: 0o777, Data: []byte(prog)}
	return entry{kind: "script in a directory", runtime: runtimeOf(prog, have[prog]), files: []initramfs.Entry{link}}, nil
}

// runtimeOf names the runtime a program is, by its name and its file's:
// the manifest's runtime tag.
func runtimeOf(guest, host string) string {
	names := []string{path.Base(guest)}
	if real, err := filepath.EvalSymlinks(host); err == nil {
		names = append(names, filepath.Base(real))
	}
	for _, n := range names {
		switch {
		case n == "java":
			return "java"
		case strings.HasPrefix(n, "python"):
			return "python"
		case n == "node" || n == "nodejs":
			return "node"
		case n == "sh" || n == "dash" || n == "bash" || n == "ash" || n == "busybox":
			return "shell"
		}
	}
	return ""
}

// notProgram says what to fuse instead of a file that is no program.
func notProgram(exe, guest string, dir bool, err error) error {
	ext := strings.ToLower(filepath.Ext(exe))
	script := "/app/" + filepath.Base(exe)
	if dir {
		script = guest
	}
	switch ext {
	case ".js", ".mjs", ".cjs":
		return fmt.Errorf("%s is JavaScript, which node runs: fuse the directory that holds node and the script, with -entrypoint bin/node and the script as an argument (keel fuse DIR -entrypoint bin/node -name ... -- %s)", exe, script)
	case ".py":
		return fmt.Errorf("%s is Python, which python runs: fuse the directory that holds python (its bin/ and lib/) and the script, with -entrypoint bin/python3 and the script as an argument (keel fuse DIR -entrypoint bin/python3 -name ... -- %s)", exe, script)
	case ".jar", ".war":
		return fmt.Errorf("%s is a Java archive: fuse the JAR itself (keel fuse %s -name ...), and keel adds a Java runtime", exe, exe)
	case ".class":
		return fmt.Errorf("%s is a Java class: package it in an executable JAR (jar --create --file app.jar --main-class NAME ...) and fuse the JAR", exe)
	}
	return err
}
