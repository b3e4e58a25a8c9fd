package access

import (
	"errors"
	"fmt"
	"time"

	"github.com/tollgate-db/tollgate/projections"
)

// Join token refusals. Each says what to do; none contains the token.
var (
	ErrTokenUnknown   = errors.New("join token not found; create one with `tollctl tokens add`")
	ErrTokenExpired   = errors.New("join token expired; create a new one with `tollctl tokens add`")
	ErrTokenUsed      = errors.New("join token already used (it is single-use); create a new one with `tollctl tokens add`")
	ErrTokenWrongType = errors.New("join token is of another type")
)

// TokenUsable tells whether the join token with hash may be used now for
// a join of type typ. Errors, in the order checked: ErrTokenUnknown,
// ErrTokenWrongType, ErrTokenExpired, ErrTokenUsed. A token expires at its
// expiry instant (now equal to it is expired).
func TokenUsable(s *projections.State, hash, typ string, now time.Time) error {
	t, ok := s.Tokens[hash]
	if !ok {
		return ErrTokenUnknown
	}
	if typ != "" && t.Type != typ {
		return fmt.Errorf("%w: it is a %q token, not %q", ErrTokenWrongType, t.Type, typ)
	}
	if !t.Expires.IsZero() && !now.Before(t.Expires) {
		return ErrTokenExpired
	}
	if t.Consumed && !t.Reusable {
		return ErrTokenUsed
	}
	return nil
}
