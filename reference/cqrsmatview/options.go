package cqrsmatview

import "github.com/cqrsbench/cqrsbench/reference/settings"

// Options are cqrs-matview's scenario options (`options: {cqrs-matview: ...}`).
type Options struct {
	// ReadFrom puts the screens on a streaming replica (read_from:
	// replica). Default: primary.
	settings.ReadFrom `yaml:",inline"`
	// Refresh is the period of REFRESH MATERIALIZED VIEW CONCURRENTLY: the
	// read side is at most this (plus the refresh time) behind. Default:
	// DefaultRefreshPeriod.
	Refresh settings.Duration `yaml:"refresh" json:"refresh"`
}

// DefaultOptions returns cqrs-matview's options with every default set.
func DefaultOptions() *Options {
	return &Options{ReadFrom: settings.ReadFrom{ReadFrom: settings.ReadPrimary}, Refresh: settings.Duration(DefaultRefreshPeriod)}
}

// Validate implements settings.Options.
func (o *Options) Validate() []settings.FieldError {
	errs := o.ReadFrom.Validate()
	if o.Refresh <= 0 {
		errs = append(errs, settings.Errorf("refresh", "must be > 0, got %s", o.Refresh))
	}
	return errs
}
