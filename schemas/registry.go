package schemas

import (
	"io/fs"
	"sort"
	"sync/atomic"
)

// Streams an event type belongs to (Info.Stream).
const (
	StreamControl = "control" // TOLLGATE_CONTROL, subjects tollgate.control.…
	StreamAudit   = "audit"   // TOLLGATE_AUDIT, subjects tollgate.audit.…
)

// Info describes one event type of the catalogue.
type Info struct {
	// Type is the event type name, e.g. "user.created".
	Type string
	// Stream is StreamControl or StreamAudit.
	Stream string
	// Version is the current schema version: producers write it, Decode
	// upcasts older versions to it.
	Version int
	// New returns a pointer to a new zero value of the Go type of the
	// current version's data, e.g. *UserCreated.
	New func() any
}

// catalogue lists every event type with its current version. Adding a type:
// a constant in types.go, a Go type, an entry here, a schema file under
// v1/<stream>/ and a sample under testdata/samples/.
var catalogue = []Info{
	control(TypeClusterCreated, 1, func() any { return new(ClusterCreated) }),
	control(TypeCACreated, 1, func() any { return new(CACreated) }),
	control(TypeCARotationStarted, 1, func() any { return new(CARotationStarted) }),
	control(TypeCARotationPhase, 1, func() any { return new(CARotationPhaseChanged) }),
	control(TypeCARotationCompleted, 1, func() any { return new(CARotationCompleted) }),
	control(TypeCARotationRolledBack, 1, func() any { return new(CARotationRolledBack) }),
	control(TypeRoleCreated, 1, func() any { return new(RoleCreated) }),
	control(TypeRoleUpdated, 1, func() any { return new(RoleUpdated) }),
	control(TypeRoleDeleted, 1, func() any { return new(RoleDeleted) }),
	control(TypeUserCreated, 1, func() any { return new(UserCreated) }),
	control(TypeUserUpdated, 1, func() any { return new(UserUpdated) }),
	control(TypeUserDeleted, 1, func() any { return new(UserDeleted) }),
	control(TypeUserPasswordSet, 1, func() any { return new(UserPasswordSet) }),
	control(TypeUserInviteCreated, 1, func() any { return new(UserInviteCreated) }),
	control(TypeUserMFAAdded, 1, func() any { return new(UserMFAAdded) }),
	control(TypeUserMFARemoved, 1, func() any { return new(UserMFARemoved) }),
	control(TypeTokenCreated, 1, func() any { return new(TokenCreated) }),
	control(TypeTokenConsumed, 1, func() any { return new(TokenConsumed) }),
	control(TypeTokenDeleted, 1, func() any { return new(TokenDeleted) }),
	control(TypeAgentJoined, 1, func() any { return new(AgentJoined) }),
	control(TypeAgentUpdated, 1, func() any { return new(AgentUpdated) }),
	control(TypeDatabaseRegistered, 1, func() any { return new(DatabaseRegistered) }),
	control(TypeDatabaseUpdated, 1, func() any { return new(DatabaseUpdated) }),
	control(TypeDatabaseDeregistered, 1, func() any { return new(DatabaseDeregistered) }),
	control(TypeLockCreated, 1, func() any { return new(LockCreated) }),
	control(TypeLockDeleted, 1, func() any { return new(LockDeleted) }),
	control(TypeControlHostCertIssued, 1, func() any { return new(ControlHostCertIssued) }),
	control(TypeAccessRequestCreated, 1, func() any { return new(AccessRequestCreated) }),
	control(TypeAccessRequestReviewed, 1, func() any { return new(AccessRequestReviewed) }),
	control(TypeAccessRequestApproved, 1, func() any { return new(AccessRequestApproved) }),
	control(TypeAccessRequestDenied, 1, func() any { return new(AccessRequestDenied) }),
	control(TypeAccessRequestDropped, 1, func() any { return new(AccessRequestDropped) }),
	control(TypeAccessRequestExpired, 1, func() any { return new(AccessRequestExpired) }),
	control(TypeSSOConnectorSaved, 1, func() any { return new(SSOConnectorSaved) }),
	control(TypeSSOConnectorDeleted, 1, func() any { return new(SSOConnectorDeleted) }),

	audit(TypeAuthLogin, 1, func() any { return new(AuthLogin) }),
	audit(TypeCertIssued, 1, func() any { return new(CertIssued) }),
	audit(TypeSessionStarted, 1, func() any { return new(SessionStarted) }),
	audit(TypeSessionRejected, 1, func() any { return new(SessionRejected) }),
	audit(TypeQuery, 1, func() any { return new(Query) }),
	audit(TypeQueryResult, 1, func() any { return new(QueryResult) }),
	audit(TypeQueryDenied, 1, func() any { return new(QueryPolicy) }),
	audit(TypeQueryWouldDeny, 1, func() any { return new(QueryPolicy) }),
	audit(TypeQueryFlagged, 1, func() any { return new(QueryPolicy) }),
	audit(TypeSessionCancel, 1, func() any { return new(SessionCancel) }),
	audit(TypeSessionEnded, 1, func() any { return new(SessionEnded) }),
	audit(TypeAuditCheckpoint, 1, func() any { return new(AuditCheckpoint) }),
}

