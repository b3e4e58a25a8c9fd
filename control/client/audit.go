package client

import (
	"context"

	"github.com/tollgate-db/tollgate/auditquery"
	"github.com/tollgate-db/tollgate/control/wire"
)

// AuditSearch asks for one page of audit events (auditor).
func (c *Client) AuditSearch(ctx context.Context, q wire.AuditSearch) (wire.AuditResults, error) {
	var out wire.AuditResults
	return out, c.do(ctx, "POST", "/v1/audit/search", q, &out)
}

// AuditSession asks for one session's transcript (auditor).
func (c *Client) AuditSession(ctx context.Context, id string) (auditquery.Transcript, error) {
	var out auditquery.Transcript
	return out, c.do(ctx, "GET", "/v1/audit/sessions/"+esc(id), nil, &out)
}

// AccessAt asks what a user could reach at a moment (auditor).
func (c *Client) AccessAt(ctx context.Context, q wire.AccessAt) (auditquery.AccessResult, error) {
	var out auditquery.AccessResult
	return out, c.do(ctx, "POST", "/v1/audit/access", q, &out)
}

// AuditVerify asks control to verify the audit stream (auditor).
func (c *Client) AuditVerify(ctx context.Context, q wire.AuditVerify) (auditquery.VerifyReport, error) {
	var out auditquery.VerifyReport
	return out, c.do(ctx, "POST", "/v1/audit/verify", q, &out)
}

// AuditAnchors asks control what the control stream says about each audit
// chain, to verify a copy of the audit stream (auditor).
func (c *Client) AuditAnchors(ctx context.Context) (auditquery.Anchors, error) {
	var out auditquery.Anchors
	return out, c.do(ctx, "GET", "/v1/audit/anchors", nil, &out)
}
