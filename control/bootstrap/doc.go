// Package bootstrap holds what a new cluster starts with: the built-in
// roles (access, editor, auditor) that control appends as role.created
// events at first start.
package bootstrap
