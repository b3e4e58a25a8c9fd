// Package spool is a bounded, append-only on-disk queue of records: the
// agent's durable buffer of audit events between a session and the event
// log.
//
// Records are kept in segment files named by the sequence of their first
// record. Each record is framed as a 4-byte big-endian payload length, a
// 4-byte CRC-32C of the payload, then the payload. Sequences are implicit:
// the n-th record of a segment has the segment's first sequence plus n.
//
// Append writes records with one write per call and syncs per the
// SyncPolicy. Ack persists the position up to which records are stored
// downstream (in a small file written atomically) and deletes segments
// whose records are all acknowledged; the newest segment is always kept,
// so Last survives a restart. Open recovers after a crash: a torn record
// at the end of the newest segment is cut off; damage anywhere else fails
// with ErrCorrupt. When the spool holds MaxBytes of unacknowledged records,
// Append fails with ErrFull and accepts nothing.
package spool
