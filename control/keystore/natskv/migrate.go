package natskv

import (
	"context"
	"errors"
	"fmt"

	"github.com/tollgate-db/tollgate/control/keystore"
)

// Empty reports whether the bucket holds no key and no secret.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	l, err := s.kv.ListKeys(ctx)
	if err != nil {
		return false, fmt.Errorf("list keystore bucket: %w", err)
	}
	defer func() { _ = l.Stop() }()
	for range l.Keys() {
		return false, nil
	}
	return true, nil
}

// The import's progress, kept (sealed like the rest) in the bucket:
// importRunning before the first record is copied, importDone after the
// last, so that an import cut short is done again at the next start.
const (
	kindMeta      = "meta"
	importName    = "import"
	importRunning = "running"
	importDone    = "done"
)

// needsImport tells whether ImportFile must copy: the bucket is empty, or
// an import was cut short.
func (s *Store) needsImport(ctx context.Context) (bool, error) {
	v, err := s.get(ctx, kindMeta, importName)
	switch {
	case err == nil:
		return string(v) == importRunning, nil
	case !errors.Is(err, keystore.ErrNotFound):
		return false, err
	}
	return s.Empty(ctx)
}

// Imported counts what ImportFile copied.
type Imported struct{ Keys, Secrets int }

// ImportFile copies every key and secret of the file store src into the
// bucket when the bucket is empty (or an import was cut short), and copies
// nothing otherwise: the bucket, once used, is the keystore, and a second
// import would bring back keys deleted since. Two controls importing the
// same data dir at once write the same records.
func (s *Store) ImportFile(ctx context.Context, src *keystore.Store) (Imported, error) {
	var n Imported
	need, err := s.needsImport(ctx)
	if err != nil || !need {
		return n, err
	}
	if err := s.put(ctx, kindMeta, importName, []byte(importRunning)); err != nil {
		return n, err
	}
	if err := s.copyFrom(ctx, src, &n); err != nil {
		return n, err
	}
	return n, s.put(ctx, kindMeta, importName, []byte(importDone))
}

func (s *Store) copyFrom(ctx context.Context, src *keystore.Store, n *Imported) error {
	ids, err := src.Names(ctx, keystore.KindKey)
	if err != nil {
		return err
	}
	for _, id := range ids {
		k, err := src.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("import key %s: %w", id, err)
		}
		if err := s.Put(ctx, id, k); err != nil {
			return fmt.Errorf("import key %s: %w", id, err)
		}
		n.Keys++
	}
	names, err := src.Names(ctx, keystore.KindSecret)
	if err != nil {
		return err
	}
	for _, name := range names {
		v, err := src.GetSecret(ctx, name)
		if err != nil {
			return fmt.Errorf("import secret %q: %w", name, err)
		}
		if err := s.PutSecret(ctx, name, v); err != nil {
			return fmt.Errorf("import secret %q: %w", name, err)
		}
		n.Secrets++
	}
	return nil
}
