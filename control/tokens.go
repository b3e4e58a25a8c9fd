package control

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/tollgate-db/tollgate/control/secret"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/projections/access"
	"github.com/tollgate-db/tollgate/schemas"
)

// Tokens are the join tokens agents join with: created (the value is
// answered once; only its hash is stored), listed and deleted.
type Tokens struct{ s *Service }

// Tokens returns the service's tokens.
func (s *Service) Tokens() Tokens { return Tokens{s} }

// DefaultTokenTTL is a join token's TTL when none is given.
const DefaultTokenTTL = 30 * time.Minute

// Token types.
const TokenTypeDB = "db"

func tokenView(t *projections.Token) wire.Token {
	return wire.Token{Hash: t.Hash, Type: t.Type, Expires: t.Expires, Reusable: t.Reusable, Consumed: t.Consumed, CreatedAt: t.CreatedAt}
}

// Add creates a join token: 128 random bits; only its hash is stored.
func (ts Tokens) Add(ctx context.Context, c Caller, req wire.TokenAdd) (wire.Token, error) {
	s := ts.s
	if req.Type == "" {
		req.Type = TokenTypeDB
	}
	if req.Type != TokenTypeDB {
		return wire.Token{}, invalidf("token type %q: only --type=db is supported", req.Type)
	}
	if req.TTL == 0 {
		req.TTL = DefaultTokenTTL
	}
	if req.TTL < 0 || req.TTL > 30*24*time.Hour {
		return wire.Token{}, invalidf("token ttl %s: use a positive duration up to 720h", req.TTL)
	}
	value, hash := secret.NewToken()
	var err error
	data := schemas.TokenCreated{Hash: hash, Type: req.Type, Expires: s.cfg.Clock.Now().Add(req.TTL).UTC(), Reusable: req.Reusable}
	_, err = s.change(ctx, c.Actor(), eventlog.KindToken, hash, schemas.TypeTokenCreated, func(st *projections.State) (any, error) {
		if err := authorizeIn(st, c, schemas.ResourceToken, schemas.VerbCreate); err != nil {
			return nil, err
		}
		return data, nil
	})
	if err != nil {
		return wire.Token{}, err
	}
	out := wire.Token{Value: value, Hash: hash, Type: data.Type, Expires: data.Expires, Reusable: data.Reusable}
	s.View(func(st *projections.State) {
		if t, ok := st.Tokens[hash]; ok {
			out.CreatedAt = t.CreatedAt
		}
	})
	return out, nil
}

// List lists join tokens (hashes only).
func (ts Tokens) List(c Caller) ([]wire.Token, error) {
	s := ts.s
	var (
		out []wire.Token
		err error
	)
	s.View(func(st *projections.State) {
		if err = authorizeIn(st, c, schemas.ResourceToken, schemas.VerbList); err != nil {
			return
		}
		for _, t := range st.Tokens {
			out = append(out, tokenView(t))
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, err
}

// findToken resolves a token value or its hash (or a unique hash prefix of
// at least 8 characters).
func findToken(st *projections.State, ref string) (*projections.Token, error) {
	if t, ok := st.Tokens[secret.HashToken(ref)]; ok {
		return t, nil
	}
	if t, ok := st.Tokens[ref]; ok {
		return t, nil
	}
	var found *projections.Token
	if len(ref) >= 8 {
		for h, t := range st.Tokens {
			if len(h) >= len(ref) && h[:len(ref)] == ref {
				if found != nil {
					return nil, invalidf("token prefix %s is ambiguous; give more of the hash", ref)
				}
				found = t
			}
		}
	}
	if found == nil {
		return nil, notFoundf("token not found (tollctl tokens ls shows hashes)")
	}
	return found, nil
}

// Rm deletes a token by value or hash.
func (ts Tokens) Rm(ctx context.Context, c Caller, ref string) error {
	s := ts.s
	var hash string
	var err error
	s.View(func(st *projections.State) {
		var t *projections.Token
		if t, err = findToken(st, ref); err == nil {
			hash = t.Hash
		}
	})
	if err != nil {
		return err
	}
	_, err = s.change(ctx, c.Actor(), eventlog.KindToken, hash, schemas.TypeTokenDeleted, func(st *projections.State) (any, error) {
		if err := authorizeIn(st, c, schemas.ResourceToken, schemas.VerbDelete); err != nil {
			return nil, err
		}
		if _, ok := st.Tokens[hash]; !ok {
			return nil, notFoundf("token not found (tollctl tokens ls)")
		}
		return schemas.TokenDeleted{Hash: hash}, nil
	})
	return err
}

// tokenUsable says why a presented token cannot be used, if it cannot
// (access.TokenUsable, as an API error).
func tokenUsable(st *projections.State, value string, now time.Time) (*projections.Token, error) {
	hash := secret.HashToken(value)
	err := access.TokenUsable(st, hash, TokenTypeDB, now)
	switch {
	case err == nil:
		return st.Tokens[hash], nil
	case errors.Is(err, access.ErrTokenExpired):
		return nil, &Error{Code: CodeExpired, Message: err.Error(), Err: err}
	case errors.Is(err, access.ErrTokenUsed):
		return nil, &Error{Code: CodeUsed, Message: err.Error(), Err: err}
	}
	return nil, &Error{Code: CodeUnauthorized, Message: err.Error(), Err: err}
}
