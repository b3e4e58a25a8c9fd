// Package simulate replays recorded queries against a proposed role
// (`tollctl policy simulate`): each query event of the window is judged,
// as the agent would have judged it, by the rules of the roles its
// session held — the proposed one in place of the role of its name — and
// the report lists what would have been refused. It writes nothing.
//
// The session's roles are those its session.started recorded; the role
// definitions, database labels and user traits are today's (a simulation
// asks "what would this rule do to what happened", not "what did the old
// rules do"). An EXECUTE is judged by the text of the session's last
// recorded PREPARE of that name, as the agent resolves it.
package simulate
