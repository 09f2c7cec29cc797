// Package modules resolves which kernel module files an image needs and in
// which order init must load them. Debian's kernel package ships no
// modules.dep, so dependencies come from each module's own .modinfo ELF
// section ("depends=a,b"); modules built into the kernel
// (modules.builtin) need no file.
//
// It reads a kernel's module tree on the host; loading is init's job.
package modules

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Tree indexes the modules of one kernel.
type Tree struct {
	dir     string
	files   map[string]string // module name -> path relative to dir
	builtin map[string]bool
	// compressed are modules shipped as .ko.xz, .ko.zst or .ko.gz, which
	// init's finit_module (no MODULE_INIT_COMPRESSED_FILE) cannot load:
	// kept to say so instead of "not in" for a module that is there.
	compressed map[string]string
}

// name normalizes a module name: modinfo and file names mix - and _.
func name(s string) string {
	s = strings.TrimSuffix(filepath.Base(s), ".ko")
	return strings.ReplaceAll(s, "-", "_")
}

// Open indexes the module tree dir (lib/modules/VERSION).
func Open(dir string) (*Tree, error) {
	t := &Tree{dir: dir, files: map[string]string{}, builtin: map[string]bool{}, compressed: map[string]string{}}
	err := filepath.WalkDir(filepath.Join(dir, "kernel"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if strings.HasSuffix(p, ".ko") {
			t.files[name(p)] = rel
		}
		for _, z := range []string{".xz", ".zst", ".gz"} {
			if ko, ok := strings.CutSuffix(p, z); ok && strings.HasSuffix(ko, ".ko") {
				t.compressed[name(ko)] = rel
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("index kernel modules in %s: %w", dir, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "modules.builtin")); err == nil {
		for _, line := range strings.Fields(string(b)) {
			t.builtin[name(line)] = true
		}
	}
	return t, nil
}

// Resolve returns the files (relative to the tree) of the named modules and
// of everything they depend on, dependencies first. Built-in modules are
// left out; an unknown module is an error naming it.
func (t *Tree) Resolve(names ...string) ([]string, error) {
	var order []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(n string, chain []string) error
	visit = func(n string, chain []string) error {
		n = name(n)
		switch {
		case state[n] == 2 || t.builtin[n]:
			return nil
		case state[n] == 1:
			return fmt.Errorf("module dependency cycle: %s", strings.Join(append(chain, n), " -> "))
		}
		rel, ok := t.files[n]
		if z, compressed := t.compressed[n]; !ok && compressed {
			return fmt.Errorf("kernel module %q (needed by %s) is compressed in %s (%s): keel's init loads uncompressed .ko files only; use a kernel that ships them (Debian bookworm's linux-image-amd64) or unpack the modules with xz -d, zstd -d or gzip -d", n, strings.Join(append(chain, n), " -> "), t.dir, z)
		}
		if !ok {
			return fmt.Errorf("kernel module %q is not in %s (needed by %s)", n, t.dir, strings.Join(append(chain, n), " -> "))
		}
		state[n] = 1
		deps, err := depends(filepath.Join(t.dir, rel))
		if err != nil {
			return err
		}
		for _, d := range deps {
			if err := visit(d, append(chain, n)); err != nil {
				return err
			}
		}
		state[n] = 2
		order = append(order, rel)
		return nil
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted) // the same inputs give the same order
	for _, n := range sorted {
		if err := visit(n, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// depends reads "depends=" from a module's .modinfo section.
func depends(path string) ([]string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read module %s: %w", path, err)
	}
	defer f.Close()
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, fmt.Errorf("module %s has no .modinfo section", path)
	}
	data, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("read .modinfo of %s: %w", path, err)
	}
	for _, kv := range bytes.Split(data, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("depends=")); ok {
			if len(v) == 0 {
				return nil, nil
			}
			return strings.Split(string(v), ","), nil
		}
	}
	return nil, nil
}
