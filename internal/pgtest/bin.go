package pgtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrNotFound is returned when no PostgreSQL server binaries are installed.
var ErrNotFound = errors.New("PostgreSQL not found: apt-get install -y postgresql")

// BinDirEnv names an environment variable that, when set, is used as the
// directory holding initdb and postgres instead of the newest
// /usr/lib/postgresql/*/bin.
const BinDirEnv = "TOLLGATE_PG_BINDIR"

// BinDir returns the directory of the newest installed PostgreSQL server
// (the one holding initdb and postgres), or ErrNotFound.
func BinDir() (string, error) {
	if d := os.Getenv(BinDirEnv); d != "" {
		if !hasServer(d) {
			return "", fmt.Errorf("%s=%s holds no initdb and postgres: %w", BinDirEnv, d, ErrNotFound)
		}
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	best, bestVer := "", -1.0
	for _, d := range dirs {
		if !hasServer(d) {
			continue
		}
		v, err := strconv.ParseFloat(filepath.Base(filepath.Dir(d)), 64)
		if err != nil {
			v = 0
		}
		if v > bestVer {
			best, bestVer = d, v
		}
	}
	if best == "" {
		return "", ErrNotFound
	}
	return best, nil
}

func hasServer(dir string) bool {
	for _, b := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, b))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// quoteConf quotes a postgresql.conf value.
func quoteConf(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(v) + "'"
}
