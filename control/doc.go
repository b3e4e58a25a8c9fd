// Package control is Tollgate's control plane service: it bootstraps a
// cluster (cluster name, CAs, built-in roles, a local admin identity), folds
// TOLLGATE_CONTROL into a projections.State, and turns API commands into
// events: validate against the projection, append with the entity's
// last-subject-sequence expectation, wait until its own projection applied
// the event (read your writes), answer from the state.
//
// The HTTPS API lives in control/api, its client in control/client.
package control
