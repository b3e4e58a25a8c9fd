package projections

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// SnapshotVersion is the format version Snapshot writes and Restore reads.
const SnapshotVersion = 1

// Canonical returns the canonical JSON of s: encoding/json sorts map keys,
// and every slice in State is in an order fixed by the log (trusted certs
// active first, a token's agents in consumption order, roles and traits as
// the events gave them). Two states are equal exactly when their canonical
// bytes are.
func (s *State) Canonical() ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("marshal state: %w", err)
	}
	return b, nil
}

type snapshot struct {
	Version int             `json:"snapshot_version"`
	State   json.RawMessage `json:"state"`
}

// Snapshot serializes s so that Restore gives back a state whose canonical
// JSON is byte-identical, and which, fed the records after s.LastSeq,
// reaches the same state as a full replay.
func Snapshot(s *State) ([]byte, error) {
	st, err := s.Canonical()
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(snapshot{Version: SnapshotVersion, State: st})
	if err != nil {
		return nil, fmt.Errorf("marshal snapshot: %w", err)
	}
	return b, nil
}

// Restore reads a Snapshot. A snapshot of another format version, or one
// that does not decode, fails with ErrSnapshotFormat.
func Restore(b []byte) (*State, error) {
	var snap snapshot
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&snap); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSnapshotFormat, err)
	}
	if snap.Version != SnapshotVersion {
		return nil, fmt.Errorf("%w: version %d, this binary reads version %d", ErrSnapshotFormat, snap.Version, SnapshotVersion)
	}
	s := New()
	if err := json.Unmarshal(snap.State, s); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSnapshotFormat, err)
	}
	s.fillMaps()
	return s, nil
}

// Clone returns a deep copy of s (through its snapshot form).
func (s *State) Clone() (*State, error) {
	b, err := Snapshot(s)
	if err != nil {
		return nil, err
	}
	return Restore(b)
}

// fillMaps makes sure no map is nil after decoding a snapshot that had
// "null" for one.
func (s *State) fillMaps() {
	if s.CAs == nil {
		s.CAs = map[string]*CA{}
	}
	if s.Roles == nil {
		s.Roles = map[string]*Role{}
	}
	if s.Users == nil {
		s.Users = map[string]*User{}
	}
	if s.Tokens == nil {
		s.Tokens = map[string]*Token{}
	}
	if s.Agents == nil {
		s.Agents = map[string]*Agent{}
	}
	if s.Databases == nil {
		s.Databases = map[string]*Database{}
	}
	if s.Locks == nil {
		s.Locks = map[string]*Lock{}
	}
	if s.AccessRequests == nil { // also a snapshot from before access requests
		s.AccessRequests = map[string]*AccessRequest{}
	}
	if s.SSOConnectors == nil { // a snapshot from before single sign-on
		s.SSOConnectors = map[string]*SSOConnector{}
	}
	if s.SubjectSeq == nil {
		s.SubjectSeq = map[string]uint64{}
	}
}
