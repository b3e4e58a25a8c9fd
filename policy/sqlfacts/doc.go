// Package sqlfacts reads a statement text into policy.Facts, the input
// of every query policy rule, with PostgreSQL's own parser: libpg_query
// (the PostgreSQL 17 grammar, compiled in through cgo by
// github.com/pganalyze/pg_query_go). A text is read exactly as the server
// reads it, so comments, case, quoting, dollar quoting and Unicode
// escapes hide nothing: `/* x */ DeLeTe FrOm "payments"` is a delete of
// payments and `SELECT $$DELETE FROM payments$$` is a select of a string.
//
// # Ops
//
// An Op is one operation a statement performs: its class (policy.Class)
// and the relations it touches directly. A statement has its own op
// first, then one per operation nested in it, in the order the tree
// gives them: each subquery, each data-modifying CTE, the query of a
// PREPARE, DECLARE, EXPLAIN, COPY, CREATE TABLE AS or CREATE VIEW, the
// body of a SQL-standard function (BEGIN ATOMIC … END) or a rule. The
// tree is searched through protoreflect, every field of every node, so
// no kind of node can hide one. Ops, their tables and a statement's
// functions come in the order the walk meets them, which is the text's
// but for a WITH, read before the statement it belongs to, and an
// UPDATE's or DELETE's WHERE, read before its other clauses. A relation belongs to the innermost op
// around it: in INSERT INTO a SELECT * FROM b, a is the insert's and b
// the select's. An unqualified name that is a CTE in scope is not a
// relation. The decisions that are this package's own:
//
//   - The arms of a set operation (A UNION B EXCEPT C) are one select op,
//     with every arm's relations; a subquery inside an arm is its own op.
//   - The VALUES list of an INSERT is part of the insert op, not a select
//     (a subquery inside it is a select op).
//   - SELECT … INTO t is a ddl op (t) followed by the select op.
//   - DISCARD ALL is a discard op and a set_role op, as RESET ALL is a
//     set_role op: both reset the session authorization and the role.
//   - set_config whose setting name is not a constant (set_config($1, …))
//     is a set_role op: the text does not say it is not the role.
//   - A SET nested in another statement (ALTER ROLE … SET, CREATE
//     FUNCTION … SET) is an op of its own as well.
//   - Statement nodes are classed by an explicit table covering the
//     whole PostgreSQL 17 grammar; a top-level node missing from it (a
//     later grammar's) is ddl when its name says CREATE, ALTER, DROP…,
//     else other.
//
// Ops only ever add: a statement is judged on all of them, so an extra
// op can make a rule stricter, never hide what the statement does.
//
// # Limits
//
// What the parser does not see, this package does not know:
//   - The body of a DO block or of a function in a procedural language
//     (LANGUAGE plpgsql, sql with a string body) is a string, not read;
//     DO and CALL are ops of their own so a rule can refuse them.
//   - Views, rules, triggers and functions are not expanded: a select of
//     a view touches the view, not the tables behind it.
//   - Names are not resolved: an unqualified table has no schema (the
//     server's search_path decides), and EXECUTE names the prepared
//     statement without knowing its text (the caller tracks those).
//   - The text is read with standard_conforming_strings on, the server's
//     default: with it off, a backslash in a '…' string is an escape to
//     the server and a plain character to this parser.
//   - Syntax PostgreSQL 17 does not have is unparseable: CockroachDB's
//     UPSERT, later PostgreSQL grammar, other dialects.
//   - Functions are the calls the grammar writes as calls (FuncCall):
//     not operators, casts, or the constructs that look like keywords
//     (COALESCE, GREATEST, NULLIF, CURRENT_USER, XMLELEMENT…).
//   - Texts longer than MaxText, or with a NUL byte, are not parsed.
//
// Cache keeps the facts of recent texts for all the sessions of an agent.
package sqlfacts
