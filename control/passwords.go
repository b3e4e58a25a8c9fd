package control

import (
	"context"
	"errors"
	"fmt"

	"github.com/tollgate-db/tollgate/control/keystore"
	"github.com/tollgate-db/tollgate/control/secret"
)

// Password hashes (argon2id, control/secret) are keystore secrets named
// "password/<user>"; they never enter the log.

func passwordName(user string) string { return "password/" + user }

func (s *Service) setPassword(ctx context.Context, user, pw string) error {
	if err := secret.CheckPolicy(pw); err != nil {
		return invalidf("%s", err.Error())
	}
	hash, err := secret.HashPassword(pw)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	if err := s.keys.PutSecret(ctx, passwordName(user), []byte(hash)); err != nil {
		return fmt.Errorf("store password hash: %w", err)
	}
	return nil
}

// checkPassword reports whether pw is user's password; a missing or
// unreadable hash is a plain no (logged when unreadable).
func (s *Service) checkPassword(ctx context.Context, user, pw string) bool {
	hash, err := s.keys.GetSecret(ctx, passwordName(user))
	if err != nil {
		if !errors.Is(err, keystore.ErrNotFound) {
			s.log.Error().Err(err).Str("user", user).Msg("read password hash")
		}
		return false
	}
	ok, err := secret.VerifyPassword(string(hash), pw)
	if err != nil {
		s.log.Error().Err(err).Str("user", user).Msg("verify password")
	}
	return ok
}

func (s *Service) deletePassword(ctx context.Context, user string) error {
	if err := s.keys.DeleteSecret(ctx, passwordName(user)); err != nil {
		return fmt.Errorf("remove password hash: %w", err)
	}
	return nil
}
