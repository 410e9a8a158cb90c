package cqrsrabbitmq

// WorkersPaused reports whether a pause holds the workers.
func (s *System) WorkersPaused() bool { return s.run.Consumer().Paused() }
