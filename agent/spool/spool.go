package spool

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Errors.
var (
	// ErrFull means the spool holds MaxBytes; nothing was appended.
	ErrFull = errors.New("spool full")
	// ErrCorrupt means a segment other than the newest, or the ack file,
	// is damaged.
	ErrCorrupt = errors.New("spool corrupt")
	// ErrTooLarge means one record exceeds MaxRecord.
	ErrTooLarge = errors.New("spool record too large")
	// ErrClosed means the spool was closed.
	ErrClosed = errors.New("spool closed")
)

// SyncPolicy says when appended records are flushed to stable storage.
type SyncPolicy int

const (
	// SyncEveryAppend fsyncs after every Append (the default): an acked
	// Append survives a machine crash.
	SyncEveryAppend SyncPolicy = iota
	// SyncInterval fsyncs at most once per Options.SyncInterval, on an
	// Append: a machine crash may lose the last interval; a process crash
	// loses nothing.
	SyncInterval
	// SyncNever leaves flushing to the operating system.
	SyncNever
)

// Options tune a Spool. Zero values take the defaults.
type Options struct {
	// SegmentBytes is the size at which a new segment is started (default
	// SegmentBytesFor(MaxBytes)). Acknowledged records are freed a segment
	// at a time and the newest segment is never freed, so it is at most
	// MaxBytes/2.
	SegmentBytes int64
	// MaxBytes bounds the segment files on disk (default DefaultMaxBytes).
	MaxBytes int64
	Sync     SyncPolicy
	// SyncInterval is the period of SyncInterval (default 100ms).
	SyncInterval time.Duration
}

// DefaultMaxBytes is the default bound of a spool on disk.
const DefaultMaxBytes = 1 << 30

// SegmentBytesFor returns the default segment size for a spool bounded by
// maxBytes: an eighth of it, from 64 KiB to 16 MiB, so that freeing
// acknowledged records a segment at a time keeps most of the bound usable.
func SegmentBytesFor(maxBytes int64) int64 {
	return min(max(maxBytes/8, 64<<10), 16<<20)
}

const (
	segSuffix = ".seg"
	ackName   = "ack"
	probeName = "probe"
	ackSlot   = 20 // gen(8) seq(8) crc(4)
)

type segment struct {
	first uint64 // sequence of the first record
	count uint64
	size  int64
}

func (g segment) path(dir string) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", g.first, segSuffix))
}

// Spool is an on-disk queue. It is safe for concurrent use.
type Spool struct {
	dir string
	opt Options

	mu       sync.Mutex
	segs     []segment // oldest first; the last is the one appended to
	f        *os.File  // the newest segment, opened for appending
	ack      *os.File
	ackGen   uint64
	acked    uint64 // every record with sequence <= acked is acknowledged
	next     uint64 // sequence of the next record appended
	used     int64  // bytes of all segments
	last     []byte // payload of the newest record
	wbuf     []byte
	lastSync time.Time
	dirty    bool
	closed   bool
	// fresh: a write or sync failed; the next Append starts on a fresh file
	// (a new segment, or the empty newest one truncated and reopened).
	fresh bool
}

// Open opens (creating if needed) the spool in dir and recovers it.
func Open(dir string, opt Options) (*Spool, error) {
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = DefaultMaxBytes
	}
	if opt.SegmentBytes <= 0 {
		opt.SegmentBytes = SegmentBytesFor(opt.MaxBytes)
	}
	opt.SegmentBytes = max(min(opt.SegmentBytes, opt.MaxBytes/2), 1)
	if opt.SyncInterval <= 0 {
		opt.SyncInterval = 100 * time.Millisecond
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	s := &Spool{dir: dir, opt: opt}
	if err := s.openAck(); err != nil {
		return nil, err
	}
	if err := s.recover(); err != nil {
		_ = s.ack.Close()
		return nil, err
	}
	return s, nil
}

func (s *Spool) openAck() error {
	f, err := os.OpenFile(filepath.Join(s.dir, ackName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open spool ack file: %w", err)
	}
	s.ack = f
	buf := make([]byte, 2*ackSlot)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read spool ack file: %w", err)
	}
	found := false
	for i := 0; i+ackSlot <= n; i += ackSlot {
		gen, seq, ok := decodeAck(buf[i : i+ackSlot])
		if ok && (!found || gen > s.ackGen) {
			s.ackGen, s.acked, found = gen, seq, true
		}
	}
	if n > 0 && !found {
		return fmt.Errorf("spool ack file %s: %w", f.Name(), ErrCorrupt)
	}
	return nil
}

