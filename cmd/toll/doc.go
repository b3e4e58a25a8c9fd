// Command toll is the Tollgate user CLI: sign up, log in, reach databases.
package main
