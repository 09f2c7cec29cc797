package elfdeps

import "fmt"

// Check reads an executable without resolving its libraries: whether it
// is static, and whether it probably speaks TLS (a Go program linking
// crypto/tls). A file that is no x86-64 executable is an error saying so
// (ErrNotELF for one that is no ELF at all).
func Check(path string) (static, tls bool, err error) {
	f, err := open(path)
	if err != nil {
		return false, false, err
	}
	defer f.Close()
	interp, err := interpreter(f)
	if err != nil {
		return false, false, fmt.Errorf("read %s: %w", path, err)
	}
	needed, err := f.ImportedLibraries()
	if err != nil {
		return false, false, fmt.Errorf("read dynamic section of %s: %w", path, err)
	}
	if interp == "" && len(needed) > 0 {
		return false, false, fmt.Errorf("%s needs shared libraries %v but names no program interpreter: it is a library, not an executable", path, needed)
	}
	return interp == "", usesGoTLS(path), nil
}