// upcasters holds the catalogue's upcasters. None exist yet: every type is
// at version 1. When a type moves to v2, its v1→v2 upcaster goes here.
var upcasters = []Upcaster{}

func control(typ string, v int, f func() any) Info {
	return Info{Type: typ, Stream: StreamControl, Version: v, New: f}
}

func audit(typ string, v int, f func() any) Info {
	return Info{Type: typ, Stream: StreamAudit, Version: v, New: f}
}

// registry is a catalogue with its upcasters and schema files. The package
// functions use defaultRegistry; tests build others to exercise versioning.
type registry struct {
	fsys      fs.FS // schema files: v<N>/envelope.schema.json, v<N>/<stream>/<type>.schema.json
	byType    map[string]Info
	sorted    []Info
	upcasters map[upcastKey]Upcaster
}

type upcastKey struct {
	typ  string
	from int
}

func newRegistry(fsys fs.FS, infos []Info, ups []Upcaster) *registry {
	r := &registry{
		fsys:      fsys,
		byType:    make(map[string]Info, len(infos)),
		upcasters: make(map[upcastKey]Upcaster, len(ups)),
	}
	for _, in := range infos {
		if _, dup := r.byType[in.Type]; dup {
			panic("schemas: duplicate type " + in.Type)
		}
		r.byType[in.Type] = in
		r.sorted = append(r.sorted, in)
	}
	sort.Slice(r.sorted, func(i, j int) bool { return r.sorted[i].Type < r.sorted[j].Type })
	for _, u := range ups {
		k := upcastKey{u.Type, u.From}
		if _, dup := r.upcasters[k]; dup {
			panic("schemas: duplicate upcaster for " + u.Type)
		}
		r.upcasters[k] = u
	}
	return r
}

// active is the registry the package functions use: the catalogue, or a
// test's override of it (OverrideVersion).
var active atomic.Pointer[registry]

func init() { active.Store(newRegistry(files, catalogue, upcasters)) }

func defaultRegistry() *registry { return active.Load() }

// Lookup returns the Info of event type typ.
func Lookup(typ string) (Info, bool) {
	in, ok := defaultRegistry().byType[typ]
	return in, ok
}

// All returns every event type of the catalogue, sorted by type name. The
// slice is a copy.
func All() []Info {
	return append([]Info(nil), defaultRegistry().sorted...)
}

// CurrentVersion returns the version producers write for typ, or 0 for an
// unknown type.
func CurrentVersion(typ string) int {
	return defaultRegistry().byType[typ].Version
}
