package logging

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rs/zerolog"
	"golang.org/x/term"
)

// EnvLevel is the environment variable that sets the level when no flag does.
const EnvLevel = "TOLLGATE_LOG_LEVEL"

// Format of log output.
const (
	FormatAuto   = "auto" // text on a terminal, JSON otherwise
	FormatText   = "text" // human-readable
	FormatJSON   = "json" // one JSON object per line
	DefaultLevel = "info"
)

// Options configure New. Zero values mean the defaults.
type Options struct {
	Level  string // debug, info, warn, error; "" reads EnvLevel, then info
	Format string // auto, text, json
}

// New returns a logger writing to w.
func New(w io.Writer, o Options) (zerolog.Logger, error) {
	level := o.Level
	if level == "" {
		level = os.Getenv(EnvLevel)
	}
	if level == "" {
		level = DefaultLevel
	}
	lvl, err := zerolog.ParseLevel(strings.ToLower(level))
	if err != nil || lvl == zerolog.NoLevel {
		return zerolog.Nop(), fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	format := o.Format
	if format == "" {
		format = FormatAuto
	}
	var out io.Writer
	switch format {
	case FormatAuto:
		if isTerminal(w) {
			out = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000"}
		} else {
			out = w
		}
	case FormatText:
		out = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000", NoColor: !isTerminal(w)}
	case FormatJSON:
		out = w
	default:
		return zerolog.Nop(), fmt.Errorf("log format %q: use auto, text or json", format)
	}
	return zerolog.New(out).Level(lvl).With().Timestamp().Logger(), nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
