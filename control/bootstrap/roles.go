package bootstrap

import "github.com/tollgate-db/tollgate/schemas"

// Built-in role names.
const (
	RoleAccess  = "access"
	RoleEditor  = "editor"
	RoleAuditor = "auditor"
	// RoleRequester may request any role through an access request
	// (the guide's `--roles=access,requester`).
	RoleRequester = "requester"
)

// BuiltinRoles returns the roles a new cluster is created with, in this
// order: access, editor, auditor, requester. Each call returns fresh
// values.
//
//   - access: every database (db_labels `*: [*]`) as the db users and db
//     names of the user's traits ({{internal.db_users}},
//     {{internal.db_names}}); certificates for at most 12h.
//   - editor: administers users, roles, join tokens, locks and databases,
//     signs certificates (auth sign), reads and rotates CAs, reads the
//     cluster and the control events.
//   - auditor: reads and lists the audit log, the control events and the
//     access requests, reads the cluster.
//   - requester: may request any role (allow.request.roles `*`, grants of
//     at most 12h), which a reviewer approves; editor reviews requests for
//     any role (allow.review_requests.roles `*`).
func BuiltinRoles() []schemas.Role {
	crud := []string{schemas.VerbList, schemas.VerbRead, schemas.VerbCreate, schemas.VerbUpdate, schemas.VerbDelete}
	return []schemas.Role{
		{
			Name: RoleAccess,
			Spec: schemas.RoleSpec{
				Options: schemas.RoleOptions{MaxSessionTTL: "12h"},
				Allow: schemas.RoleConditions{
					DBLabels: map[string][]string{"*": {"*"}},
					DBUsers:  []string{"{{internal.db_users}}"},
					DBNames:  []string{"{{internal.db_names}}"},
				},
			},
		},
		{
			Name: RoleEditor,
			Spec: schemas.RoleSpec{
				Allow: schemas.RoleConditions{Rules: []schemas.Rule{
					{Resources: []string{schemas.ResourceUser, schemas.ResourceRole, schemas.ResourceToken,
						schemas.ResourceLock, schemas.ResourceDatabase, schemas.ResourceSSOConnector}, Verbs: crud},
					{Resources: []string{schemas.ResourceCert}, Verbs: []string{schemas.VerbSign}},
					{Resources: []string{schemas.ResourceCA}, Verbs: []string{schemas.VerbList, schemas.VerbRead, schemas.VerbRotate}},
					{Resources: []string{schemas.ResourceCluster}, Verbs: []string{schemas.VerbRead}},
					{Resources: []string{schemas.ResourceEvent}, Verbs: []string{schemas.VerbList, schemas.VerbRead}},
					{Resources: []string{schemas.ResourceAccessRequest}, Verbs: []string{schemas.VerbList, schemas.VerbRead, schemas.VerbDelete}},
				}, ReviewRequests: &schemas.ReviewConditions{Roles: []string{"*"}}},
			},
		},
		{
			Name: RoleAuditor,
			Spec: schemas.RoleSpec{
				Allow: schemas.RoleConditions{Rules: []schemas.Rule{
					{Resources: []string{schemas.ResourceAudit, schemas.ResourceEvent, schemas.ResourceAccessRequest}, Verbs: []string{schemas.VerbList, schemas.VerbRead}},
					{Resources: []string{schemas.ResourceCluster}, Verbs: []string{schemas.VerbRead}},
				}},
			},
		},
		{
			Name: RoleRequester,
			Spec: schemas.RoleSpec{Allow: schemas.RoleConditions{
				Request: &schemas.RequestConditions{Roles: []string{"*"}, MaxDuration: "12h"},
			}},
		},
	}
}
