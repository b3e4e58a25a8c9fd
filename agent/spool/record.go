package spool

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// HeaderLen is the size of a record header: payload length and CRC-32C.
const HeaderLen = 8

// MaxRecord bounds one record's payload.
const MaxRecord = 16 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Record decoding errors.
var (
	// ErrShort means the bytes end inside a record (a torn tail).
	ErrShort = errors.New("spool: record cut short")
	// ErrBadRecord means a record's length or checksum is wrong.
	ErrBadRecord = errors.New("spool: bad record")
)

// AppendRecord appends payload framed as one record to dst.
func AppendRecord(dst, payload []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(payload)))
	dst = binary.BigEndian.AppendUint32(dst, crc32.Checksum(payload, castagnoli))
	return append(dst, payload...)
}

// DecodeRecord decodes the record at the start of b. It returns the payload
// (a sub-slice of b) and the record's total size. The length is checked
// against MaxRecord before it is used.
func DecodeRecord(b []byte) (payload []byte, n int, err error) {
	if len(b) < HeaderLen {
		return nil, 0, ErrShort
	}
	size := binary.BigEndian.Uint32(b)
	if size > MaxRecord {
		return nil, 0, ErrBadRecord
	}
	end := HeaderLen + int(size)
	if len(b) < end {
		return nil, 0, ErrShort
	}
	payload = b[HeaderLen:end]
	if crc32.Checksum(payload, castagnoli) != binary.BigEndian.Uint32(b[4:]) {
		return nil, 0, ErrBadRecord
	}
	return payload, end, nil
}
