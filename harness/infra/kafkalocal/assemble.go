package kafkalocal

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/cqrsbench/cqrsbench/harness/infra/childproc"
)

// distPOM is dist/pom.xml: the Maven project whose runtime dependencies are
// the broker distribution (kafka_2.13:Version plus a Log4j 2 SLF4J binding).
//
//go:embed dist/pom.xml
var distPOM []byte

// AssembleOptions configures Assemble. The zero value is ready to use.
type AssembleOptions struct {
	// Dir is the distribution directory to fill. Default: CacheDir().
	Dir string
	// Mvn is the Maven executable. Default: mvn on PATH.
	Mvn string
	// Progress receives one-line status messages; nil is silent.
	Progress io.Writer
}

// Assemble builds a Kafka distribution (Version) in opts.Dir by letting
// Maven copy the runtime dependencies of dist/pom.xml (built into this
// binary) from Maven Central into Dir/libs: the same layout as an official
// tarball, about 45 MB. It needs mvn and network access to Maven Central (or
// a filled ~/.m2). The directory is replaced atomically, so an interrupted
// run leaves the old one (or none), never half a distribution. It returns
// the directory.
func Assemble(ctx context.Context, opts AssembleOptions) (string, error) {
	dir := opts.Dir
	if dir == "" {
		var err error
		if dir, err = CacheDir(); err != nil {
			return "", err
		}
	}
	mvnName := opts.Mvn
	if mvnName == "" {
		mvnName = "mvn"
	}
	mvn, err := exec.LookPath(mvnName)
	if err != nil {
		return "", fmt.Errorf("assemble Kafka: %w; install Maven (e.g. apt-get install maven) and Java, or set %s to an Apache Kafka 4.x directory", err, HomeEnv)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("assemble Kafka: %w", err)
	}
	// Staged next to dir so the final rename stays on one file system.
	stage, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+"-partial-*")
	if err != nil {
		return "", fmt.Errorf("assemble Kafka: %w", err)
	}
	defer os.RemoveAll(stage)
	work, err := os.MkdirTemp("", "cqrsbench-mvn-*")
	if err != nil {
		return "", fmt.Errorf("assemble Kafka: %w", err)
	}
	defer os.RemoveAll(work)
	pom := filepath.Join(work, "pom.xml")
	if err := os.WriteFile(pom, distPOM, 0o644); err != nil {
		return "", fmt.Errorf("assemble Kafka: %w", err)
	}
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, "kafkalocal: assembling Apache Kafka %s from Maven Central into %s\n", Version, dir)
	}
	cmd := exec.CommandContext(ctx, mvn, "-B", "-q", "-f", pom, "dependency:copy-dependencies",
		"-DincludeScope=runtime", "-DoutputDirectory="+filepath.Join(stage, "libs"))
	cmd.Dir = work
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("assemble Kafka: mvn dependency:copy-dependencies: %w (needs java and network access to Maven Central)\n%s", err, childproc.Tail(out.String(), 30))
	}
	if _, err := distributionVersion(stage); err != nil {
		return "", fmt.Errorf("assemble Kafka: mvn succeeded but left no broker jar: %v", err)
	}
	old := stage + "-old"
	if err := os.Rename(dir, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("assemble Kafka: move the previous distribution aside: %w", err)
	}
	if err := os.Rename(stage, dir); err != nil {
		_ = os.Rename(old, dir) // put the previous one back, if any
		return "", fmt.Errorf("assemble Kafka: %w", err)
	}
	_ = os.RemoveAll(old)
	return dir, nil
}
