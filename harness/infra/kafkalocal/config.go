package kafkalocal

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
)

// DefaultHeapMB is the broker's JVM heap (-Xms and -Xmx) when
// Options.HeapMB is 0: 1 GiB, what Kafka's own start script uses.
const DefaultHeapMB = 1024

// DefaultProperties are the broker properties applied to every broker,
// besides the listeners, quorum and log directory, which Start sets itself.
// They make a single node complete (every internal topic with one replica),
// start consumer groups without delay, and size threads and buffers for a
// small machine (2 cores); everything else keeps Kafka's defaults, including
// durability: like a production broker, Kafka acknowledges writes once they
// are in the page cache and leaves flushing to the OS.
func DefaultProperties() map[string]string {
	return map[string]string{
		// One node: every internal topic has one replica.
		"offsets.topic.replication.factor":                 "1",
		"transaction.state.log.replication.factor":         "1",
		"transaction.state.log.min.isr":                    "1",
		"share.coordinator.state.topic.replication.factor": "1",
		"share.coordinator.state.topic.min.isr":            "1",
		"default.replication.factor":                       "1",
		"min.insync.replicas":                              "1",
		// Groups start at once instead of waiting 3 s for more members.
		"group.initial.rebalance.delay.ms": "0",
		// Kafka's defaults, stated because benchmarks depend on them.
		"auto.create.topics.enable": "true",
		"num.partitions":            "1",
		// A small machine: Kafka's defaults are 3 network and 8 I/O
		// threads and a 128 MiB compaction buffer (in the heap).
		"num.network.threads":            "2",
		"num.io.threads":                 "4",
		"log.cleaner.dedupe.buffer.size": "33554432",
	}
}

// jvmOptions returns the broker JVM's flags besides heap, class path and
// paths: those of Kafka's kafka-run-class.sh (G1 with short pauses,
// headless).
func jvmOptions() []string {
	return []string{
		"-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:InitiatingHeapOccupancyPercent=35",
		"-XX:+ExplicitGCInvokesConcurrent", "-Djava.awt.headless=true",
	}
}

// serverConfig returns the properties of a combined broker and controller
// listening on the given loopback ports. The quorum is static
// (controller.quorum.voters), so the formatted log directory does not record
// the controller's address and the ports may change between format and
// start.
func serverConfig(tuning map[string]string, brokerPort, controllerPort int, dataDir string) map[string]string {
	broker := "127.0.0.1:" + strconv.Itoa(brokerPort)
	controller := "127.0.0.1:" + strconv.Itoa(controllerPort)
	props := maps.Clone(tuning)
	maps.Copy(props, map[string]string{
		"process.roles":                  "broker,controller",
		"node.id":                        "1",
		"controller.quorum.voters":       "1@" + controller,
		"listeners":                      "PLAINTEXT://" + broker + ",CONTROLLER://" + controller,
		"advertised.listeners":           "PLAINTEXT://" + broker,
		"controller.listener.names":      "CONTROLLER",
		"listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
		"inter.broker.listener.name":     "PLAINTEXT",
		"log.dirs":                       dataDir,
	})
	// A dynamic quorum would contradict the static one above.
	delete(props, "controller.quorum.bootstrap.servers")
	return props
}

// renderProperties returns props as a server.properties file.
func renderProperties(props map[string]string) string {
	var b strings.Builder
	b.WriteString("# Written by cqrsbench (harness/infra/kafkalocal).\n")
	for _, k := range slices.Sorted(maps.Keys(props)) {
		fmt.Fprintf(&b, "%s=%s\n", k, escapeProperty(props[k]))
	}
	return b.String()
}

// escapeProperty escapes the characters special in a .properties value.
func escapeProperty(v string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(v)
}

// log4jProperties configures Log4j 2 to log at INFO into logPath.
func log4jProperties(logPath string) string {
	return `status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = ` + escapeProperty(logPath) + `
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
`
}

// newClusterID returns a random Kafka cluster id: a UUID in URL-safe base64
// without padding (22 characters). Like Kafka's own, it never starts with
// '-', which a command line would take for a flag.
func newClusterID() (string, error) {
	for {
		var u [16]byte
		if _, err := rand.Read(u[:]); err != nil {
			return "", fmt.Errorf("generate cluster id: %w", err)
		}
		if id := base64.RawURLEncoding.EncodeToString(u[:]); id[0] != '-' {
			return id, nil
		}
	}
}

// writeFile writes content to path, readable by all.
func writeFile(path, content string) error {
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
