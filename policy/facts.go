package policy

import "strconv"

// Facts are what a statement text does, as the SQL parser read it: the
// input of every rule. package sqlfacts produces them (with PostgreSQL's
// own parser); Judge matches them against rules.
type Facts struct {
	// Statements are the text's statements, in order (a simple Query may
	// hold several).
	Statements []Statement
	// Unparseable, when set, says why the parser could not read the text
	// (then Statements is empty).
	Unparseable string
}

// Statement is one statement of a text.
type Statement struct {
	// Index is the 1-based position of the statement in the text.
	Index int
	// Ops are the operations the statement performs: its own (the top
	// level) and every nested one (a data-modifying CTE, a subquery, the
	// query of a PREPARE, DECLARE, EXPLAIN, COPY or CREATE TABLE AS).
	Ops []Op
	// Functions are the functions the statement calls anywhere, as
	// written, qualified when the text qualifies them ("pg_catalog.set_config"),
	// lower case unless quoted.
	Functions []string
	// Executes are the names of the prepared statements an EXECUTE runs.
	Executes []string
	// Prepares are the names of the statements a PREPARE prepares.
	Prepares []string
}

// TooLong are the facts of a text too long to be parsed (the audit keeps
// it cut): judged as unparseable.
var TooLong = Facts{Unparseable: "statement text longer than 1 MiB is not parsed"}

// FunctionCallFacts are the facts of a FunctionCall message: a call of a
// function the client names by oid only.
func FunctionCallFacts(oid uint32) *Facts {
	return &Facts{Statements: []Statement{{Index: 1, Ops: []Op{{Class: ClassCall}},
		Functions: []string{"oid:" + strconv.FormatUint(uint64(oid), 10)}}}}
}

// Op is one operation: a statement class and the relations it touches
// directly (its FROM, target, USING…; a nested operation's relations are
// that operation's).
type Op struct {
	Class  Class
	Tables []Table
	// NoWhere: an UPDATE or DELETE with no WHERE clause, or with one that
	// reads no column (WHERE true, WHERE 1 = 1).
	NoWhere bool
}

// Table is a relation as the statement names it: Schema is empty when
// unqualified (the server resolves it by search_path, which the agent
// cannot know). Names are as the parser gives them: folded to lower case
// unless quoted.
type Table struct {
	Schema string
	Name   string
}

// String is schema.name, or name when unqualified.
func (t Table) String() string {
	if t.Schema == "" {
		return t.Name
	}
	return t.Schema + "." + t.Name
}
