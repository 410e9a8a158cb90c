package pglocal

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrNoBinaries means no PostgreSQL server binaries were found.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, postgres) not found")

// installHint tells a user how to get the binaries.
const installHint = "install the PostgreSQL server (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql), " +
	"put its bin directory on PATH, or pass --pg-bin DIR"

// FindBinDir returns the directory holding initdb and postgres: dir when it
// is not empty, else the directory of initdb on PATH (symlinks resolved),
// else the newest /usr/lib/postgresql/*/bin.
func FindBinDir(dir string) (string, error) {
	if dir != "" {
		if err := checkBinDir(dir); err != nil {
			return "", fmt.Errorf("%w in %s: %v; %s", ErrNoBinaries, dir, err, installHint)
		}
		return dir, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			if checkBinDir(filepath.Dir(real)) == nil {
				return filepath.Dir(real), nil
			}
		}
	}
	candidates, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(candidates, func(i, j int) bool { return majorOf(candidates[i]) > majorOf(candidates[j]) })
	for _, c := range candidates {
		if checkBinDir(c) == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("%w on PATH or under /usr/lib/postgresql/*/bin; %s", ErrNoBinaries, installHint)
}

// checkBinDir reports whether dir holds executable initdb and postgres.
func checkBinDir(dir string) error {
	for _, name := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if fi.Mode()&0o111 == 0 {
			return fmt.Errorf("%s is not executable", filepath.Join(dir, name))
		}
	}
	return nil
}

// majorOf extracts N from /usr/lib/postgresql/N/bin, 0 when absent.
func majorOf(binDir string) int {
	n, _ := strconv.Atoi(strings.TrimSuffix(filepath.Base(filepath.Dir(binDir)), "/"))
	return n
}
