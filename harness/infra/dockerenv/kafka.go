package dockerenv

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/harness/infra/kafkalocal"
)

// Kafka's listeners inside the container.
const (
	// kafkaPort is the PLAINTEXT listener for clients on the host; it is
	// published on a host port and advertised as <host>:<host port>.
	kafkaPort = "9092/tcp"
	// kafkaBrokerAddr is the BROKER listener, used for the broker's
	// requests to itself (inter.broker.listener.name), such as transaction
	// markers. The host address is not reachable from inside the
	// container, so this must not be PLAINTEXT.
	kafkaBrokerAddr = "localhost:29092"
	// kafkaControllerAddr is the CONTROLLER listener of the KRaft quorum.
	kafkaControllerAddr = "localhost:29093"
	// kafkaDataDir holds the log; the image declares it a volume, so the
	// log is not written through the container's overlay file system and
	// Close removes it with the container.
	kafkaDataDir = "/var/lib/kafka/data"
	// kafkaDialTimeout bounds one connection attempt of the readiness probe.
	kafkaDialTimeout = 2 * time.Second
)

// kafkaEnv is the container environment for a single-node KRaft cluster that
// advertises advertised (host:port as the host reaches it), tuned like the
// local provider's broker (kafkalocal.DefaultProperties) so that results from
// either provider are comparable. The image's entrypoint
// (/etc/kafka/docker/run) turns KAFKA_* variables into server.properties and
// formats the log directory with CLUSTER_ID unless it is already formatted,
// so a restarted container keeps its data.
func kafkaEnv(advertised, clusterID string) map[string]string {
	env := map[string]string{}
	for prop, value := range kafkalocal.DefaultProperties() {
		env[kafkaEnvName(prop)] = value
	}
	maps.Copy(env, map[string]string{
		"CLUSTER_ID":          clusterID,
		"KAFKA_NODE_ID":       "1",
		"KAFKA_PROCESS_ROLES": "broker,controller",
		"KAFKA_LISTENERS": "PLAINTEXT://0.0.0.0:9092,BROKER://" + kafkaBrokerAddr +
			",CONTROLLER://" + kafkaControllerAddr,
		"KAFKA_ADVERTISED_LISTENERS":           "PLAINTEXT://" + advertised + ",BROKER://" + kafkaBrokerAddr,
		"KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT",
		"KAFKA_INTER_BROKER_LISTENER_NAME":     "BROKER",
		"KAFKA_CONTROLLER_LISTENER_NAMES":      "CONTROLLER",
		"KAFKA_CONTROLLER_QUORUM_VOTERS":       "1@" + kafkaControllerAddr,
		"KAFKA_LOG_DIRS":                       kafkaDataDir,
		// One broker: every internal topic gets one replica.
		"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR":                 "1",
		"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR":         "1",
		"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR":                    "1",
		"KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
		"KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR":            "1",
		"KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS":                 "0",
	})
	return env
}

// kafkaEnvName is the variable the apache/kafka entrypoint turns into broker
// property prop: KAFKA_ and prop in upper case, with '.' → '_', '_' → '__'
// and '-' → '___'.
func kafkaEnvName(prop string) string {
	name := strings.NewReplacer("_", "__", "-", "___", ".", "_").Replace(prop)
	return "KAFKA_" + strings.ToUpper(name)
}

// startKafka runs the Kafka container and waits until a client gets answers
// from the broker at its advertised address.
func (e *Env) startKafka(ctx context.Context) error {
	c, port, err := e.runWithFreePort(ctx, roleKafka, e.kafkaImage, func(ctx context.Context, hostPort int) (testcontainers.Container, error) {
		c, err := testcontainers.Run(ctx, e.kafkaImage,
			testcontainers.WithLogger(tclog.NewNoopLogger()),
			testcontainers.WithExposedPorts(kafkaPort),
			testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
				e.addr.publish(kafkaPort, hostPort)(hc)
			}),
			testcontainers.WithEnv(kafkaEnv(e.addr.addr(hostPort), e.clusterID)),
			testcontainers.WithLabels(labels(roleKafka)),
			// No wait strategy: awaitKafka below uses a real client.
		)
		return published(ctx, c, err, kafkaPort, hostPort)
	})
	if err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	e.kafkaPort = port
	e.progress.printf("dockerenv: Kafka container up on %s; waiting for the broker", e.addr.addr(port))
	guess, err := e.awaitKafka(ctx, c)
	if err != nil {
		return err
	}
	e.kafkaVersion = versionFromImage(e.kafkaImage)
	if e.kafkaVersion == "" {
		e.kafkaVersion = guess
	}
	return nil
}

