package rabbitlocal

import (
	"crypto/rand"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// DefaultUser is the user a node creates, with a random password (URL
// carries it).
const DefaultUser = "cqrsbench"

// conf returns the node's rabbitmq.conf entries: Options.Config, then what
// Start owns — the loopback listener, the log and the default user.
func (n *Node) conf() map[string]string {
	c := maps.Clone(n.opts.Config)
	if c == nil {
		c = map[string]string{}
	}
	c["listeners.tcp.1"] = "127.0.0.1:" + strconv.Itoa(n.amqpPort)
	c["log.console"] = "false"
	c["log.file.level"] = "info"
	c["default_user"] = DefaultUser
	c["default_pass"] = n.password
	return c
}

// renderConf renders entries in rabbitmq.conf's "key = value" format, sorted.
func renderConf(entries map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(entries)) {
		fmt.Fprintf(&b, "%s = %s\n", k, entries[k])
	}
	return b.String()
}

// env is the start script's environment: ours, without any RABBITMQ_*,
// ERL_* or HOME of the caller's (they would point the node at the system's
// files or change its flags), plus the node's own.
func (n *Node) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "RABBITMQ_") || strings.HasPrefix(k, "ERL_") || k == "HOME" {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+n.homeDir(), // the Erlang cookie lives there
		"RABBITMQ_NODENAME="+n.name,
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
		"RABBITMQ_NODE_PORT="+strconv.Itoa(n.amqpPort),
		"RABBITMQ_DIST_PORT="+strconv.Itoa(n.distPort),
		"ERL_EPMD_PORT="+strconv.Itoa(n.epmdPort),
		"ERL_EPMD_ADDRESS=127.0.0.1",
		"RABBITMQ_BASE="+n.dir,
		"RABBITMQ_CONF_ENV_FILE="+n.path("rabbitmq-env.conf"),
		"RABBITMQ_CONFIG_FILE="+n.path("rabbitmq.conf"),
		"RABBITMQ_ADVANCED_CONFIG_FILE="+n.path("advanced.config"),
		"RABBITMQ_ENABLED_PLUGINS_FILE="+n.path("enabled_plugins"),
		"RABBITMQ_MNESIA_BASE="+n.path("mnesia"),
		"RABBITMQ_LOG_BASE="+n.path("log"),
		"RABBITMQ_PID_FILE="+n.path("rabbitmq.pid"),
		// Without it the distribution port binds every interface.
		// -noinput: no Erlang shell (stdin is /dev/null).
		"RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1} -noinput",
		// The start script then execs erl instead of running it under a
		// shell that forwards signals: beam.smp is our child, keeps the
		// parent-death signal, and SIGTERM reaches it (a clean shutdown).
		"RABBITMQ_ALLOW_INPUT=true",
	)
}

// writeFiles writes the node's fixed files: an empty rabbitmq-env.conf (not
// the system's), no plugins and the Erlang cookie (mode 400, which Erlang
// requires).
func (n *Node) writeFiles() error {
	for _, d := range []string{n.homeDir(), n.path("mnesia"), n.path("log")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create node directory: %w", err)
		}
	}
	files := []struct {
		name, content string
		mode          os.FileMode
	}{
		{"rabbitmq-env.conf", "", 0o644},
		{"enabled_plugins", "[].\n", 0o644},
		{filepath.Join("home", ".erlang.cookie"), randomString(20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"), 0o400},
	}
	for _, f := range files {
		if err := os.WriteFile(n.path(f.name), []byte(f.content), f.mode); err != nil {
			return fmt.Errorf("write node configuration: %w", err)
		}
	}
	return nil
}

// writeConf writes rabbitmq.conf for the current ports.
func (n *Node) writeConf() error {
	if err := os.WriteFile(n.path("rabbitmq.conf"), []byte(renderConf(n.conf())), 0o600); err != nil {
		return fmt.Errorf("write node configuration: %w", err)
	}
	return nil
}

// randomString returns n characters drawn at random from alphabet.
func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
