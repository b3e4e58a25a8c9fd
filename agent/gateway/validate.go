package gateway

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/tollgate-db/tollgate/agent/relay"
	"github.com/tollgate-db/tollgate/agent/upstream"
	"github.com/tollgate-db/tollgate/schemas"
)

// ErrInvalidOptions marks Options that cannot work. Validate's errors wrap
// it and name the field.
var ErrInvalidOptions = errors.New("invalid gateway options")

// problems collects what is wrong with options, one error per field.
type problems []error

func (p *problems) addf(field, format string, args ...any) {
	*p = append(*p, fmt.Errorf("%w: %s: %s", ErrInvalidOptions, field, fmt.Sprintf(format, args...)))
}

// duration: 0 is the default (or none), negative is an error.
func (p *problems) duration(field string, d time.Duration) {
	if d < 0 {
		p.addf(field, "%s is negative: use 0 (the default) or a positive duration", d)
	}
}

func (p *problems) count(field string, n int64) {
	if n < 0 {
		p.addf(field, "%d is negative: use 0 (the default) or a positive number", n)
	}
}

// addr: empty is the default; else HOST:PORT (the host may be empty).
func (p *problems) addr(field, v string, requireHost bool) {
	if v == "" {
		return
	}
	host, _, err := net.SplitHostPort(v)
	switch {
	case err != nil:
		p.addf(field, "%q: use HOST:PORT", v)
	case requireHost && host == "":
		p.addf(field, "%q: the host is missing; use HOST:PORT", v)
	}
}

// Validate reports every field of o that cannot work, each as an error
// wrapping ErrInvalidOptions; nil when all can. Zero values are defaults.
func (o Options) Validate() error {
	var p problems
	if o.ListenAddr != NoListener {
		p.addr("ListenAddr", o.ListenAddr, false)
	}
	if o.MetricsAddr != NoListener {
		p.addr("MetricsAddr", o.MetricsAddr, false)
	}
	p.duration("HandshakeTimeout", o.HandshakeTimeout)
	p.duration("CheckpointInterval", o.CheckpointInterval)
	p.duration("Grace", o.Grace)
	p.duration("IdentityCheck", o.IdentityCheck)
	p.count("MaxConnections", int64(o.MaxConnections))
	p.count("SpoolMaxBytes", o.SpoolMaxBytes)
	p.count("MessageBudget", o.MessageBudget)
	p.duration("Floods.Window", o.Floods.Window)
	p.count("Floods.Burst", int64(o.Floods.Burst))
	p.count("Floods.MaxSources", int64(o.Floods.MaxSources))
	p = append(p, o.Reloadable.Validate())
	return errors.Join(p...)
}

// Validate reports every field of r that cannot work (see
// Options.Validate).
func (r Reloadable) Validate() error {
	var p problems
	if r.AuditMode != relay.Strict && r.AuditMode != relay.Async {
		p.addf("AuditMode", "%d: use relay.Strict or relay.Async", r.AuditMode)
	}
	p.count("MaxMessageSize", int64(r.MaxMessageSize))
	p.duration("IdleTimeout", r.IdleTimeout)
	p.addr("PublicAddr", r.PublicAddr, true)
	seen := map[string]int{}
	for i, d := range r.Databases {
		field := fmt.Sprintf("Databases[%d]", i)
		if prev, dup := seen[d.Name]; dup {
			p.addf(field+".Name", "%q is already the name of Databases[%d]", d.Name, prev)
		}
		seen[d.Name] = i
		d.validate(&p, field)
	}
	for i, s := range r.Resources {
		field := fmt.Sprintf("Resources[%d]", i)
		if len(s) == 0 {
			p.addf(field, "no labels: it would match nothing")
		}
		for k, v := range s {
			if len(v) == 0 {
				p.addf(field+"["+k+"]", `no values: list at least one ("*" for any)`)
			}
		}
	}
	return errors.Join(p...)
}

func (d Database) validate(p *problems, field string) {
	if d.Name == "" {
		p.addf(field+".Name", "required: the name clients use")
	}
	if d.Protocol != schemas.ProtocolPostgres && d.Protocol != schemas.ProtocolCockroachDB {
		p.addf(field+".Protocol", "%q: use %s or %s", d.Protocol, schemas.ProtocolPostgres, schemas.ProtocolCockroachDB)
	}
	if d.URI == "" {
		p.addf(field+".URI", "required: the database's HOST:PORT")
	} else {
		p.addr(field+".URI", d.URI, true)
	}
	if d.TLSMode != "" && d.TLSMode != upstream.VerifyFull && d.TLSMode != upstream.VerifyCA {
		p.addf(field+".TLSMode", "%q: use %s or %s", d.TLSMode, upstream.VerifyFull, upstream.VerifyCA)
	}
}
