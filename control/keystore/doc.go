// Package keystore keeps what must never enter the event log: CA private
// keys (by key id) and secret records such as password hashes (by name).
//
// Everything lives under one directory (0700): keys/<name>.pem holds a
// PKCS#8 PEM private key, secrets/<name> a secret record; every file is
// 0600 and written atomically (temp file + rename). Names are encoded so
// that any string is a safe single file name ([A-Za-z0-9_-] kept, every
// other byte as %XX).
//
// With WithSealKey the files are sealed with AES-256-GCM under a 32-byte
// key kept in a separate file (0600); the file's kind and name are bound as
// additional data, so a sealed file renamed to another name does not open.
package keystore
