package bench

import (
	"sync"

	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/reference"
)

// maxErrorSamples is how many distinct error messages a run keeps.
const maxErrorSamples = 5

// errorLog collects the errors an architecture's background workers
// recover from (catalog.Deps.OnError): a count and the first distinct
// messages. Workers report from their own goroutines.
type errorLog struct {
	mu      sync.Mutex
	total   int64
	samples []results.ErrorSample
}

// record counts err; it is the OnError of an architecture.
func (l *errorLog) record(err error) {
	if l == nil || err == nil {
		return
	}
	msg := err.Error()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total++
	for i := range l.samples {
		if l.samples[i].Message == msg {
			l.samples[i].Count++
			return
		}
	}
	if len(l.samples) < maxErrorSamples {
		l.samples = append(l.samples, results.ErrorSample{Message: msg, Count: 1})
	}
}

// result returns the errors of sys's run: the log's messages and, for a
// pipeline, its own counts by part; nil when there were none.
func (l *errorLog) result(sys reference.System) *results.WorkerErrors {
	l.mu.Lock()
	out := &results.WorkerErrors{Total: l.total, Samples: append([]results.ErrorSample(nil), l.samples...)}
	l.mu.Unlock()
	if p, ok := sys.(reference.Pipeline); ok {
		for _, e := range p.PipelineStats().Errors {
			out.ByPart = append(out.ByPart, results.PartErrors{Part: e.Where, Count: e.Count})
		}
	}
	if out.Total == 0 && len(out.ByPart) == 0 {
		return nil
	}
	return out
}
