package dockerenv

// Unit tests of the pure parts, which run without a Docker engine.

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	"github.com/cqrsbench/cqrsbench/harness/infra/kafkalocal"
)

// listenerMap parses "NAME://host:port,..." into name → host:port.
func listenerMap(t *testing.T, s string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for l := range strings.SplitSeq(s, ",") {
		name, addr, ok := strings.Cut(l, "://")
		if !ok {
			t.Fatalf("listener %q has no ://", l)
		}
		m[name] = addr
	}
	return m
}

func TestKafkaEnv(t *testing.T) {
	t.Parallel()
	env := kafkaEnv("127.0.0.1:41234", "cluster-id")

	listeners := listenerMap(t, env["KAFKA_LISTENERS"])
	advertised := listenerMap(t, env["KAFKA_ADVERTISED_LISTENERS"])
	protocols := map[string]string{}
	for p := range strings.SplitSeq(env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"], ",") {
		name, proto, _ := strings.Cut(p, ":")
		protocols[name] = proto
	}

	if got := advertised["PLAINTEXT"]; got != "127.0.0.1:41234" {
		t.Errorf("PLAINTEXT advertised as %q, want the host address", got)
	}
	if got := listeners["PLAINTEXT"]; got != "0.0.0.0:9092" || kafkaPort != "9092/tcp" {
		t.Errorf("PLAINTEXT listens on %q, want 0.0.0.0 on the published port %s", got, kafkaPort)
	}
	for name := range listeners {
		if protocols[name] != "PLAINTEXT" {
			t.Errorf("listener %s has no security protocol mapping", name)
		}
	}
	for name := range advertised {
		if _, ok := listeners[name]; !ok {
			t.Errorf("advertised listener %s is not a listener", name)
		}
	}
	ib := env["KAFKA_INTER_BROKER_LISTENER_NAME"]
	if ib == "PLAINTEXT" || advertised[ib] != listeners[ib] || advertised[ib] == "" {
		t.Errorf("inter-broker listener %q must be internal and advertised as it listens (advertised %q, listens %q)",
			ib, advertised[ib], listeners[ib])
	}
	ctrl := env["KAFKA_CONTROLLER_LISTENER_NAMES"]
	if _, ok := advertised[ctrl]; ok {
		t.Errorf("controller listener %s must not be advertised to clients", ctrl)
	}
	if got, want := env["KAFKA_CONTROLLER_QUORUM_VOTERS"], env["KAFKA_NODE_ID"]+"@"+listeners[ctrl]; got != want {
		t.Errorf("quorum voters %q, want %q", got, want)
	}
	if env["KAFKA_PROCESS_ROLES"] != "broker,controller" || env["CLUSTER_ID"] != "cluster-id" {
		t.Errorf("not a combined KRaft node with the given cluster ID: %v", env)
	}
	for _, k := range []string{
		"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
		"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
		"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
		"KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR",
		"KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR",
	} {
		if env[k] != "1" {
			t.Errorf("%s = %q, want 1 on a single broker", k, env[k])
		}
	}
	if env["KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"] != "0" {
		t.Errorf("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS = %q, want 0", env["KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"])
	}
}

// TestKafkaEnvTunedLikeLocal checks that the container broker gets the local
// provider's tuning, each property under the variable name the apache/kafka
// entrypoint maps back to it.
func TestKafkaEnvTunedLikeLocal(t *testing.T) {
	t.Parallel()
	env := kafkaEnv("127.0.0.1:41234", "cluster-id")
	for prop, want := range kafkalocal.DefaultProperties() {
		if got := env[kafkaEnvName(prop)]; got != want {
			t.Errorf("%s (%s) = %q, want %q as the local broker", kafkaEnvName(prop), prop, got, want)
		}
	}
	for prop, want := range map[string]string{
		"num.io.threads":      "KAFKA_NUM_IO_THREADS",
		"a_b.c-d":             "KAFKA_A__B_C___D",
		"log.cleaner.min_lag": "KAFKA_LOG_CLEANER_MIN__LAG",
	} {
		if got := kafkaEnvName(prop); got != want {
			t.Errorf("kafkaEnvName(%q) = %q, want %q", prop, got, want)
		}
	}
}

