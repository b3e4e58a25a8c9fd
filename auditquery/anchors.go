package auditquery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// Source kinds (SourceAnchor.Kind).
const (
	SourceControl = "control"
	SourceAgent   = "agent"
	SourceUnknown = "unknown" // events whose source the control stream does not know
)

// ControlSource is control's event source.
const ControlSource = "control"

// Anchors are what the control stream says about each audit chain: when it
// began and which host certs sign its checkpoints. Audit verification
// checks the audit stream (or a copy of it) against them, so the trust in
// a chain does not come from the stream that holds it.
type Anchors struct {
	// Sources by id: control and every joined agent.
	Sources map[string]*SourceAnchor `json:"sources"`
	// HostCAs are the host CA certs (PEM) the control stream ever held:
	// a source's host cert must be signed by one of them.
	HostCAs []string `json:"host_cas"`
}

// SourceAnchor is one source's anchor.
type SourceAnchor struct {
	Kind string `json:"kind"`
	// Start is when the chain began (its seq 1 is after it): the agent's
	// join, the cluster's creation.
	Start time.Time `json:"start"`
	// Certs are the source's host certs (PEM), in the order recorded:
	// agent.joined and agent.updated host_cert_pem for an agent,
	// control.host_cert_issued for control.
	Certs []string `json:"certs,omitempty"`
}

// anchorSubjects are the control subjects the anchors come from.
var anchorSubjects = []string{
	eventlog.ControlPrefix + "." + eventlog.KindCluster + ".>",
	eventlog.ControlPrefix + "." + eventlog.KindCA + ".>",
	eventlog.ControlPrefix + "." + eventlog.KindAgent + ".>",
	eventlog.ControlPrefix + "." + eventlog.KindHost + ".>",
}

// LoadAnchors replays the cluster, CA, agent and host records of the
// control stream through the projection's rules (a record the projection
// refuses, such as a second cluster.created or a CA rotation out of turn,
// anchors nothing).
func LoadAnchors(ctx context.Context, control eventlog.Reader) (Anchors, error) {
	a := Anchors{Sources: map[string]*SourceAnchor{}}
	st := projections.New()
	seenCA := map[string]bool{}
	addCA := func(pem string) {
		if pem != "" && !seenCA[pem] {
			seenCA[pem] = true
			a.HostCAs = append(a.HostCAs, pem)
		}
	}
	source := func(id, kind string, start time.Time) *SourceAnchor {
		s := a.Sources[id]
		if s == nil {
			s = &SourceAnchor{Kind: kind, Start: start}
			a.Sources[id] = s
		}
		return s
	}
	addCert := func(s *SourceAnchor, pem string) {
		if pem != "" && !slices.Contains(s.Certs, pem) {
			s.Certs = append(s.Certs, pem)
		}
	}
	err := control.Read(ctx, eventlog.Query{Subjects: anchorSubjects}, func(r eventlog.Record) error {
		if err := st.Apply(r); err != nil {
			var ae *projections.ApplyError
			if errors.As(err, &ae) {
				return nil
			}
			return err
		}
		data, err := schemas.Decode(r.Event)
		if err != nil {
			return nil // Apply took it, so it decodes; be safe anyway
		}
		switch d := data.(type) {
		case *schemas.ClusterCreated:
			source(ControlSource, SourceControl, r.Event.Time)
		case *schemas.AgentJoined:
			addCert(source(d.ID, SourceAgent, r.Event.Time), d.HostCertPEM)
		case *schemas.Agent: // agent.updated
			if s := a.Sources[d.ID]; s != nil {
				addCert(s, d.HostCertPEM)
			}
		case *schemas.ControlHostCertIssued:
			addCert(source(ControlSource, SourceControl, r.Event.Time), d.CertPEM)
		}
		if ca, ok := st.CAs[schemas.CAHost]; ok {
			addCA(ca.Active.CertPEM)
			if ca.Next != nil {
				addCA(ca.Next.CertPEM)
			}
		}
		return nil
	})
	if err != nil {
		return a, fmt.Errorf("audit anchors: replay control: %w", err)
	}
	return a, nil
}

// SourceIDs returns the anchored source ids, sorted.
func (a *Anchors) SourceIDs() []string {
	ids := make([]string, 0, len(a.Sources))
	for id := range a.Sources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
