package pack_test

import (
	"fmt"
	"os"
	"testing"
)

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// writeFile writes a file of a test's pack.
func writeFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
