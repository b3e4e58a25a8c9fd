package keystore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Names lists the names of the records of kind (KindKey or KindSecret) in
// the store, decoded, in file name order. Temp files are left out.
func (s *Store) Names(ctx context.Context, kind string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if kind != KindKey && kind != KindSecret {
		return nil, fmt.Errorf("keystore: unknown kind %q", kind)
	}
	entries, err := os.ReadDir(filepath.Join(s.dir, kind))
	if err != nil {
		return nil, fmt.Errorf("list keystore: %w", err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".tmp-") {
			continue
		}
		if kind == KindKey {
			if !strings.HasSuffix(n, ".pem") {
				continue
			}
			n = strings.TrimSuffix(n, ".pem")
		}
		name, err := DecodeName(n)
		if err != nil {
			return nil, fmt.Errorf("list keystore: %w", err)
		}
		names = append(names, name)
	}
	return names, nil
}

// DecodeName reverses EncodeName.
func DecodeName(file string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(file); i++ {
		if file[i] != '%' {
			b.WriteByte(file[i])
			continue
		}
		if i+2 >= len(file) {
			return "", fmt.Errorf("file name %q: cut %%XX escape", file)
		}
		v, err := strconv.ParseUint(file[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("file name %q: bad %%XX escape", file)
		}
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String(), nil
}