func decodeAck(b []byte) (gen, seq uint64, ok bool) {
	if crc32.Checksum(b[:16], castagnoli) != binary.BigEndian.Uint32(b[16:]) {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:]), true
}

func (s *Spool) listSegments() ([]segment, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list spool: %w", err)
	}
	var segs []segment
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, segSuffix) {
			continue
		}
		first, err := strconv.ParseUint(strings.TrimSuffix(name, segSuffix), 10, 64)
		if err != nil {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("list spool: %w", err)
		}
		segs = append(segs, segment{first: first, size: info.Size()})
	}
	slices.SortFunc(segs, func(a, b segment) int {
		switch {
		case a.first < b.first:
			return -1
		case a.first > b.first:
			return 1
		}
		return 0
	})
	return segs, nil
}

// recover scans the newest segment, cuts a torn tail, drops an empty newest
// segment after a crash during rotation, and deletes acked segments.
func (s *Spool) recover() error {
	segs, err := s.listSegments()
	if err != nil {
		return err
	}
	for i := 0; i+1 < len(segs); i++ {
		if segs[i+1].first <= segs[i].first {
			return fmt.Errorf("spool segments overlap: %w", ErrCorrupt)
		}
		segs[i].count = segs[i+1].first - segs[i].first
	}
	for len(segs) > 0 {
		g := &segs[len(segs)-1]
		count, size, last, err := scanSegment(g.path(s.dir))
		if err != nil {
			return err
		}
		if size < g.size {
			if err := os.Truncate(g.path(s.dir), size); err != nil {
				return fmt.Errorf("cut torn spool record: %w", err)
			}
		}
		g.count, g.size, s.last = count, size, last
		if count > 0 || len(segs) == 1 {
			break
		}
		if err := os.Remove(g.path(s.dir)); err != nil {
			return fmt.Errorf("remove empty spool segment: %w", err)
		}
		segs = segs[:len(segs)-1]
	}
	if len(segs) == 0 {
		segs = []segment{{first: s.acked + 1}}
	}
	s.segs = segs
	tail := segs[len(segs)-1]
	s.next = tail.first + tail.count
	if s.acked >= s.next {
		s.acked = s.next - 1
	}
	if err := s.openTail(0); err != nil {
		return err
	}
	for _, g := range s.segs {
		s.used += g.size
	}
	return s.dropAckedLocked()
}

// openTail opens the newest segment for appending (flag: extra open flags).
func (s *Spool) openTail(flag int) error {
	g := s.segs[len(s.segs)-1]
	f, err := os.OpenFile(g.path(s.dir), os.O_WRONLY|os.O_CREATE|os.O_APPEND|flag, 0o600)
	if err != nil {
		return fmt.Errorf("open spool segment: %w", err)
	}
	s.f = f
	return nil
}

// scanSegment returns the number of whole records, their byte size and
// the last payload.
func scanSegment(path string) (count uint64, size int64, last []byte, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("read spool segment: %w", err)
	}
	off := 0
	var lastP []byte
	for off < len(b) {
		p, n, err := DecodeRecord(b[off:])
		if err != nil {
			break // a torn or damaged tail: cut here
		}
		lastP = p
		off += n
		count++
	}
	return count, int64(off), slices.Clone(lastP), nil
}

// Append appends payloads as consecutive records and returns the sequence
// of the first. On an error nothing is appended: ErrFull when they do not
// fit under MaxBytes; a write or sync error (the records are cut off
// again, and the next Append starts on a fresh file).
func (s *Spool) Append(payloads ...[]byte) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	total := int64(0)
	for _, p := range payloads {
		if len(p) > MaxRecord {
			return 0, ErrTooLarge
		}
		total += int64(HeaderLen + len(p))
	}
	if s.used+total > s.opt.MaxBytes {
		return 0, ErrFull
	}
	if len(payloads) == 0 {
		return s.next, nil
	}
	tail := &s.segs[len(s.segs)-1]
	switch {
	case s.fresh && tail.count == 0:
		if err := s.reopenTailLocked(); err != nil {
			return 0, err
		}
	case s.fresh || tail.size >= s.opt.SegmentBytes && tail.count > 0:
		if err := s.rotateLocked(); err != nil {
			s.fresh = true
			return 0, err
		}
		tail = &s.segs[len(s.segs)-1]
	}
	s.fresh = false
	buf := s.wbuf[:0]
	for _, p := range payloads {
		buf = AppendRecord(buf, p)
	}
	if cap(buf) <= 4<<20 {
		s.wbuf = buf
	}
	if _, err := s.f.Write(buf); err != nil {
		s.failedLocked(tail.size)
		return 0, fmt.Errorf("append to spool: %w", err)
	}
	s.dirty = true
	if err := s.syncLocked(false); err != nil {
		s.failedLocked(tail.size)
		return 0, err
	}
	first := s.next
	n := uint64(len(payloads))
	tail.count += n
	tail.size += int64(len(buf))
	s.used += int64(len(buf))
	s.next += n
	s.last = append(s.last[:0], payloads[len(payloads)-1]...)
	return first, nil
}

