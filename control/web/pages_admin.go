package web

import (
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/tollgate-db/tollgate/auditquery"
	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// liveWindow is how far back the live page looks for sessions that have
// not ended (longer than any session may last).
const liveWindow = 24 * time.Hour

// liveSession is a session started and not ended.
type liveSession struct {
	ID, User, DB, DBUser, Agent, Client string
	Since                               time.Time
}

type liveData struct {
	Sessions []liveSession
	Locks    []wire.Lock
}

func (c *Console) live(_ http.ResponseWriter, r *http.Request, s session) (string, page, error) {
	p := page{Title: "Live sessions", Nav: "live", Refresh: true}
	d := liveData{}
	p.Data = &d
	open := map[string]*liveSession{}
	q := wire.AuditSearch{Types: []string{schemas.TypeSessionStarted, schemas.TypeSessionEnded},
		From: time.Now().Add(-liveWindow), Limit: control.MaxAuditSearch}
	for {
		res, err := c.svc.Audit().Search(r.Context(), s.caller, q)
		if err != nil {
			return "live", p, err
		}
		for _, e := range res.Events {
			v, err := schemas.Decode(e.Event)
			if err != nil {
				continue
			}
			switch x := v.(type) {
			case *schemas.SessionStarted:
				open[x.SessionID] = &liveSession{ID: x.SessionID, User: x.User, DB: x.Database, DBUser: x.DBUser,
					Agent: x.AgentID, Client: x.ClientAddr, Since: e.Event.Time}
			case *schemas.SessionEnded:
				delete(open, x.SessionID)
			}
		}
		if !res.More {
			break
		}
		q.After = res.Cursor
	}
	for _, ls := range open {
		d.Sessions = append(d.Sessions, *ls)
	}
	sort.Slice(d.Sessions, func(i, j int) bool { return d.Sessions[i].Since.Before(d.Sessions[j].Since) })
	locks, err := c.svc.Locks().List(s.caller)
	if err == nil {
		d.Locks = locks
	}
	return "live", p, nil
}

// liveEvents streams server-sent events, one per session.started or
// session.ended stored from now on (the audit stream followed), so the
// live page redraws when a session comes or goes.
func (c *Console) liveEvents(w http.ResponseWriter, r *http.Request, s session) (string, page, error) {
	fl, ok := w.(http.Flusher)
	if !ok {
		return "error", page{Title: "Live"}, &control.Error{Code: control.CodeInternal, Message: "streaming is not supported here"}
	}
	// Refused before the stream starts (FollowSessions checks it too).
	if err := c.svc.Authorize(s.caller, schemas.ResourceAudit, schemas.VerbList); err != nil {
		return "error", page{Title: "Live"}, err
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": following the audit stream\n\n")
	fl.Flush()
	err := c.svc.Audit().FollowSessions(r.Context(), s.caller, func(ev eventlog.Event) error {
		if _, err := fmt.Fprintf(w, "event: session\ndata: %s\n\n", ev.Type); err != nil {
			return err
		}
		fl.Flush()
		return nil
	})
	if err != nil && r.Context().Err() == nil {
		c.log.Warn().Err(err).Msg("live events stopped")
	}
	return "", page{}, nil
}

func (c *Console) lock(w http.ResponseWriter, r *http.Request, s session) (string, page, error) {
	t := schemas.LockTarget{User: r.PostFormValue("user"), Database: r.PostFormValue("database"), Session: r.PostFormValue("session")}
	if t.User == "" && t.Database == "" && t.Session == "" {
		return "error", page{Title: "Lock"}, &control.Error{Code: control.CodeInvalid, Message: "a lock needs a session, a user or a database"}
	}
	msg := r.PostFormValue("message")
	if msg == "" {
		msg = "locked from the web console by " + s.cs.User
	}
	if _, err := c.svc.Locks().Add(r.Context(), s.caller, wire.Lock{LockCreated: schemas.LockCreated{Target: t, Message: msg}}); err != nil {
		return "error", page{Title: "Lock"}, err
	}
	http.Redirect(w, r, Prefix+"/live", http.StatusSeeOther)
	return "", page{}, nil
}

type accessData struct {
	At, User string
	Result   *auditquery.AccessResult
	From, To string
	Diff     *auditquery.AccessDiff
}

func (c *Console) accessAt(_ http.ResponseWriter, r *http.Request, s session) (string, page, error) {
	q := r.URL.Query()
	d := accessData{At: q.Get("at"), User: q.Get("user"), From: q.Get("from"), To: q.Get("to")}
	p := page{Title: "Access at a time", Nav: "access", Data: &d}
	if d.From != "" {
		from, err := parseTime(d.From)
		if err != nil {
			return "access", p, &control.Error{Code: control.CodeInvalid, Message: "from: " + err.Error()}
		}
		to := time.Now()
		if d.To != "" {
			if to, err = parseTime(d.To); err != nil {
				return "access", p, &control.Error{Code: control.CodeInvalid, Message: "to: " + err.Error()}
			}
		}
		diff, err := c.svc.Audit().AccessDiff(r.Context(), s.caller, wire.AccessDiff{From: from, To: to})
		if err != nil {
			return "access", p, err
		}
		d.Diff = &diff
	}
	if d.User == "" {
		return "access", p, nil
	}
	at := time.Now()
	if d.At != "" {
		t, err := parseTime(d.At)
		if err != nil {
			return "access", p, &control.Error{Code: control.CodeInvalid, Message: err.Error()}
		}
		at = t
	}
	res, err := c.svc.Audit().AccessAt(r.Context(), s.caller, wire.AccessAt{At: at, User: d.User})
	if err != nil {
		return "access", p, err
	}
	d.Result = &res
	return "access", p, nil
}

func (c *Console) requests(_ http.ResponseWriter, r *http.Request, s session) (string, page, error) {
	state := r.URL.Query().Get("state")
	if state == "" {
		state = schemas.RequestPending
	}
	p := page{Title: "Access requests", Nav: "requests"}
	rs, err := c.svc.Requests().List(s.caller, wire.AccessRequestsQuery{State: state})
	p.Data = map[string]any{"State": state, "Requests": rs}
	return "requests", p, err
}

func (c *Console) review(w http.ResponseWriter, r *http.Request, s session) (string, page, error) {
	v := wire.ReviewVerdict{Verdict: r.PostFormValue("verdict"), Reason: r.PostFormValue("reason")}
	if _, err := c.svc.Requests().Review(r.Context(), s.caller, r.PathValue("id"), v); err != nil {
		return "error", page{Title: "Review"}, err
	}
	http.Redirect(w, r, Prefix+"/requests", http.StatusSeeOther)
	return "", page{}, nil
}

type clusterData struct {
	Status    wire.Status
	Agents    []wire.Agent
	Databases []wire.Database
	// Export is the export subscribers' state, for callers with the
	// audit read right.
	Export *wire.ExportStatus
}

func (c *Console) cluster(_ http.ResponseWriter, r *http.Request, s session) (string, page, error) {
	p := page{Title: "Cluster", Nav: "cluster"}
	d := clusterData{}
	p.Data = &d
	st, err := c.svc.Cluster().Status(s.caller)
	if err != nil {
		return "cluster", p, err
	}
	d.Status = st
	d.Agents, _ = c.svc.Agents().List(s.caller)
	d.Databases, _ = c.svc.Databases().List(s.caller, wire.DatabasesQuery{All: true})
	if c.export != nil && c.svc.Authorize(s.caller, schemas.ResourceAudit, schemas.VerbRead) == nil {
		ex := c.export(r.Context())
		d.Export = &ex
	}
	return "cluster", p, nil
}
