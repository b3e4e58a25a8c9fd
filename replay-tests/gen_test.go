package replaytests

import (
	"fmt"
	"math/rand"
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// generator makes valid control event sequences with a realistic mix:
// mostly user and token churn, agents joining, databases coming and going,
// some role edits, locks and CA rotations. It tracks names in slices (not
// maps) so that a seed always gives the same log.
type generator struct {
	r   *rand.Rand
	rec *recorder

	users, roles, dbs, locks, agents []string
	tokens                           []genToken
	caPhase                          map[string]string
	caGen                            map[string]int
	n                                int
}

type genToken struct {
	hash     string
	reusable bool
	used     bool
}

func newGenerator(seed int64) *generator {
	g := &generator{r: rand.New(rand.NewSource(seed)), rec: newRecorder(seed),
		caPhase: map[string]string{}, caGen: map[string]int{}}
	g.rec.bootstrapEvents()
	g.roles = []string{"access", "editor", "auditor"}
	g.users = []string{"admin"}
	for _, t := range []string{schemas.CAUser, schemas.CAHost, schemas.CADB, schemas.CADBClient} {
		g.caPhase[t] = schemas.PhaseStandby
		g.caGen[t] = 1
	}
	return g
}

func (g *generator) pick(list []string) (string, int) {
	i := g.r.Intn(len(list))
	return list[i], i
}

func remove[T any](list []T, i int) []T {
	list[i] = list[len(list)-1]
	return list[:len(list)-1]
}

func (g *generator) name(prefix string) string {
	g.n++
	return fmt.Sprintf("%s-%d", prefix, g.n)
}

func (g *generator) traits() map[string][]string {
	return map[string][]string{"db_users": {g.name("dbu"), "reader"}, "db_names": {g.name("dbn")}}
}

func (g *generator) userRoles() []string {
	out := []string{"access"}
	if len(g.roles) > 3 {
		r, _ := g.pick(g.roles[3:])
		out = append(out, r)
	}
	return out
}

// step appends one valid event.
func (g *generator) step() {
	r := g.rec
	switch x := g.r.Intn(100); {
	case x < 12 || len(g.users) < 2: // user.created
		u := g.name("user")
		r.add(schemas.TypeUserCreated, eventlog.KindUser, u, "admin", schemas.UserCreated{
			User: schemas.User{Name: u, Roles: g.userRoles(), Traits: g.traits()}, InviteHash: hash(u), InviteExpires: r.now.Add(time.Hour)})
		g.users = append(g.users, u)
	case x < 22: // user.updated
		u, _ := g.pick(g.users)
		r.add(schemas.TypeUserUpdated, eventlog.KindUser, u, "admin", schemas.User{Name: u, Roles: g.userRoles(), Traits: g.traits()})
	case x < 30:
		u, _ := g.pick(g.users)
		r.add(schemas.TypeUserPasswordSet, eventlog.KindUser, u, u, schemas.UserPasswordSet{Name: u, Via: "invite", InviteHash: hash(u)})
	case x < 34:
		u, _ := g.pick(g.users)
		r.add(schemas.TypeUserInviteCreated, eventlog.KindUser, u, "admin", schemas.UserInviteCreated{Name: u, InviteHash: hash(u + "r"), InviteExpires: r.now.Add(time.Hour)})
	case x < 42: // user.deleted, keep admin
		if len(g.users) < 3 {
			return
		}
		u, i := g.pick(g.users[1:])
		r.add(schemas.TypeUserDeleted, eventlog.KindUser, u, "admin", schemas.UserDeleted{Name: u})
		g.users = remove(g.users, i+1)
	case x < 54: // token.created
		h := hash(g.name("tok"))
		reusable := g.r.Intn(5) == 0
		r.add(schemas.TypeTokenCreated, eventlog.KindToken, h, "admin", schemas.TokenCreated{Hash: h, Type: "db", Expires: r.now.Add(30 * time.Minute), Reusable: reusable})
		g.tokens = append(g.tokens, genToken{hash: h, reusable: reusable})
	case x < 66: // join: token.consumed + agent.joined
		if len(g.tokens) == 0 {
			return
		}
		i := g.r.Intn(len(g.tokens))
		t := g.tokens[i]
		if t.used && !t.reusable {
			r.add(schemas.TypeTokenDeleted, eventlog.KindToken, t.hash, "admin", schemas.TokenDeleted{Hash: t.hash})
			g.tokens = remove(g.tokens, i)
			return
		}
		a := g.name("agent")
		r.add(schemas.TypeTokenConsumed, eventlog.KindToken, t.hash, a, schemas.TokenConsumed{Hash: t.hash, AgentID: a})
		r.add(schemas.TypeAgentJoined, eventlog.KindAgent, a, a, schemas.AgentJoined{Agent: schemas.Agent{ID: a, Hostname: a + ".internal"}, TokenHash: t.hash, CertSerial: "01"})
		g.tokens[i].used = true
		g.agents = append(g.agents, a)
	case x < 70:
		if len(g.tokens) == 0 {
			return
		}
		i := g.r.Intn(len(g.tokens))
		r.add(schemas.TypeTokenDeleted, eventlog.KindToken, g.tokens[i].hash, "admin", schemas.TokenDeleted{Hash: g.tokens[i].hash})
		g.tokens = remove(g.tokens, i)
	case x < 72:
		if len(g.agents) == 0 {
			return
		}
		a, _ := g.pick(g.agents)
		r.add(schemas.TypeAgentUpdated, eventlog.KindAgent, a, a, schemas.Agent{ID: a, Hostname: a + ".internal", PublicAddr: a + ":7432"})
	case x < 78: // database.registered
		d := g.name("db")
		proto := schemas.ProtocolPostgres
		if g.r.Intn(2) == 0 {
			proto = schemas.ProtocolCockroachDB
		}
		r.add(schemas.TypeDatabaseRegistered, eventlog.KindDatabase, d, "admin", schemas.Database{Name: d, Protocol: proto, URI: d + ":5432",
			Labels: map[string]string{"env": []string{"dev", "staging", "prod"}[g.r.Intn(3)]}})
		g.dbs = append(g.dbs, d)
	case x < 81:
		if len(g.dbs) == 0 {
			return
		}
		d, _ := g.pick(g.dbs)
		r.add(schemas.TypeDatabaseUpdated, eventlog.KindDatabase, d, "admin", schemas.Database{Name: d, Protocol: schemas.ProtocolPostgres, URI: d + ":5433",
			Labels: map[string]string{"env": "dev", "rev": g.name("r")}})
	case x < 84:
		if len(g.dbs) == 0 {
			return
		}
		d, i := g.pick(g.dbs)
		r.add(schemas.TypeDatabaseDeregistered, eventlog.KindDatabase, d, "admin", schemas.DatabaseDeregistered{Name: d})
		g.dbs = remove(g.dbs, i)
	case x < 87: // role.created
		n := g.name("role")
		role := devRole
		role.Name = n
		r.add(schemas.TypeRoleCreated, eventlog.KindRole, n, "admin", role)
		g.roles = append(g.roles, n)
	case x < 90:
		if len(g.roles) <= 3 {
			return
		}
		n, _ := g.pick(g.roles[3:])
		role := devRole
		role.Name = n
		role.Spec.Options.MaxSessionTTL = fmt.Sprintf("%dh", 1+g.r.Intn(12))
		r.add(schemas.TypeRoleUpdated, eventlog.KindRole, n, "admin", role)
	case x < 91:
		if len(g.roles) <= 3 {
			return
		}
		n, i := g.pick(g.roles[3:])
		r.add(schemas.TypeRoleDeleted, eventlog.KindRole, n, "admin", schemas.RoleDeleted{Name: n})
		g.roles = remove(g.roles, i+3)
	case x < 95: // lock.created
		id := g.name("lock")
		u, _ := g.pick(g.users)
		lc := schemas.LockCreated{ID: id, Target: schemas.LockTarget{User: u}, Message: "locked by generator"}
		if g.r.Intn(2) == 0 {
			lc.Expires = r.now.Add(time.Duration(1+g.r.Intn(120)) * time.Minute)
		}
		r.add(schemas.TypeLockCreated, eventlog.KindLock, id, "admin", lc)
		g.locks = append(g.locks, id)
	case x < 98:
		if len(g.locks) == 0 {
			return
		}
		id, i := g.pick(g.locks)
		r.add(schemas.TypeLockDeleted, eventlog.KindLock, id, "admin", schemas.LockDeleted{ID: id})
		g.locks = remove(g.locks, i)
	default: // one CA rotation step
		cas := []string{schemas.CAUser, schemas.CAHost, schemas.CADB, schemas.CADBClient}
		t := cas[g.r.Intn(len(cas))]
		switch g.caPhase[t] {
		case schemas.PhaseStandby:
			g.caGen[t]++
			cert := certPEM(schemas.CAUser + "-" + fmt.Sprint(1+g.caGen[t]%2))
			r.add(schemas.TypeCARotationStarted, eventlog.KindCA, t, "admin", schemas.CARotationStarted{CAType: t, KeyID: fmt.Sprintf("%s-%d", t, g.caGen[t]), KeyAlg: "ECDSA-P256", CertPEM: cert})
			g.caPhase[t] = schemas.PhaseInit
		case schemas.PhaseInit:
			r.add(schemas.TypeCARotationPhase, eventlog.KindCA, t, "admin", schemas.CARotationPhaseChanged{CAType: t, Phase: schemas.PhaseUpdateClients})
			g.caPhase[t] = schemas.PhaseUpdateClients
		case schemas.PhaseUpdateClients:
			if g.r.Intn(4) == 0 {
				r.add(schemas.TypeCARotationRolledBack, eventlog.KindCA, t, "admin", schemas.CARotationRolledBack{CAType: t})
				g.caPhase[t] = schemas.PhaseStandby
				return
			}
			r.add(schemas.TypeCARotationPhase, eventlog.KindCA, t, "admin", schemas.CARotationPhaseChanged{CAType: t, Phase: schemas.PhaseUpdateServers})
			g.caPhase[t] = schemas.PhaseUpdateServers
		case schemas.PhaseUpdateServers:
			r.add(schemas.TypeCARotationCompleted, eventlog.KindCA, t, "admin", schemas.CARotationCompleted{CAType: t})
			g.caPhase[t] = schemas.PhaseStandby
		}
	}
}

// events generates at least n events (bootstrap included).
func (g *generator) events(n int) []eventlog.Event {
	for len(g.rec.evs) < n {
		g.step()
	}
	return g.rec.evs
}
