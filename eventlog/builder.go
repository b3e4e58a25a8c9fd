package eventlog

import (
	"encoding/json"
	"fmt"
)

// Validator checks an event against its schema before it is appended.
// schemas.Validator implements it.
type Validator interface {
	Validate(ev *Event) error
}

// Builder stamps new events with an id, a time and a source. Control and
// agents each hold one; projections never do.
type Builder struct {
	Clock  Clock
	IDs    IDSource
	Source string
}

// NewBuilder returns a Builder on the system clock and ULIDs.
func NewBuilder(source string) *Builder {
	return &Builder{Clock: SystemClock{}, IDs: NewULIDs(), Source: source}
}

// Build makes an event of type typ and schema version v about subject, caused
// by actor, with data marshaled to JSON.
func (b *Builder) Build(typ string, v int, actor, subject string, data any) (Event, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Event{}, fmt.Errorf("marshal %s data: %w", typ, err)
	}
	now := b.Clock.Now().UTC()
	return Event{
		ID:      b.IDs.NewID(now),
		Type:    typ,
		V:       v,
		Time:    now,
		Source:  b.Source,
		Actor:   actor,
		Subject: subject,
		Data:    raw,
	}, nil
}
