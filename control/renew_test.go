package control

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestRenewAgentCert: a joined agent gets a new host cert for the same id
// and hosts from the key that signs host certs now (the new one in
// update_servers), recorded as cert.issued; users and unknown hosts are
// refused.
func TestRenewAgentCert(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	tok, err := f.svc.Tokens().Add(ctx, f.admin, wire.TokenAdd{Type: "db"})
	require.NoError(t, err)
	joined, err := f.svc.Agents().Join(ctx, wire.Join{Token: tok.Value, Hostname: "db1", PublicAddr: "10.0.0.7:5433", PublicKeyPEM: pubKey(t)}, "test")
	require.NoError(t, err)
	first, err := pki.ParseCertPEM([]byte(joined.CertPEM))
	require.NoError(t, err)
	agent := Caller{Kind: CallerHost, Name: joined.AgentID}

	_, err = f.svc.Agents().Renew(ctx, f.admin, wire.AgentRenew{PublicKeyPEM: pubKey(t)})
	require.Equal(t, CodeForbidden, apiCode(t, err))
	_, err = f.svc.Agents().Renew(ctx, Caller{Kind: CallerHost, Name: "stranger"}, wire.AgentRenew{PublicKeyPEM: pubKey(t)})
	require.Equal(t, CodeForbidden, apiCode(t, err))
	_, err = f.svc.Agents().Renew(ctx, agent, wire.AgentRenew{PublicKeyPEM: "nope"})
	require.Equal(t, CodeInvalid, apiCode(t, err))

	for _, action := range []string{wire.RotateStart, wire.RotateNext, wire.RotateNext} {
		_, err := f.svc.CAs().Rotate(ctx, f.admin, wire.RotateRequest{Type: schemas.CAHost, Action: action})
		require.NoError(t, err)
	}
	require.Equal(t, schemas.PhaseUpdateServers, f.svc.caPhase(schemas.CAHost))
	res, err := f.svc.Agents().Renew(ctx, agent, wire.AgentRenew{PublicKeyPEM: pubKey(t)})
	require.NoError(t, err)
	require.Len(t, res.HostCAPEM, 2)
	renewed, err := pki.ParseCertPEM([]byte(res.CertPEM))
	require.NoError(t, err)
	newCA, err := pki.ParseCertPEM([]byte(res.HostCAPEM[1]))
	require.NoError(t, err)
	require.NoError(t, renewed.CheckSignatureFrom(newCA))
	require.Error(t, first.CheckSignatureFrom(newCA))
	require.Equal(t, joined.AgentID, renewed.Subject.CommonName)
	require.Equal(t, first.DNSNames, renewed.DNSNames)
	require.Equal(t, first.IPAddresses, renewed.IPAddresses)
	id, err := f.svc.AgentOfCert(renewed)
	require.NoError(t, err)
	require.Equal(t, joined.AgentID, id)

	found := false
	require.NoError(t, f.aud.Read(ctx, eventlog.Query{}, func(r eventlog.Record) error {
		if r.Event.Type == schemas.TypeCertIssued {
			var c schemas.CertIssued
			require.NoError(t, json.Unmarshal(r.Event.Data, &c))
			found = found || (c.Serial == res.Serial && c.Kind == schemas.CertKindHost && c.For == joined.AgentID)
		}
		return nil
	}))
	require.True(t, found, "cert.issued recorded")

	// The control stream holds both host certs: agent.joined the first,
	// agent.updated the renewed one (the keys its checkpoints verify with).
	var pems []string
	require.NoError(t, f.ctl.Read(ctx, eventlog.Query{Subjects: []string{eventlog.ControlSubject(eventlog.KindAgent, joined.AgentID)}},
		func(r eventlog.Record) error {
			var a schemas.Agent
			require.NoError(t, json.Unmarshal(r.Event.Data, &a))
			pems = append(pems, a.HostCertPEM)
			return nil
		}))
	require.Equal(t, []string{joined.CertPEM, res.CertPEM}, pems)
}
