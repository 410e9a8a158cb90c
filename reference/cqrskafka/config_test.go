package cqrskafka_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/cqrskafka"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/relay"
)

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c := cqrskafka.Config{Brokers: []string{"k:9092"}}.WithDefaults()
	if c.Schema != "cqrs_kafka" || c.Topic != "cqrsbench.order-events" || c.Partitions != 6 ||
		c.DeadLetterTopic != "cqrsbench.order-events.dead-letter" || c.Group == "" || c.Consumer == "" ||
		c.MetadataMinAge != 250*time.Millisecond || c.ReplicationFactor != -1 {
		t.Errorf("defaults: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate(defaults) = %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	brokers := []string{"k:9092"}
	tests := []struct {
		name string
		cfg  cqrskafka.Config
		want []string // substrings of the error; none: valid
	}{
		{"minimal", cqrskafka.Config{Brokers: brokers}, nil},
		{"no brokers", cqrskafka.Config{}, []string{"no Kafka brokers"}},
		{"bad schema", cqrskafka.Config{Brokers: brokers, Schema: "Bad-Name"}, []string{"schema name"}},
		{"negative partitions", cqrskafka.Config{Brokers: brokers, Partitions: -1}, []string{"partitions must be"}},
		{"naive with two relays", cqrskafka.Config{Brokers: brokers, Relay: cqrskafka.RelayOptions{Mode: relay.ModeNaiveCursor, Relays: 2}},
			[]string{"runs exactly one relay"}},
		{"unknown mode", cqrskafka.Config{Brokers: brokers, Relay: cqrskafka.RelayOptions{Mode: "fast"}}, []string{`unknown relay mode "fast"`}},
		{"duplicate fraction", cqrskafka.Config{Brokers: brokers, Relay: cqrskafka.RelayOptions{DuplicateFraction: 1.5}}, []string{"duplicate fraction"}},
		{"dead letter is topic", cqrskafka.Config{Brokers: brokers, Topic: "t", DeadLetterTopic: "t"}, []string{"must differ"}},
		{"several at once", cqrskafka.Config{Relay: cqrskafka.RelayOptions{BatchSize: -1}, Projector: cqrskafka.ProjectorOptions{MaxPollRecords: -5}},
			[]string{"no Kafka brokers", "batch size", "max poll records"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error mentioning %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %v, want it to mention %q", err, w)
				}
			}
		})
	}
}