func TestVersionFromImage(t *testing.T) {
	t.Parallel()
	for image, want := range map[string]string{
		"apache/kafka:4.1.1":                          "4.1.1",
		"apache/kafka:4.1":                            "4.1",
		"apache/kafka-native:4.0.0-rc1":               "4.0.0-rc1",
		"registry.local:5000/apache/kafka:4.1.1":      "4.1.1",
		"registry.local:5000/apache/kafka":            "",
		"apache/kafka":                                "",
		"apache/kafka:latest":                         "",
		"apache/kafka:4":                              "",
		"apache/kafka:4.1.1@sha256:0123456789abcdef0": "4.1.1",
		"apache/kafka@sha256:0123456789abcdef0":       "",
	} {
		if got := versionFromImage(image); got != want {
			t.Errorf("versionFromImage(%q) = %q, want %q", image, got, want)
		}
	}
}

func TestNewClusterID(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		id, err := newClusterID()
		if err != nil {
			t.Fatal(err)
		}
		b, err := base64.RawURLEncoding.DecodeString(id)
		if err != nil || len(b) != 16 || len(id) != 22 || id[0] == '-' {
			t.Fatalf("cluster ID %q: %d bytes, %v", id, len(b), err)
		}
		if seen[id] {
			t.Fatalf("cluster ID %q repeated", id)
		}
		seen[id] = true
	}
}

func TestPostgresDSN(t *testing.T) {
	t.Parallel()
	for _, hostPort := range []string{"127.0.0.1:40001", "[2001:db8::1]:40001", "docker.example:40001"} {
		cfg, err := pgx.ParseConfig(postgresDSN(hostPort))
		if err != nil {
			t.Fatalf("parse %s: %v", postgresDSN(hostPort), err)
		}
		if got := fmt.Sprintf("%s %d %s %s %s", cfg.Host, cfg.Port, cfg.User, cfg.Password, cfg.Database); !strings.HasSuffix(got,
			"40001 cqrsbench cqrsbench cqrsbench") || !strings.Contains(hostPort, cfg.Host) {
			t.Errorf("DSN for %s parses as %q", hostPort, got)
		}
		if cfg.TLSConfig != nil || len(cfg.Fallbacks) != 0 {
			t.Errorf("DSN for %s does not disable TLS: %s", hostPort, postgresDSN(hostPort))
		}
	}
}

func TestPostgresCommand(t *testing.T) {
	t.Parallel()
	opts := Options{PostgresSettings: map[string]string{"shared_buffers": "128MB", "max_locks_per_transaction": "128"}}.withDefaults()
	cmd := postgresCommand(opts.PostgresSettings)
	if cmd[0] != "postgres" || len(cmd) != 1+2*len(opts.PostgresSettings) {
		t.Fatalf("command %q", cmd)
	}
	var args []string
	for i := 1; i < len(cmd); i += 2 {
		if cmd[i] != "-c" {
			t.Fatalf("command %q: %q at %d, want -c", cmd, cmd[i], i)
		}
		args = append(args, cmd[i+1])
	}
	if !slices.IsSorted(args) {
		t.Errorf("settings not sorted: %q", args)
	}
	for _, want := range []string{"shared_buffers=128MB", "max_locks_per_transaction=128", "fsync=on", "max_connections=200"} {
		if !slices.Contains(args, want) {
			t.Errorf("command %q lacks %s", cmd, want)
		}
	}
	if slices.Contains(args, "fsync=off") {
		t.Error("command turns fsync off")
	}
	if opts.PostgresImage != DefaultPostgresImage || opts.KafkaImage != DefaultKafkaImage {
		t.Errorf("default images %q, %q", opts.PostgresImage, opts.KafkaImage)
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	if err := (Options{}).withDefaults().Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
	if err := (Options{PostgresSettings: map[string]string{"auto_explain.log_min_duration": "10ms"}}).Validate(); err != nil {
		t.Errorf("custom setting rejected: %v", err)
	}
	for _, bad := range []Options{
		{PostgresSettings: map[string]string{"shared buffers": "1GB"}},
		{PostgresSettings: map[string]string{"x=y": "1"}},
		{PostgresSettings: map[string]string{"1x": "1"}},
		{PostgresSettings: map[string]string{"work_mem": ""}},
		{PostgresSettings: map[string]string{"work_mem": "1\nMB"}},
		{KafkaImage: "apache/kafka 4.1.1"},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", bad)
		}
	}
}

