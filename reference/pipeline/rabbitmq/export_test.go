package rabbitmq

// Stopping returns a channel closed once Close has begun, so a test can
// hold a handler until then.
func (c *Consumer) Stopping() <-chan struct{} { return c.stopCtx.Done() }
