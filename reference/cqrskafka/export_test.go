package cqrskafka

// ProjectorRunning reports whether the projector is started (not paused
// or stopped by a Rebuild).
func (s *System) ProjectorRunning() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.projCancel != nil
}
