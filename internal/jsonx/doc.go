// Package jsonx holds the allocation-free JSON building blocks the audit hot
// path shares (the relay's event data encoders and the publisher's envelope
// encoder). Their output is byte-identical to encoding/json's.
package jsonx
