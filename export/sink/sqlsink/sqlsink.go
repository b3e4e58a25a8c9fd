package sqlsink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	crdbpgx "github.com/cockroachdb/cockroach-go/v2/crdb/crdbpgxv5"
	"github.com/jackc/pgx/v5"

	"github.com/tollgate-db/tollgate/export"
)

// rowsPerStatement bounds one INSERT (9 parameters a row, under the
// protocol's 65535 limit).
const rowsPerStatement = 1000

// Sink inserts events into a table over one connection, reopened after
// an error.
type Sink struct {
	pc    *pgx.ConnConfig
	conn  *pgx.Conn
	table string
	ready bool
}

var _ export.Sink = (*Sink)(nil)

// New checks cfg (a DSN is required; the table, DefaultTable by default,
// must be a plain name) and parses cfg.DSN (pgx). It connects and creates
// the table on the first Write, so a database that is down at start only
// delays export.
func New(cfg Config) (*Sink, error) {
	cfg.fill()
	if err := cfg.check(Type, Type); err != nil {
		return nil, err
	}
	pc, err := pgx.ParseConfig(cfg.DSN)
	if err != nil {
		// The DSN may hold a password: never echo it.
		return nil, errors.New("sql sink: dsn does not parse as a pgx connection string")
	}
	return &Sink{pc: pc, table: pgx.Identifier{cfg.Table}.Sanitize()}, nil
}

// Table returns the quoted table name.
func (s *Sink) Table() string { return s.table }

func (s *Sink) ensureTable(ctx context.Context) error {
	if s.conn == nil {
		c, err := pgx.ConnectConfig(ctx, s.pc)
		if err != nil {
			return fmt.Errorf("sql sink: connect to %s: %w", s.pc.Host, err)
		}
		s.conn = c
	}
	if s.ready {
		return nil
	}
	_, err := s.conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+s.table+` (
	id         TEXT PRIMARY KEY,
	stream     TEXT NOT NULL,
	stream_seq BIGINT NOT NULL,
	type       TEXT NOT NULL,
	time       TIMESTAMPTZ NOT NULL,
	source     TEXT NOT NULL,
	actor      TEXT NOT NULL,
	subject    TEXT NOT NULL,
	doc        JSONB NOT NULL
)`)
	if err != nil {
		return fmt.Errorf("sql sink: create table: %w", err)
	}
	s.ready = true
	return nil
}

var nulEscape = []byte(`\u0000`)

// Write inserts the batch in one retried transaction; rows already present
// are skipped.
func (s *Sink) Write(ctx context.Context, batch []export.Item) error {
	if len(batch) == 0 {
		return nil
	}
	if err := s.ensureTable(ctx); err != nil {
		s.drop()
		return err
	}
	err := crdbpgx.ExecuteTx(ctx, s.conn, pgx.TxOptions{}, func(tx pgx.Tx) error {
		for start := 0; start < len(batch); start += rowsPerStatement {
			end := min(start+rowsPerStatement, len(batch))
			q, args := s.insert(batch[start:end])
			if _, err := tx.Exec(ctx, q, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.drop()
		return fmt.Errorf("sql sink: insert %d events: %w", len(batch), err)
	}
	return nil
}

func (s *Sink) drop() {
	if s.conn != nil {
		_ = s.conn.Close(context.Background())
		s.conn = nil
	}
}

func (s *Sink) insert(batch []export.Item) (string, []any) {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(s.table)
	b.WriteString(" (id, stream, stream_seq, type, time, source, actor, subject, doc) VALUES ")
	args := make([]any, 0, len(batch)*9)
	for i := range batch {
		it := &batch[i]
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := 0; c < 9; c++ {
			if c > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(len(args) + c + 1))
		}
		b.WriteByte(')')
		doc := it.Doc
		if bytes.Contains(doc, nulEscape) {
			doc = bytes.ReplaceAll(doc, nulEscape, []byte(`\\u0000`))
		}
		args = append(args, it.Event.ID, it.Stream, int64(it.StreamSeq), it.Event.Type, it.Event.Time,
			it.Event.Source, it.Event.Actor, it.Event.Subject, string(doc))
	}
	b.WriteString(" ON CONFLICT (id) DO NOTHING")
	return b.String(), args
}

// Close closes the connection.
func (s *Sink) Close() error {
	s.drop()
	return nil
}