// failedLocked cuts a failed Append's records off the newest segment (size
// is its size before them) and has the next Append start on a fresh file,
// since a failed write or sync leaves the file's state unknown. Should the
// cut fail too, the torn bytes stay past the segment's last counted record:
// readers stop at the count, and a restart cuts them as a torn tail.
func (s *Spool) failedLocked(size int64) {
	_ = s.f.Truncate(size)
	s.fresh = true
}

// reopenTailLocked replaces the newest segment, which holds no record, with
// an empty file.
func (s *Spool) reopenTailLocked() error {
	if s.f != nil {
		_ = s.f.Close()
		s.f, s.dirty = nil, false
	}
	if err := s.openTail(os.O_TRUNC); err != nil {
		return err
	}
	s.used -= s.segs[len(s.segs)-1].size
	s.segs[len(s.segs)-1].size = 0
	return nil
}

func (s *Spool) syncLocked(force bool) error {
	if !s.dirty {
		return nil
	}
	switch {
	case force, s.opt.Sync == SyncEveryAppend:
	case s.opt.Sync == SyncInterval:
		now := time.Now()
		if now.Sub(s.lastSync) < s.opt.SyncInterval {
			return nil
		}
		s.lastSync = now
	default:
		return nil
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("sync spool: %w", err)
	}
	s.dirty = false
	return nil
}

// rotateLocked starts a new newest segment. On an error the spool has no
// open segment (f nil) or the old one, and the next Append tries again.
func (s *Spool) rotateLocked() error {
	if s.f != nil {
		if err := s.syncLocked(true); err != nil {
			return err
		}
		err := s.f.Close()
		s.f = nil
		if err != nil {
			return fmt.Errorf("close spool segment: %w", err)
		}
	}
	s.segs = append(s.segs, segment{first: s.next})
	if err := s.openTail(0); err != nil {
		s.segs = s.segs[:len(s.segs)-1]
		return err
	}
	return syncDir(s.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync spool dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync spool dir: %w", err)
	}
	return nil
}

// Sync flushes appended records to stable storage now.
func (s *Spool) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return s.syncLocked(true)
}

// Ack records that every record up to and including seq is stored
// downstream, and deletes segments holding only acknowledged records
// (never the newest). The ack position is written without fsync: after a
// machine crash a few records may be re-sent, which the event log's
// de-duplication absorbs.
func (s *Spool) Ack(seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if seq >= s.next {
		seq = s.next - 1
	}
	if seq <= s.acked {
		return nil
	}
	s.ackGen++
	var b [ackSlot]byte
	binary.BigEndian.PutUint64(b[:], s.ackGen)
	binary.BigEndian.PutUint64(b[8:], seq)
	binary.BigEndian.PutUint32(b[16:], crc32.Checksum(b[:16], castagnoli))
	if _, err := s.ack.WriteAt(b[:], int64(s.ackGen%2)*ackSlot); err != nil {
		s.ackGen--
		return fmt.Errorf("write spool ack: %w", err)
	}
	s.acked = seq
	return s.dropAckedLocked()
}

func (s *Spool) dropAckedLocked() error {
	n := 0
	for n+1 < len(s.segs) && s.segs[n].first+s.segs[n].count-1 <= s.acked {
		if err := os.Remove(s.segs[n].path(s.dir)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove acked spool segment: %w", err)
		}
		s.used -= s.segs[n].size
		n++
	}
	s.segs = append(s.segs[:0], s.segs[n:]...)
	return nil
}

