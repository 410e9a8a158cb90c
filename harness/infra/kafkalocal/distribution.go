package kafkalocal

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Version is the Apache Kafka version `make kafka` assembles into CacheDir
// (the pom in dist/ names the same version; a test checks they agree).
const Version = "4.1.1"

// HomeEnv is the environment variable naming a Kafka distribution directory.
const HomeEnv = "KAFKA_HOME"

// ErrNoDistribution means no usable Kafka distribution directory was found.
var ErrNoDistribution = errors.New("no Apache Kafka distribution found")

// ErrNoJava means no java executable was found.
var ErrNoJava = errors.New("no java runtime found")

// fixDistribution is the advice attached to every ErrNoDistribution.
const fixDistribution = "run `make kafka` (needs java and mvn) or set " + HomeEnv + " to an Apache Kafka 4.x directory"

// CacheDir returns the directory `make kafka` assembles the distribution
// into: os.UserCacheDir()/cqrsbench/kafka-<Version>.
func CacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locate the user cache directory (set XDG_CACHE_HOME or HOME): %w", err)
	}
	return filepath.Join(base, "cqrsbench", "kafka-"+Version), nil
}

// FindDistribution returns a Kafka distribution directory, one with
// libs/kafka_2.13-<version>.jar of Kafka 4 or later: home if not empty, else
// $KAFKA_HOME, else CacheDir(). A directory named explicitly (home or
// KAFKA_HOME) that is not usable is an error, not skipped. Errors wrap
// ErrNoDistribution and say how to get one.
func FindDistribution(home string) (string, error) {
	source := "Options.Home"
	if home == "" {
		home, source = os.Getenv(HomeEnv), HomeEnv
	}
	if home == "" {
		dir, err := CacheDir()
		if err != nil {
			return "", fmt.Errorf("%w: %v; %s", ErrNoDistribution, err, fixDistribution)
		}
		home, source = dir, "the cache"
	}
	version, err := distributionVersion(home)
	if err != nil {
		return "", fmt.Errorf("%w: %s (%s): %v; %s", ErrNoDistribution, home, source, err, fixDistribution)
	}
	if major, _, _ := strings.Cut(version, "."); atoi(major) < 4 {
		return "", fmt.Errorf("%w: %s (%s) holds Kafka %s, need 4.x or later; %s", ErrNoDistribution, home, source, version, fixDistribution)
	}
	return home, nil
}

// distributionVersion reads the Kafka version from the name of
// libs/kafka_2.13-<version>.jar in dir.
func distributionVersion(dir string) (string, error) {
	entries, err := os.ReadDir(filepath.Join(dir, "libs"))
	if err != nil {
		return "", fmt.Errorf("no libs directory: %w", err)
	}
	// The broker's jar, not its -test, -sources or -javadoc jars.
	brokerJar := regexp.MustCompile(`^kafka_2\.13-(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)\.jar$`)
	var versions []string
	for _, e := range entries {
		m := brokerJar.FindStringSubmatch(e.Name())
		if m == nil || strings.HasSuffix(m[1], "-test") || strings.HasSuffix(m[1], "-sources") || strings.HasSuffix(m[1], "-javadoc") {
			continue
		}
		versions = append(versions, m[1])
	}
	switch len(versions) {
	case 0:
		return "", errors.New("no libs/kafka_2.13-<version>.jar")
	case 1:
		return versions[0], nil
	}
	slices.Sort(versions)
	return "", fmt.Errorf("several broker jars in libs/ (%s): remove all but one version", strings.Join(versions, ", "))
}

// findJava returns the java executable: explicit if set, else
// $JAVA_HOME/bin/java, else java on PATH. Errors wrap ErrNoJava.
func findJava(explicit string) (string, error) {
	const fix = "install a Java 17+ runtime (e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
	if explicit != "" {
		p, err := exec.LookPath(explicit)
		if err != nil {
			return "", fmt.Errorf("%w: Options.Java %q: %v; %s", ErrNoJava, explicit, err, fix)
		}
		return p, nil
	}
	if jh := os.Getenv("JAVA_HOME"); jh != "" {
		p := filepath.Join(jh, "bin", "java")
		if _, err := exec.LookPath(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath("java")
	if err != nil {
		return "", fmt.Errorf("%w: not in JAVA_HOME or on PATH; %s", ErrNoJava, fix)
	}
	return p, nil
}

// atoi returns the integer value of s, -1 when it is not a number.
func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}
