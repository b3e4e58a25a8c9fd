// Package policy judges statements against a role's statement rules
// (query policies: allow.db_statements and deny.db_statements).
//
// A text is read once by PostgreSQL's own parser (package sqlfacts) into
// Facts: per statement, its operations (a class and the relations each
// touches), the functions it calls and the prepared statements it
// executes. Rules match Facts, never bytes, so comments, case, quoting,
// CTEs and wrappers (PREPARE, EXPLAIN, DECLARE, COPY (query)) hide
// nothing the parser sees.
//
// The rules of one session are a Set (NewSet): the deny rules of every
// role the identity holds, and the allow rules of the roles that admit the
// session (their db_labels, db_users and db_names match). Judge decides:
//
//  1. a text the parser cannot read is refused (unparseable), unless every
//     role with statement rules says unparseable: allow — then it runs,
//     flagged;
//  2. deny rules, in role-name then rule order: the first deny or
//     require_approval match refuses (require_approval unless the identity
//     holds one of the rule's request_roles, as an access request grants
//     them); a log_only match flags;
//  3. allow rules: when every admitting role has allow.db_statements, each
//     operation must be covered by one of them (its class listed, all its
//     tables matched); prepare, explain and a resolved execute are covered
//     by what they wrap. A role without allow.db_statements admits every
//     statement.
//
// A role in dry_run mode takes no part in enforcement; a second judgment
// with it enforced says what it would have refused (query.would_deny).
//
// Judging is pure: no clock, no I/O; the same Facts and rules give the
// same Verdict.
package policy
