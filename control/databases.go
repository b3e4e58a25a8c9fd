package control

import (
	"context"
	"net"
	"reflect"
	"sort"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/projections/access"
	"github.com/tollgate-db/tollgate/schemas"
)

// Databases are the routes agents serve: registered by an agent from its
// config, created dynamically by people, deregistered and listed.
type Databases struct{ s *Service }

// Databases returns the service's databases.
func (s *Service) Databases() Databases { return Databases{s} }

// Database protocols.
const (
	ProtocolCockroachDB = "cockroachdb"
	ProtocolPostgres    = "postgres"
)

func checkDatabase(d schemas.Database) error {
	if err := validName("database", d.Name); err != nil {
		return err
	}
	if d.Protocol != ProtocolCockroachDB && d.Protocol != ProtocolPostgres {
		return invalidf("database %s: protocol %q: use cockroachdb or postgres", d.Name, d.Protocol)
	}
	if _, _, err := net.SplitHostPort(d.URI); err != nil {
		return invalidf("database %s: uri %q: use HOST:PORT", d.Name, d.URI)
	}
	return nil
}

// Register registers (or updates) a database an agent serves from its
// static config; the caller is the agent's host cert.
func (ds Databases) Register(ctx context.Context, c Caller, d schemas.Database) (wire.Database, error) {
	if c.Kind != CallerHost {
		return wire.Database{}, forbiddenf("only agents register databases from their config; people use tollctl db create -f")
	}
	d.AgentID = c.Name
	if err := checkDatabase(d); err != nil {
		return wire.Database{}, err
	}
	// Registering is idempotent ("serve it like this"): an agent's start
	// and a reload may register the same database at once, and the one
	// that loses the race reads the state again, once the projection has
	// applied the winner's event, rather than failing.
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = ds.register(ctx, c, d); !isCode(err, CodeConflict) {
			break
		}
		if serr := ds.s.Sync(ctx); serr != nil {
			return wire.Database{}, serr
		}
	}
	if err != nil {
		return wire.Database{}, err
	}
	return wire.Database{Database: d}, nil
}

// register is one attempt of Register against the current state.
func (ds Databases) register(ctx context.Context, c Caller, d schemas.Database) error {
	s := ds.s
	typ := schemas.TypeDatabaseRegistered
	unchanged := false
	s.View(func(st *projections.State) {
		if old, ok := st.Databases[d.Name]; ok {
			typ = schemas.TypeDatabaseUpdated
			unchanged = reflect.DeepEqual(old.Database, d)
		}
	})
	if unchanged {
		return nil
	}
	_, err := s.change(ctx, c.Actor(), eventlog.KindDatabase, d.Name, typ, func(st *projections.State) (any, error) {
		if _, ok := st.Agents[c.Name]; !ok && c.Name != Source {
			return nil, forbiddenf("agent %s is not joined", c.Name)
		}
		old, ok := st.Databases[d.Name]
		if ok && old.AgentID != c.Name {
			return nil, existsf("database %s is already served by %s", d.Name, agentOrDynamic(old.AgentID))
		}
		if ok != (typ == schemas.TypeDatabaseUpdated) {
			return nil, newErr(CodeConflict, "database %s changed concurrently; retry", d.Name)
		}
		return d, nil
	})
	return err
}

func agentOrDynamic(id string) string {
	if id == "" {
		return "a dynamic registration (tollctl db rm first)"
	}
	return "agent " + id
}

// Create registers a dynamic database (tollctl db create -f), served by
// every agent whose resource selectors match its labels.
func (ds Databases) Create(ctx context.Context, c Caller, d schemas.Database) (wire.Database, error) {
	s := ds.s
	d.AgentID = ""
	if err := checkDatabase(d); err != nil {
		return wire.Database{}, err
	}
	_, err := s.change(ctx, c.Actor(), eventlog.KindDatabase, d.Name, schemas.TypeDatabaseRegistered, func(st *projections.State) (any, error) {
		if err := authorizeIn(st, c, schemas.ResourceDatabase, schemas.VerbCreate); err != nil {
			return nil, err
		}
		if old, ok := st.Databases[d.Name]; ok {
			return nil, existsf("database %s already exists (served by %s)", d.Name, agentOrDynamic(old.AgentID))
		}
		return d, nil
	})
	if err != nil {
		return wire.Database{}, err
	}
	return wire.Database{Database: d}, nil
}

// Rm deregisters a database.
func (ds Databases) Rm(ctx context.Context, c Caller, name string) error {
	s := ds.s
	_, err := s.change(ctx, c.Actor(), eventlog.KindDatabase, name, schemas.TypeDatabaseDeregistered, func(st *projections.State) (any, error) {
		if c.Kind == CallerHost {
			if d, ok := st.Databases[name]; ok && d.AgentID != c.Name {
				return nil, forbiddenf("database %s is not served by agent %s", name, c.Name)
			}
		} else if err := authorizeIn(st, c, schemas.ResourceDatabase, schemas.VerbDelete); err != nil {
			return nil, err
		}
		if _, ok := st.Databases[name]; !ok {
			return nil, notFoundf("database %s not found (tollctl db ls)", name)
		}
		return schemas.DatabaseDeregistered{Name: name}, nil
	})
	return err
}

// List lists the databases the caller may reach (access.Reachable), with
// the db users it may use. Agents see every database; so do callers asking
// for all whose roles allow listing databases (tollctl db ls).
func (ds Databases) List(c Caller, q wire.DatabasesQuery) ([]wire.Database, error) {
	all := q.All
	s := ds.s
	var (
		out []wire.Database
		err error
	)
	now := s.cfg.Clock.Now()
	s.View(func(st *projections.State) {
		if all && c.Kind != CallerHost {
			if err = authorizeIn(st, c, schemas.ResourceDatabase, schemas.VerbList); err != nil {
				return
			}
		}
		if c.Kind == CallerHost || all {
			for _, d := range st.Databases {
				out = append(out, wire.Database{Database: d.Database})
			}
			return
		}
		// No rule needed: Reachable already shows only what the
		// caller's roles allow.
		id, ok := access.IdentityFor(st, c.Name, now)
		if !ok {
			err = unauthorizedf("user %s no longer exists; log in again", c.Name)
			return
		}
		for _, da := range access.Reachable(st, id, now) {
			out = append(out, wire.Database{Database: da.Database.Database, DBUsers: da.DBUsers, DBNames: da.DBNames})
		}
		if q.Requestable {
			for _, ra := range access.Requestable(st, id, now) {
				out = append(out, wire.Database{Database: ra.Database.Database, DBUsers: ra.DBUsers, DBNames: ra.DBNames, RequestRoles: ra.Roles})
			}
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}
