package jetstream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrStreamMismatch is returned when a stream exists with settings that
// differ from the config's in a way Provision does not change in place
// (replicas, subjects, storage, retention) or, when binding, that the log
// depends on (deny delete/purge too).
var ErrStreamMismatch = errors.New("stream exists with other settings")

// Provision creates both streams, or updates their settings in place
// (keeping their data) when they exist. It is idempotent.
//
// An existing stream whose replicas, subjects, storage or retention differ
// from cfg's is not touched: Provision fails with ErrStreamMismatch naming
// each difference of both streams and what to do, before it changes
// anything. A stream created before DenyDelete and DenyPurge were set gets
// them by the update: JetStream allows turning them on (never off). When
// the server refuses the update (an account without the right to edit
// streams, a stream with settings JetStream cannot change in place),
// Provision fails naming the stream and the server's reason and changes
// nothing; the stream's data is untouched. After the update the flags are
// read back, so a server that ignores them is reported too.
func Provision(ctx context.Context, js jetstream.JetStream, cfg Config) error {
	control, audit := cfg.StreamConfigs()
	wants := []jetstream.StreamConfig{control, audit}
	var errs []error
	for i, want := range wants {
		have, err := existing(ctx, js, want.Name)
		if err != nil {
			return err
		}
		if have != nil {
			errs = append(errs, mismatch(*have, want, checkReplicas|checkSettings))
			// The sources of leaf agents (AddLeafSource) stay.
			wants[i].Sources = have.Sources
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, sc := range wants {
		st, err := js.CreateOrUpdateStream(ctx, sc)
		if err != nil {
			return fmt.Errorf("provision stream %s (an existing stream is updated in place, deny_delete and deny_purge included; "+
				"an operator with the right to edit streams can set them with `nats stream edit %s --deny-delete --deny-purge`): %w",
				sc.Name, sc.Name, mapErr(err))
		}
		got := st.CachedInfo().Config
		if !got.DenyDelete || !got.DenyPurge {
			return fmt.Errorf("provision stream %s: the server kept deny_delete=%t deny_purge=%t (a JetStream too old for them?)",
				sc.Name, got.DenyDelete, got.DenyPurge)
		}
	}
	return nil
}

// existing returns the configuration of stream name, nil when there is
// none.
func existing(ctx context.Context, js jetstream.JetStream, name string) (*jetstream.StreamConfig, error) {
	st, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("stream %s: look it up: %w", name, mapErr(err))
	}
	c := st.CachedInfo().Config
	return &c, nil
}

// What mismatch compares.
const (
	checkReplicas = 1 << iota // replicas
	checkSettings             // subjects, storage, retention
	checkDeny                 // deny delete and deny purge are on
)

// mismatch returns ErrStreamMismatch naming each setting of have that
// differs from want (among those in what), and what to do; nil when none.
func mismatch(have, want jetstream.StreamConfig, what int) error {
	var diffs, fixes []string
	if what&checkReplicas != 0 && max(have.Replicas, 1) != want.Replicas {
		diffs = append(diffs, fmt.Sprintf("replicas %d, this config asks %d", max(have.Replicas, 1), want.Replicas))
		fixes = append(fixes, fmt.Sprintf("set nats.replicas to %d, or scale the stream with `nats stream edit %s --replicas %d`",
			max(have.Replicas, 1), want.Name, want.Replicas))
	}
	if what&checkSettings != 0 {
		if d := settingDiffs(have, want); len(d) > 0 {
			diffs = append(diffs, d...)
			fixes = append(fixes, "JetStream cannot change these in place: if the stream is not Tollgate's, give Tollgate "+
				"a NATS account of its own (or other stream names); if it is, back it up (`nats stream backup`) and "+
				"recreate it with Tollgate's settings")
		}
	}
	if what&checkDeny != 0 && (!have.DenyDelete || !have.DenyPurge) {
		diffs = append(diffs, fmt.Sprintf("deny_delete=%t deny_purge=%t, this config asks both on", have.DenyDelete, have.DenyPurge))
		fixes = append(fixes, "start control on this log once (it turns them on), or run "+
			fmt.Sprintf("`nats stream edit %s --deny-delete --deny-purge`", want.Name))
	}
	if len(diffs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: stream %s exists with %s: %s", ErrStreamMismatch, want.Name,
		strings.Join(diffs, "; "), strings.Join(fixes, "; "))
}

// settingDiffs names the subjects, storage and retention of have that
// differ from want's.
func settingDiffs(have, want jetstream.StreamConfig) []string {
	var diffs []string
	if !sameSet(have.Subjects, want.Subjects) {
		diffs = append(diffs, fmt.Sprintf("subjects %q, this config asks %q", have.Subjects, want.Subjects))
	}
	if have.Storage != want.Storage {
		diffs = append(diffs, fmt.Sprintf("storage %s, this config asks %s",
			strings.ToLower(have.Storage.String()), strings.ToLower(want.Storage.String())))
	}
	if have.Retention != want.Retention {
		diffs = append(diffs, fmt.Sprintf("retention %s, this config asks %s",
			strings.ToLower(have.Retention.String()), strings.ToLower(want.Retention.String())))
	}
	return diffs
}

// checkBound is what binding (Config.Bind: a client that may not edit the
// streams) checks of the existing streams: subjects, storage, retention,
// the deny flags, and replicas when the config asks a number.
func checkBound(ctx context.Context, js jetstream.JetStream, cfg Config, replicasAsked bool) error {
	control, audit := cfg.StreamConfigs()
	what := checkSettings | checkDeny
	if replicasAsked {
		what |= checkReplicas
	}
	var errs []error
	for _, want := range []jetstream.StreamConfig{control, audit} {
		have, err := existing(ctx, js, want.Name)
		if err != nil {
			return err
		}
		if have != nil { // a missing stream is NewStream's to report
			errs = append(errs, mismatch(*have, want, what))
		}
	}
	return errors.Join(errs...)
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
