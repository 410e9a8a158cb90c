package relay

// SlotName and PublicationName expose the WAL relay's names to the tests.
var (
	SlotName        = slotName
	PublicationName = publicationName
)
