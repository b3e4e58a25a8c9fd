//go:build cgo

package sqlfacts

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tollgate-db/tollgate/policy"
)

// stmtClass is the class of a statement node that starts an Op of its
// own, and false for any other node (an expression, a clause, a list).
// It covers every statement node of the PostgreSQL 17 grammar but the DML
// ones, which walk.go reads field by field (SelectStmt, InsertStmt,
// UpdateStmt, DeleteStmt, MergeStmt), and the few *Stmt nodes that are
// not statements: ReturnStmt and PLAssignStmt (PL/pgSQL), ReplicaIdentityStmt
// (a clause of ALTER TABLE), SetOperationStmt and RawStmt.
// TestEveryStatementNodeHasAClass keeps it complete.
func stmtClass(m any) (policy.Class, bool) {
	switch x := m.(type) {
	case *pg_query.CopyStmt:
		return policy.ClassCopy, true
	case *pg_query.TruncateStmt:
		return policy.ClassTruncate, true
	case *pg_query.GrantStmt, *pg_query.GrantRoleStmt, *pg_query.AlterDefaultPrivilegesStmt:
		return policy.ClassGrant, true
	case *pg_query.VariableSetStmt:
		return setClass(x), true
	case *pg_query.ConstraintsSetStmt: // SET CONSTRAINTS
		return policy.ClassSet, true
	case *pg_query.VariableShowStmt:
		return policy.ClassShow, true
	case *pg_query.TransactionStmt:
		return policy.ClassTransaction, true
	case *pg_query.PrepareStmt, *pg_query.DeallocateStmt:
		return policy.ClassPrepare, true
	case *pg_query.ExecuteStmt:
		return policy.ClassExecute, true
	case *pg_query.DeclareCursorStmt, *pg_query.FetchStmt, *pg_query.ClosePortalStmt:
		return policy.ClassCursor, true
	case *pg_query.CallStmt:
		return policy.ClassCall, true
	case *pg_query.DoStmt:
		return policy.ClassDo, true
	case *pg_query.ExplainStmt:
		return policy.ClassExplain, true
	case *pg_query.LockStmt:
		return policy.ClassLock, true
	case *pg_query.VacuumStmt, *pg_query.ClusterStmt, *pg_query.ReindexStmt, *pg_query.CheckPointStmt, *pg_query.LoadStmt:
		return policy.ClassMaintenance, true
	case *pg_query.NotifyStmt, *pg_query.ListenStmt, *pg_query.UnlistenStmt:
		return policy.ClassNotify, true
	case *pg_query.DiscardStmt:
		return policy.ClassDiscard, true
	}
	if isDDL(m) {
		return policy.ClassDDL, true
	}
	return "", false
}

