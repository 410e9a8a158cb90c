// Package settings holds what an architecture's options are made of: the
// value types they are written in (Duration) and the error their
// validation returns (FieldError). It is a leaf package, so architectures,
// the architecture table (reference/catalog) and the scenario loader
// (scenarios) share one definition without importing each other.
//
// An architecture's options are a struct whose exported fields carry yaml
// and json tags. The architecture returns it filled with its defaults (the
// only place each default lives), the scenario loader decodes the
// scenario's `options.<architecture>` mapping over it (fields absent from
// the file keep their defaults), and Validate reports what is wrong, field
// by field, so the loader can name the file and line.
package settings

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Options is an architecture's options struct (a pointer to it).
type Options interface {
	// Validate returns one FieldError per bad field; none when all are
	// good.
	Validate() []FieldError
}

// FieldError says what is wrong with one field of an options struct.
type FieldError struct {
	// Field is the field's yaml name ("batch_size").
	Field string
	// Msg says what is wrong and what to give instead.
	Msg string
}

// Error implements error.
func (e FieldError) Error() string { return e.Field + ": " + e.Msg }

// Errorf returns a FieldError for field.
func Errorf(field, format string, args ...any) FieldError {
	return FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Duration is a time.Duration written as a Go duration string ("30s",
// "1m30s", "250ms") in YAML and JSON.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d like time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText formats d as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ParseDuration parses a Go duration, with a hint when the unit is missing.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	v, err := time.ParseDuration(s)
	if err != nil {
		if _, ferr := strconv.ParseFloat(s, 64); ferr == nil {
			return 0, fmt.Errorf("must be a duration with a unit, like %q, got %s", s+"s", s)
		}
		return 0, fmt.Errorf("must be a duration like \"30s\", \"2m\" or \"250ms\", got %q", s)
	}
	return Duration(v), nil
}

// Where an architecture's screens may read (ReadFrom).
const (
	ReadPrimary = "primary"
	ReadReplica = "replica"
)

// ReadFrom says where an architecture's screens read. Options embed it
// (`yaml:",inline"`), so it reads as their own field: `options:
// {cqrs-kafka: {read_from: replica}}`.
type ReadFrom struct {
	// ReadFrom is "primary" (the default: the screens query the server
	// the commands write) or "replica": they query a streaming replica of
	// it, holding the same read models replicated, and waiting for the
	// read side waits for the replica's replay too.
	ReadFrom string `yaml:"read_from" json:"read_from,omitempty"`
}

// ReadsReplica reports whether the screens read a streaming replica.
func (r ReadFrom) ReadsReplica() bool { return r.ReadFrom == ReadReplica }

// Validate returns the FieldError of a bad read_from, if any.
func (r ReadFrom) Validate() []FieldError {
	if r.ReadFrom != ReadPrimary && r.ReadFrom != ReadReplica && r.ReadFrom != "" {
		return []FieldError{Errorf("read_from", "must be %s or %s, got %q", ReadPrimary, ReadReplica, r.ReadFrom)}
	}
	return nil
}

// ReplicaReader is implemented by the options of architectures whose
// screens can read a streaming replica (those embedding ReadFrom).
type ReplicaReader interface {
	ReadsReplica() bool
}
