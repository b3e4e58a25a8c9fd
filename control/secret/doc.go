// Package secret hashes and checks passwords (argon2id, PHC string format)
// and makes the random bearer secrets Tollgate hands out: join tokens and
// signup invites (128 random bits, hex), of which only the hex SHA-256 is
// ever stored or put in an event.
package secret
