package kafkalocal_test

import (
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/kafkalocal"
)

func TestPOMAssemblesVersion(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("dist", "pom.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var pom struct {
		Properties struct {
			Kafka string `xml:"kafka.version"`
		} `xml:"properties"`
		Dependencies []struct {
			GroupID    string `xml:"groupId"`
			ArtifactID string `xml:"artifactId"`
			Version    string `xml:"version"`
		} `xml:"dependencies>dependency"`
	}
	if err := xml.Unmarshal(raw, &pom); err != nil {
		t.Fatalf("parse dist/pom.xml: %v", err)
	}
	found := false
	for _, d := range pom.Dependencies {
		if d.GroupID != "org.apache.kafka" || d.ArtifactID != "kafka_2.13" {
			continue
		}
		found = true
		v := strings.ReplaceAll(d.Version, "${kafka.version}", pom.Properties.Kafka)
		if v != kafkalocal.Version {
			t.Errorf("dist/pom.xml assembles kafka_2.13 %q, kafkalocal.Version is %q", v, kafkalocal.Version)
		}
	}
	if !found {
		t.Errorf("dist/pom.xml has no org.apache.kafka:kafka_2.13 dependency")
	}
}

func TestCacheDirNamesVersion(t *testing.T) {
	t.Parallel()
	dir, err := kafkalocal.CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(dir) != "kafka-"+kafkalocal.Version || filepath.Base(filepath.Dir(dir)) != "cqrsbench" {
		t.Errorf("CacheDir() = %s, want .../cqrsbench/kafka-%s", dir, kafkalocal.Version)
	}
}

// fakeDistribution makes a directory with the libs/ layout of a Kafka
// distribution holding the named (empty) jars.
func fakeDistribution(t *testing.T, jars ...string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "libs"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, j := range jars {
		if err := os.WriteFile(filepath.Join(dir, "libs", j), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFindDistribution(t *testing.T) {
	tarball := fakeDistribution(t, "kafka_2.13-4.0.0.jar", "kafka-clients-4.0.0.jar")
	old := fakeDistribution(t, "kafka_2.13-3.9.1.jar")
	t.Run("explicit home", func(t *testing.T) {
		if got, err := kafkalocal.FindDistribution(tarball); err != nil || got != tarball {
			t.Errorf("FindDistribution(tarball) = %q, %v", got, err)
		}
	})
	t.Run("KAFKA_HOME", func(t *testing.T) {
		t.Setenv("KAFKA_HOME", tarball)
		if got, err := kafkalocal.FindDistribution(""); err != nil || got != tarball {
			t.Errorf("FindDistribution with KAFKA_HOME = %q, %v", got, err)
		}
	})
	t.Run("cache", func(t *testing.T) {
		t.Setenv("KAFKA_HOME", "")
		t.Setenv("XDG_CACHE_HOME", t.TempDir())
		_, err := kafkalocal.FindDistribution("")
		wantNoDistribution(t, err)
		dir, _ := kafkalocal.CacheDir()
		if !strings.Contains(err.Error(), dir) {
			t.Errorf("error %q does not name the cache %s", err, dir)
		}
	})
	for name, dir := range map[string]string{"empty": t.TempDir(), "no broker jar": fakeDistribution(t, "kafka-clients-4.0.0.jar"), "Kafka 3": old} {
		t.Run(name, func(t *testing.T) {
			_, err := kafkalocal.FindDistribution(dir)
			wantNoDistribution(t, err)
		})
	}
}

func wantNoDistribution(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, kafkalocal.ErrNoDistribution) || !strings.Contains(err.Error(), "make kafka") || !strings.Contains(err.Error(), "KAFKA_HOME") {
		t.Errorf("err = %v, want ErrNoDistribution saying to run `make kafka` or set KAFKA_HOME", err)
	}
}

func TestStartWithoutJavaSaysWhatToInstall(t *testing.T) {
	t.Parallel()
	home := fakeDistribution(t, "kafka_2.13-"+kafkalocal.Version+".jar")
	_, err := kafkalocal.Start(t.Context(), kafkalocal.Options{Home: home, Java: filepath.Join(t.TempDir(), "java")})
	if !errors.Is(err, kafkalocal.ErrNoJava) || !strings.Contains(err.Error(), "JAVA_HOME") {
		t.Fatalf("err = %v, want ErrNoJava naming JAVA_HOME", err)
	}
}

func TestStartReportsWhyTheBrokerFailed(t *testing.T) {
	needsBroker(t)
	for _, tc := range []struct {
		name string
		opts kafkalocal.Options
		want []string
	}{
		// Caught while formatting the log directory.
		{"bad property", kafkalocal.Options{HeapMB: 256, Properties: map[string]string{"num.io.threads": "many"}},
			[]string{"format Kafka storage", "num.io.threads"}},
		// The broker's JVM exits at once.
		{"heap too large", kafkalocal.Options{HeapMB: 1 << 40},
			[]string{"exited during start-up", "heap"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := infratest.TraversableTempDir(t)
			t.Setenv("TMPDIR", tmp)
			_, err := kafkalocal.Start(t.Context(), tc.opts)
			if err == nil {
				t.Fatal("Start succeeded")
			}
			t.Logf("%v", err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("a failed Start left %d entries in TMPDIR", len(left))
			}
		})
	}
}

func TestAssembleBuildsUsableDistribution(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads from Maven Central; skipped in -short mode")
	}
	if _, err := exec.LookPath("mvn"); err != nil {
		infratest.Missing(t, "mvn not found: install Maven (apt-get install maven) to test `make kafka`")
	}
	dir := filepath.Join(t.TempDir(), "kafka")
	got, err := kafkalocal.Assemble(t.Context(), kafkalocal.AssembleOptions{Dir: dir})
	if err != nil {
		t.Fatalf("Assemble: %v", err)
	}
	if got != dir {
		t.Errorf("Assemble returned %s, want %s", got, dir)
	}
	if _, err := kafkalocal.FindDistribution(dir); err != nil {
		t.Fatalf("assembled distribution is not usable: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "libs", "kafka_2.13-"+kafkalocal.Version+".jar")); err != nil {
		t.Errorf("no broker jar of version %s: %v", kafkalocal.Version, err)
	}
	left, _ := os.ReadDir(filepath.Dir(dir))
	if len(left) != 1 {
		t.Errorf("Assemble left %d entries next to the distribution, want only it", len(left))
	}
}