// Acked returns the sequence up to which records are acknowledged (0:
// none yet).
func (s *Spool) Acked() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acked
}

// Next returns the sequence the next appended record gets.
func (s *Spool) Next() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next
}

// Pending returns the number of appended records not yet acknowledged.
func (s *Spool) Pending() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next - 1 - s.acked
}

// Used returns the bytes of the segment files.
func (s *Spool) Used() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}

// Dir returns the spool's directory.
func (s *Spool) Dir() string { return s.dir }

// Room returns the bytes Append can still take before MaxBytes.
func (s *Spool) Room() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opt.MaxBytes - s.used
}

// Probe checks that the spool's directory takes writes: it writes, syncs
// and removes a small file there (a full or failing disk fails it). It
// does not touch the segments.
func (s *Spool) Probe() error {
	path := filepath.Join(s.dir, probeName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("probe spool: %w", err)
	}
	_, err = f.Write(make([]byte, 4096))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if rerr := os.Remove(path); err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("probe spool: %w", err)
	}
	return nil
}

// Last returns a copy of the newest record's payload, acknowledged or not
// (false when the spool never held one, or only in deleted segments).
func (s *Spool) Last() ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		return nil, false
	}
	return slices.Clone(s.last), true
}

// Close syncs and closes the files. Unacknowledged records stay for the
// next Open.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var err error
	if s.f != nil {
		err = s.syncLocked(true)
		if cerr := s.f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close spool: %w", cerr)
		}
	}
	if cerr := s.ack.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close spool: %w", cerr)
	}
	return err
}

// Reader reads records in sequence order from the files.
type Reader struct {
	s   *Spool
	seq uint64
	f   *os.File
	br  *bufio.Reader
	end uint64 // first sequence after the open segment
	hdr [HeaderLen]byte
}

// NewReader returns a Reader starting at sequence from.
func (s *Spool) NewReader(from uint64) *Reader {
	return &Reader{s: s, seq: from}
}

// Seq returns the sequence Next reads next.
func (r *Reader) Seq() uint64 { return r.seq }

// Next returns the next record's sequence and a copy of its payload, or
// io.EOF when every appended record was read.
func (r *Reader) Next() (uint64, []byte, error) {
	r.s.mu.Lock()
	next := r.s.next
	var seg segment
	found := false
	if r.f == nil || r.seq >= r.end {
		for _, g := range r.s.segs {
			if r.seq >= g.first && r.seq < g.first+g.count {
				seg, found = g, true
				break
			}
		}
	}
	r.s.mu.Unlock()
	if r.seq >= next {
		return 0, nil, io.EOF
	}
	if r.f == nil || r.seq >= r.end {
		r.Close()
		if !found {
			return 0, nil, fmt.Errorf("read spool record %d: deleted or missing: %w", r.seq, ErrCorrupt)
		}
		f, err := os.Open(seg.path(r.s.dir))
		if err != nil {
			return 0, nil, fmt.Errorf("read spool: %w", err)
		}
		r.f, r.br, r.end = f, bufio.NewReaderSize(f, 64<<10), seg.first+seg.count
		for i := seg.first; i < r.seq; i++ {
			if _, err := r.read(); err != nil {
				return 0, nil, err
			}
		}
	}
	p, err := r.read()
	if err != nil {
		return 0, nil, err
	}
	seq := r.seq
	r.seq++
	return seq, p, nil
}

func (r *Reader) read() ([]byte, error) {
	if _, err := io.ReadFull(r.br, r.hdr[:]); err != nil {
		return nil, fmt.Errorf("read spool record %d: %w", r.seq, ErrCorrupt)
	}
	size := binary.BigEndian.Uint32(r.hdr[:])
	if size > MaxRecord {
		return nil, fmt.Errorf("read spool record %d: %w", r.seq, ErrCorrupt)
	}
	p := make([]byte, size)
	if _, err := io.ReadFull(r.br, p); err != nil {
		return nil, fmt.Errorf("read spool record %d: %w", r.seq, ErrCorrupt)
	}
	if crc32.Checksum(p, castagnoli) != binary.BigEndian.Uint32(r.hdr[4:]) {
		return nil, fmt.Errorf("read spool record %d: %w", r.seq, ErrCorrupt)
	}
	return p, nil
}

// Close releases the Reader's file.
func (r *Reader) Close() {
	if r.f != nil {
		_ = r.f.Close()
		r.f, r.br = nil, nil
	}
}
