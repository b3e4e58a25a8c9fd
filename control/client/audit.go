package client

import (
	"context"

	"github.com/tollgate-db/tollgate/auditquery"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/policy"
)

// AuditSearch asks for one page of audit events (auditor).
func (c *Client) AuditSearch(ctx context.Context, q wire.AuditSearch) (wire.AuditResults, error) {
	return call(ctx, c, wire.PostAuditSearch, q)
}

// AuditSession asks for one session's transcript (auditor).
func (c *Client) AuditSession(ctx context.Context, id string) (auditquery.Transcript, error) {
	return call(ctx, c, wire.GetAuditSession, id)
}

// AccessAt asks what a user could reach at a moment (auditor).
func (c *Client) AccessAt(ctx context.Context, q wire.AccessAt) (auditquery.AccessResult, error) {
	return call(ctx, c, wire.PostAuditAccess, q)
}

// AuditVerify asks control to verify the audit stream (auditor).
func (c *Client) AuditVerify(ctx context.Context, q wire.AuditVerify) (auditquery.VerifyReport, error) {
	return call(ctx, c, wire.PostAuditVerify, q)
}

// AuditAnchors asks control what the control stream says about each audit
// chain, to verify a copy of the audit stream (auditor).
func (c *Client) AuditAnchors(ctx context.Context) (auditquery.Anchors, error) {
	return call(ctx, c, wire.GetAuditAnchors, wire.None{})
}

// AccessDiff says what changed in who could reach what between two times.
func (c *Client) AccessDiff(ctx context.Context, q wire.AccessDiff) (auditquery.AccessDiff, error) {
	return call(ctx, c, wire.PostAccessDiff, q)
}

// PolicySimulate judges recorded queries by the rules with a proposed role
// in place (tollctl policy simulate).
func (c *Client) PolicySimulate(ctx context.Context, q wire.PolicySimulate) (policy.Report, error) {
	return call(ctx, c, wire.PostPolicySimulate, q)
}
