// Package logging builds the zerolog.Logger every Tollgate process passes
// down: human-readable on a terminal, JSON otherwise, level from a flag or
// the TOLLGATE_LOG_LEVEL environment variable. There is no global logger.
package logging