func TestAddressing(t *testing.T) {
	t.Parallel()
	lo := netip.MustParseAddr("127.0.0.1")
	for daemonHost, want := range map[string]addressing{
		"localhost":  {host: "127.0.0.1", bind: lo},
		"127.0.0.1":  {host: "127.0.0.1", bind: lo},
		"::1":        {host: "127.0.0.1", bind: lo},
		"172.17.0.1": {host: "172.17.0.1"},
		"docker.lan": {host: "docker.lan"},
	} {
		if got := newAddressing(daemonHost); got != want {
			t.Errorf("newAddressing(%q) = %+v, want %+v", daemonHost, got, want)
		}
	}
	if got := newAddressing("fd00::5").addr(5432); got != "[fd00::5]:5432" {
		t.Errorf("IPv6 address %q", got)
	}
}

func TestFreePortsAndPublish(t *testing.T) {
	t.Parallel()
	a := newAddressing("localhost")
	ports, err := a.freePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	if len(ports) != 2 || ports[0] == ports[1] || ports[0] == 0 {
		t.Fatalf("freePorts(2) = %v", ports)
	}
	var hc container.HostConfig
	a.publish(kafkaPort, ports[0])(&hc)
	got := hc.PortBindings[network.MustParsePort(kafkaPort)]
	if len(got) != 1 || got[0].HostIP != a.bind || got[0].HostPort != fmt.Sprint(ports[0]) {
		t.Errorf("bindings %+v, want %s on %s:%d", hc.PortBindings, kafkaPort, a.bind, ports[0])
	}
	// testcontainers looks bindings up by the exposed port it parses from
	// "9092/tcp" itself; the keys must compare equal.
	if _, ok := hc.PortBindings[network.MustParsePort("9092/tcp")]; !ok {
		t.Error("binding key does not match the parsed exposed port")
	}
}

func TestIsPortConflict(t *testing.T) {
	t.Parallel()
	for msg, want := range map[string]bool{
		"Error response from daemon: Bind for 127.0.0.1:40001 failed: port is already allocated":                     true,
		"driver failed programming external connectivity: listen tcp4 127.0.0.1:40001: bind: address already in use": true,
		"rootlessport listen tcp 127.0.0.1:40001: bind: address already in use":                                      true,
		"pull access denied for apache/kafka":                                                                        false,
	} {
		if got := isPortConflict(errors.New(msg)); got != want {
			t.Errorf("isPortConflict(%q) = %v", msg, got)
		}
	}
}

func TestExplainEngineError(t *testing.T) {
	t.Parallel()
	if explainEngineError(nil) != nil {
		t.Error("nil error explained")
	}
	for cause, wantFix := range map[error]string{
		errors.New("permission denied while trying to connect to the docker API at unix:///var/run/docker.sock"): "docker group",
		fmt.Errorf("open: %w", os.ErrPermission): "docker group",
		errors.New("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"): "start Docker",
		context.DeadlineExceeded: "running and reachable",
	} {
		err := explainEngineError(cause)
		if !errors.Is(err, ErrEngineUnavailable) || !errors.Is(err, cause) || !strings.Contains(err.Error(), wantFix) {
			t.Errorf("explainEngineError(%v) = %v, want it to wrap both and mention %q", cause, err, wantFix)
		}
	}
}

func TestExplainRunError(t *testing.T) {
	t.Parallel()
	for msg, wantFix := range map[string]string{
		"create container: reaper: new reaper: run container: pull access denied":               "TESTCONTAINERS_RYUK_DISABLED",
		"create container: Error response from daemon: manifest for apache/kafka:9.9 not found": "docker pull apache/kafka:9.9",
		"start container: something else":                                                       "docker info",
	} {
		err := explainRunError("apache/kafka:9.9", errors.New(msg))
		if !strings.Contains(err.Error(), wantFix) {
			t.Errorf("explainRunError(%q) = %v, want it to mention %q", msg, err, wantFix)
		}
	}
	if err := explainRunError("x", context.Canceled); !errors.Is(err, context.Canceled) {
		t.Errorf("cancellation not kept: %v", err)
	}
}

func TestProgressNilIsSilent(t *testing.T) {
	t.Parallel()
	newProgress(nil).printf("nothing %d", 1)
	var p *progress
	p.printf("nothing")
	var b strings.Builder
	newProgress(&b).printf("line %d", 1)
	if b.String() != "line 1\n" {
		t.Errorf("progress wrote %q", b.String())
	}
}
