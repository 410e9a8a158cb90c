package projector_test

import (
	"testing"

	"github.com/cqrsbench/cqrsbench/reference/cqrskafka/projector"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/apply"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := projector.Config{Topic: "t", DeadLetterTopic: "t.dlq", Group: "g", Apply: apply.Config{Schema: "s", Consumer: "c"}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := ok.WithDefaults().MaxPollRecords; got != projector.DefaultMaxPollRecords {
		t.Errorf("default max poll records = %d", got)
	}
	for _, mutate := range []func(*projector.Config){
		func(c *projector.Config) { c.Apply.Schema = "" },
		func(c *projector.Config) { c.Topic = "" },
		func(c *projector.Config) { c.DeadLetterTopic = "t" },
		func(c *projector.Config) { c.Group = "" },
		func(c *projector.Config) { c.Apply.Consumer = "" },
		func(c *projector.Config) { c.MaxPollRecords = -1 },
	} {
		c := ok
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", c)
		}
	}
}