// errPermanent marks a readiness failure that waiting will not fix.
type errPermanent struct{ err error }

func (p errPermanent) Error() string { return p.err.Error() }
func (p errPermanent) Unwrap() error { return p.err }

// awaitKafka waits up to ReadyTimeout until the broker answers a franz-go
// client at the published address, advertises exactly that address, and
// answers there too. It returns franz-go's guess of the broker version.
func (e *Env) awaitKafka(ctx context.Context, c testcontainers.Container) (string, error) {
	broker := e.addr.addr(e.kafkaPort)
	var guess string
	err := awaitReady(ctx, c, "Kafka at "+broker, func(ctx context.Context) error {
		// A fresh client per attempt: nothing learnt from a half-started
		// broker carries over.
		cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.DialTimeout(kafkaDialTimeout))
		if err != nil {
			return errPermanent{fmt.Errorf("kafka client: %w", err)}
		}
		defer cl.Close()
		if err := cl.Ping(ctx); err != nil {
			return err
		}
		adm := kadm.NewClient(cl)
		m, err := adm.BrokerMetadata(ctx)
		if err != nil {
			return err
		}
		if m.Cluster != e.clusterID {
			return errPermanent{fmt.Errorf("the broker at %s belongs to cluster %q, not to this container's %q; "+
				"another Kafka answers on that port", broker, m.Cluster, e.clusterID)}
		}
		if len(m.Brokers) == 0 {
			return errors.New("metadata lists no brokers yet")
		}
		for _, b := range m.Brokers {
			if b.Host != e.addr.host || int(b.Port) != e.kafkaPort {
				return errPermanent{fmt.Errorf("broker %d advertises %s:%d, want %s: "+
					"clients on this host could not reach it", b.NodeID, b.Host, b.Port, broker)}
			}
		}
		// Connects to every broker by its advertised address.
		vs, err := adm.ApiVersions(ctx)
		if err != nil {
			return err
		}
		for _, v := range vs.Sorted() {
			if v.Err != nil {
				return fmt.Errorf("broker %d at its advertised address: %w", v.NodeID, v.Err)
			}
			guess = v.VersionGuess()
		}
		return nil
	})
	return guess, err
}

// versionFromImage returns the tag of image when it is a version number
// ("apache/kafka:4.1.1" → "4.1.1"), else "".
func versionFromImage(image string) string {
	ref, _, _ := strings.Cut(image, "@") // drop a digest
	colon := strings.LastIndexByte(ref, ':')
	if colon < 0 || colon < strings.LastIndexByte(ref, '/') {
		return "" // no tag; the colon belongs to a registry host:port
	}
	tag := ref[colon+1:]
	major, rest, ok := strings.Cut(tag, ".")
	if !ok || !isDigits(major) {
		return ""
	}
	minor, _, _ := strings.Cut(rest, ".")
	if !isDigits(minor) {
		return ""
	}
	return tag
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// newClusterID returns a random KRaft cluster ID: 16 bytes, URL-safe base64
// without padding, as `kafka-storage.sh random-uuid` prints them. Like
// Kafka's own generator it avoids a leading '-', which a command line would
// take for an option.
func newClusterID() (string, error) {
	b := make([]byte, 16)
	for {
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("generate a Kafka cluster ID: %w", err)
		}
		if id := base64.RawURLEncoding.EncodeToString(b); id[0] != '-' {
			return id, nil
		}
	}
}
