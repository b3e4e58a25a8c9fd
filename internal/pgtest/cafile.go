package pgtest

import (
	"context"
	"errors"
	"fmt"
)

// SetCAFile replaces the CAs client certs are verified against (the
// server's root.crt, from Config.CAFile) with the PEM file at path and
// reloads the server. PostgreSQL reloads its TLS files on a reload, but
// asynchronously: a test waits for the effect (e.g. a probe connection
// refused) rather than for this call.
func (s *Server) SetCAFile(ctx context.Context, path string) error {
	if s.caFile == "" {
		return errors.New("pgtest: the server was started without Config.CAFile")
	}
	if err := s.copyIn(path, s.caFile, 0o644); err != nil {
		return fmt.Errorf("set CA file: %w", err)
	}
	return s.Reload(ctx)
}
