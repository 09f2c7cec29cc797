// Package home locates keel's state directory: $KEEL_HOME, or ~/.keel.
// Every piece of state keel keeps (log server data, images, kernels) lives
// below it, so one variable moves all of it.
package home

import (
	"fmt"
	"os"
	"path/filepath"
)

// Dir returns keel's state directory.
func Dir() (string, error) {
	if d := os.Getenv("KEEL_HOME"); d != "" {
		return filepath.Abs(d)
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find home directory for ~/.keel (set KEEL_HOME instead): %w", err)
	}
	return filepath.Join(h, ".keel"), nil
}

// Path returns a path below keel's state directory.
func Path(elem ...string) (string, error) {
	d, err := Dir()
	if err != nil {
		return "", err
	}
	return filepath.Join(append([]string{d}, elem...)...), nil
}
