package cqrsrabbitmq

import (
	"strconv"

	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
)

// eventID identifies an event in the tracker and in the message-id.
func eventID(r event.Ref) string {
	b := strconv.AppendInt(make([]byte, 0, 24), r.OrderID, 10)
	b = append(b, '/')
	return string(strconv.AppendInt(b, int64(r.Version), 10))
}
