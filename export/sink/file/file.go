package file

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/tollgate-db/tollgate/export"
)

// Sink appends documents to a file as JSON lines.
type Sink struct {
	cfg  Config
	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	size int64
}

var _ export.Sink = (*Sink)(nil)

// New opens (or creates, 0600) the file at cfg.Path for appending. A zero
// MaxBytes never rotates, fsync defaults to batch; a negative size or
// count, or an fsync policy it does not know, is an error naming the
// field. (Config.Validate fills the section's defaults first.)
func New(cfg Config) (*Sink, error) {
	if cfg.Fsync == "" {
		cfg.Fsync = FsyncBatch
	}
	if err := cfg.check(Type, Type); err != nil {
		return nil, err
	}
	s := &Sink{cfg: cfg}
	if err := s.open(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Sink) open() error {
	f, err := os.OpenFile(s.cfg.Path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open export file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("stat export file: %w", err)
	}
	s.f, s.size = f, st.Size()
	if s.w == nil {
		s.w = bufio.NewWriterSize(f, 256<<10)
	} else {
		s.w.Reset(f)
	}
	return nil
}

// rotate closes the current file and shifts path.N-1 → path.N … path → path.1.
func (s *Sink) rotate() error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("flush export file: %w", err)
	}
	if s.cfg.Fsync != FsyncNever {
		if err := s.f.Sync(); err != nil {
			return fmt.Errorf("sync export file: %w", err)
		}
	}
	if err := s.f.Close(); err != nil {
		return fmt.Errorf("close export file: %w", err)
	}
	n := max(s.cfg.MaxBackups, 1)
	_ = os.Remove(fmt.Sprintf("%s.%d", s.cfg.Path, n))
	for i := n - 1; i >= 1; i-- {
		if err := os.Rename(fmt.Sprintf("%s.%d", s.cfg.Path, i), fmt.Sprintf("%s.%d", s.cfg.Path, i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("rotate export file: %w", err)
		}
	}
	if err := os.Rename(s.cfg.Path, s.cfg.Path+".1"); err != nil {
		return fmt.Errorf("rotate export file: %w", err)
	}
	return s.open()
}

// Write appends every document of batch, one per line. With fsync batch or
// always, it returns only once the data is on disk.
func (s *Sink) Write(ctx context.Context, batch []export.Item) error {
	if len(batch) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		if err := s.open(); err != nil {
			return err
		}
	}
	for i := range batch {
		doc := batch[i].Doc
		n := int64(len(doc) + 1)
		if cur := s.size + int64(s.w.Buffered()); s.cfg.MaxBytes > 0 && cur > 0 && cur+n > s.cfg.MaxBytes {
			if err := s.rotate(); err != nil {
				return s.fail(err)
			}
		}
		if _, err := s.w.Write(doc); err != nil {
			return s.fail(fmt.Errorf("write export file: %w", err))
		}
		if err := s.w.WriteByte('\n'); err != nil {
			return s.fail(fmt.Errorf("write export file: %w", err))
		}
		if s.cfg.Fsync == FsyncAlways {
			if err := s.flush(true); err != nil {
				return s.fail(err)
			}
		}
	}
	if err := s.flush(s.cfg.Fsync != FsyncNever); err != nil {
		return s.fail(err)
	}
	return nil
}

func (s *Sink) flush(sync bool) error {
	n := s.w.Buffered()
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("flush export file: %w", err)
	}
	s.size += int64(n)
	if sync {
		if err := s.f.Sync(); err != nil {
			return fmt.Errorf("sync export file: %w", err)
		}
	}
	return nil
}

// fail drops the open file after an I/O error so the next attempt reopens
// it; partially written lines may be repeated (at-least-once).
func (s *Sink) fail(err error) error {
	if s.f != nil {
		_ = s.f.Close()
		s.f = nil
	}
	return err
}

// Close flushes and closes the file.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.flush(s.cfg.Fsync != FsyncNever)
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	s.f = nil
	return err
}
