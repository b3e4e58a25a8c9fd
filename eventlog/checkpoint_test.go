package eventlog_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
)

// TestCheckpointMessage pins the signed bytes: a contract with external
// verifiers (schemas/v1/audit/audit.checkpoint.schema.json says the same).
func TestCheckpointMessage(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 3, 4, 5, 600000000, time.FixedZone("x", 3600))
	got := eventlog.CheckpointMessage("agent-<1>", 42, "ab", at)
	require.Equal(t, "tollgate-checkpoint-v1\n"+`{"source":"agent-<1>","seq":42,"hash":"ab","time":"2026-01-02T02:04:05.6Z"}`, string(got))
}

func TestCheckpointSignatures(t *testing.T) {
	t.Parallel()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	msg := eventlog.CheckpointMessage("agent-1", 7, "00ff", time.Unix(1, 0))
	other := eventlog.CheckpointMessage("agent-1", 7, "00fe", time.Unix(1, 0))
	for _, tc := range []struct {
		key crypto.Signer
		alg string
	}{{ec, eventlog.SigECDSA}, {rk, eventlog.SigRSA}, {ed, eventlog.SigEd25519}} {
		alg, sig, err := eventlog.SignCheckpoint(tc.key, msg)
		require.NoError(t, err)
		require.Equal(t, tc.alg, alg)
		require.NoError(t, eventlog.VerifyCheckpoint(tc.key.Public(), alg, msg, sig), alg)
		require.ErrorIs(t, eventlog.VerifyCheckpoint(tc.key.Public(), alg, other, sig), eventlog.ErrBadSignature, "another head")
		bad := append([]byte{}, sig...)
		bad[len(bad)/2] ^= 1
		require.ErrorIs(t, eventlog.VerifyCheckpoint(tc.key.Public(), alg, msg, bad), eventlog.ErrBadSignature, "a flipped bit")
		require.ErrorIs(t, eventlog.VerifyCheckpoint(tc.key.Public(), "none", msg, sig), eventlog.ErrBadSignature, "another alg")
	}
	_, sig, err := eventlog.SignCheckpoint(ec, msg)
	require.NoError(t, err)
	ec2, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	require.ErrorIs(t, eventlog.VerifyCheckpoint(ec2.Public(), eventlog.SigECDSA, msg, sig), eventlog.ErrBadSignature, "another key")
}