// isDDL: the CREATE, ALTER, DROP, COMMENT, SECURITY LABEL, RENAME, REFRESH
// MATERIALIZED VIEW, IMPORT FOREIGN SCHEMA, DROP/REASSIGN OWNED nodes.
// ALTER SYSTEM and ALTER ROLE … SET are ALTERs, so DDL (their nested SET
// is an Op of its own too).
func isDDL(m any) bool {
	switch m.(type) {
	case *pg_query.CreateSchemaStmt, *pg_query.AlterTableStmt, *pg_query.AlterCollationStmt, *pg_query.AlterDomainStmt,
		*pg_query.CreateStmt, *pg_query.CreateTableSpaceStmt, *pg_query.DropTableSpaceStmt,
		*pg_query.AlterTableSpaceOptionsStmt, *pg_query.AlterTableMoveAllStmt,
		*pg_query.CreateExtensionStmt, *pg_query.AlterExtensionStmt, *pg_query.AlterExtensionContentsStmt,
		*pg_query.CreateFdwStmt, *pg_query.AlterFdwStmt, *pg_query.CreateForeignServerStmt, *pg_query.AlterForeignServerStmt,
		*pg_query.CreateForeignTableStmt, *pg_query.CreateUserMappingStmt, *pg_query.AlterUserMappingStmt,
		*pg_query.DropUserMappingStmt, *pg_query.ImportForeignSchemaStmt,
		*pg_query.CreatePolicyStmt, *pg_query.AlterPolicyStmt, *pg_query.CreateAmStmt,
		*pg_query.CreateTrigStmt, *pg_query.CreateEventTrigStmt, *pg_query.AlterEventTrigStmt, *pg_query.CreatePLangStmt,
		*pg_query.CreateRoleStmt, *pg_query.AlterRoleStmt, *pg_query.AlterRoleSetStmt, *pg_query.DropRoleStmt,
		*pg_query.CreateSeqStmt, *pg_query.AlterSeqStmt, *pg_query.DefineStmt, *pg_query.CreateDomainStmt,
		*pg_query.CreateOpClassStmt, *pg_query.CreateOpFamilyStmt, *pg_query.AlterOpFamilyStmt,
		*pg_query.DropStmt, *pg_query.CommentStmt, *pg_query.SecLabelStmt,
		*pg_query.IndexStmt, *pg_query.CreateStatsStmt, *pg_query.AlterStatsStmt,
		*pg_query.CreateFunctionStmt, *pg_query.AlterFunctionStmt,
		*pg_query.RenameStmt, *pg_query.AlterObjectDependsStmt, *pg_query.AlterObjectSchemaStmt, *pg_query.AlterOwnerStmt,
		*pg_query.AlterOperatorStmt, *pg_query.AlterTypeStmt, *pg_query.RuleStmt,
		*pg_query.CompositeTypeStmt, *pg_query.CreateEnumStmt, *pg_query.CreateRangeStmt, *pg_query.AlterEnumStmt,
		*pg_query.ViewStmt, *pg_query.CreatedbStmt, *pg_query.AlterDatabaseStmt, *pg_query.AlterDatabaseRefreshCollStmt,
		*pg_query.AlterDatabaseSetStmt, *pg_query.DropdbStmt, *pg_query.AlterSystemStmt,
		*pg_query.CreateTableAsStmt, *pg_query.RefreshMatViewStmt,
		*pg_query.CreateConversionStmt, *pg_query.CreateCastStmt, *pg_query.CreateTransformStmt,
		*pg_query.DropOwnedStmt, *pg_query.ReassignOwnedStmt,
		*pg_query.AlterTSDictionaryStmt, *pg_query.AlterTSConfigurationStmt,
		*pg_query.CreatePublicationStmt, *pg_query.AlterPublicationStmt,
		*pg_query.CreateSubscriptionStmt, *pg_query.AlterSubscriptionStmt, *pg_query.DropSubscriptionStmt:
		return true
	}
	return false
}

// roleSettings are the settings whose change is a change of identity:
// SET ROLE and SET SESSION AUTHORIZATION are VariableSetStmts of these
// names, as is set_config's first argument.
var roleSettings = []string{"role", "session_authorization"}

// isRoleSetting compares as the server does: setting names are
// case-insensitive even when quoted (SET "ROLE" TO x sets the role).
func isRoleSetting(name string) bool {
	for _, s := range roleSettings {
		if strings.EqualFold(name, s) {
			return true
		}
	}
	return false
}

// setClass: SET/RESET ROLE and SESSION AUTHORIZATION change who the
// session is, and so does RESET ALL (it resets both).
func setClass(s *pg_query.VariableSetStmt) policy.Class {
	if s.Kind == pg_query.VariableSetKind_VAR_RESET_ALL || isRoleSetting(s.Name) {
		return policy.ClassSetRole
	}
	return policy.ClassSet
}

// ddlPrefixes name the kinds of statement node that are DDL, for a
// top-level node stmtClass does not know (one a later grammar adds).
var ddlPrefixes = []string{"Create", "Alter", "Drop", "Comment", "SecLabel", "Rename", "Refresh", "Define", "Import", "Reassign"}

// fallbackClass classes a top-level statement node stmtClass does not
// know, by the name of its message.
func fallbackClass(m protoreflect.Message) policy.Class {
	name := string(m.Descriptor().Name())
	for _, p := range ddlPrefixes {
		if strings.HasPrefix(name, p) && strings.HasSuffix(name, "Stmt") {
			return policy.ClassDDL
		}
	}
	return policy.ClassOther
}
