// Package natskv keeps control's CA keys and secrets in one NATS KV bucket
// (DefaultBucket, TOLLGATE_KEYS), so that several control processes on one
// NATS cluster share them: the bucket is replicated by NATS like the event
// streams, but it is no event stream, and agents are given no permission on
// it.
//
// Every value is sealed with the seal key (keystore.Sealer, AES-256-GCM,
// kind and name bound as additional data, exactly as the file store seals
// its files), so the bucket never holds a key or secret in clear; a store
// without a seal key is refused (ErrNoSealKey). Key names in the bucket
// are "keys.<name>" and "secrets.<name>" with the name in unpadded
// base64url, so any name is one valid KV key.
package natskv
