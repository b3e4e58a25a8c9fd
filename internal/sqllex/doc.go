// Package sqllex reads SQL text into tokens the way PostgreSQL's scanner
// delimits them: where comments, strings, quoted identifiers, dollar
// quotes and parameters begin and end, which byte runs are identifiers and
// which numbers, and the semicolons between statements. It does not parse,
// and it decodes nothing but what its callers need.
//
// It is the one lexer of the module: the relay reads statement heads with
// it (the names SQL PREPARE, DECLARE… create), and respells strings for a
// session with standard_conforming_strings off; the statement rules' cache
// writes a text's numbers out of its shape with it.
package sqllex
