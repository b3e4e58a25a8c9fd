package subscriber

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// bookmarkName is the consumer that holds a sink's position while its
// durable consumer is recreated (see openConsumer). It does not start
// with "export-", so no sink's consumer can have its name.
func bookmarkName(sink string) string { return "tollgate-migrate-" + ConsumerName(sink) }

// openConsumer creates or updates the loop's durable consumer as cc
// describes, ack policy all, and notes the delivery it expects next.
//
// An ack acknowledges every message delivered before it, so the consumer
// must deliver to this loop alone, in order, from its ack floor. Two
// consumers are recreated to start just after their ack floor: one that
// still holds messages delivered and not acked (a process that stopped
// mid-batch), which would otherwise deliver them after newer ones, whose
// ack would cover them; and one of another ack policy (an older release
// acked each message explicitly; a policy cannot change in place). See
// reposition.
//
// With restart set, an existing consumer is recreated in any case (a gap
// in its deliveries).
func (l *loop) openConsumer(ctx context.Context, cc jetstream.ConsumerConfig, restart bool) error {
	js, stream := l.s.js, l.stream
	cur, err := js.Consumer(ctx, stream, cc.Durable)
	switch {
	case errors.Is(err, jetstream.ErrConsumerNotFound):
		if err := l.resumeFromBookmark(ctx, &cc); err != nil {
			return err
		}
	case err != nil:
		return err
	case restart || cur.CachedInfo().Config.AckPolicy != jetstream.AckAllPolicy || cur.CachedInfo().NumAckPending > 0:
		if err := l.reposition(ctx, cur, &cc); err != nil {
			return err
		}
	default:
		// Where it starts is fixed at creation; the rest may change.
		old := cur.CachedInfo().Config
		cc.DeliverPolicy, cc.OptStartSeq, cc.OptStartTime = old.DeliverPolicy, old.OptStartSeq, old.OptStartTime
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, stream, cc)
	if err != nil {
		return err
	}
	if err := js.DeleteConsumer(ctx, stream, bookmarkName(l.s.cfg.Name)); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		l.s.log.Warn().Err(err).Str("stream", stream).Msg("delete export position bookmark")
	}
	l.mu.Lock()
	l.cons, l.cc = cons, cc
	l.mu.Unlock()
	l.nextDelivery = cons.CachedInfo().Delivered.Consumer + 1
	return nil
}

// reposition moves the position of cur (just after its ack floor) to a
// bookmark, deletes cur and sets cc to start there. What cur delivered
// past its floor is exported again, as after a crash (at least once,
// de-duplicated downstream by id); nothing is skipped. The bookmark keeps
// the position meanwhile, so a crash at any step resumes the move rather
// than exporting the stream from its start:
//
//	bookmark at floor+1 → cur deleted → consumer created at the bookmark → bookmark deleted
func (l *loop) reposition(ctx context.Context, cur jetstream.Consumer, cc *jetstream.ConsumerConfig) error {
	js, stream := l.s.js, l.stream
	info, err := cur.Info(ctx)
	if err != nil {
		return fmt.Errorf("read consumer %s: %w", cc.Durable, err)
	}
	from := info.AckFloor.Stream + 1
	bm := jetstream.ConsumerConfig{
		Durable:        bookmarkName(l.s.cfg.Name),
		Description:    "position of tollgate export sink " + l.s.cfg.Name + " while its consumer is recreated",
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    from,
		AckPolicy:      jetstream.AckNonePolicy,
		FilterSubject:  cc.FilterSubject,
		FilterSubjects: cc.FilterSubjects,
	}
	// A bookmark left by an earlier attempt is older than cur's floor.
	if err := js.DeleteConsumer(ctx, stream, bm.Durable); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("delete consumer %s: %w", bm.Durable, err)
	}
	if _, err := js.CreateConsumer(ctx, stream, bm); err != nil {
		return fmt.Errorf("create consumer %s: %w", bm.Durable, err)
	}
	if err := js.DeleteConsumer(ctx, stream, cc.Durable); err != nil {
		return fmt.Errorf("delete consumer %s: %w", cc.Durable, err)
	}
	l.s.log.Info().Str("stream", stream).Str("consumer", cc.Durable).Uint64("from_stream_seq", from).
		Uint64("exported_again_at_most", info.Delivered.Stream-info.AckFloor.Stream).
		Str("ack_policy", info.Config.AckPolicy.String()).Int("ack_pending", info.NumAckPending).
		Msg("export consumer recreated: it resumes after its ack floor")
	cc.DeliverPolicy, cc.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from
	return nil
}

// resumeFromBookmark sets cc to start where a bookmark left by an
// interrupted replaceConsumer says, if there is one.
func (l *loop) resumeFromBookmark(ctx context.Context, cc *jetstream.ConsumerConfig) error {
	bm, err := l.s.js.Consumer(ctx, l.stream, bookmarkName(l.s.cfg.Name))
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read consumer %s: %w", bookmarkName(l.s.cfg.Name), err)
	}
	cc.DeliverPolicy, cc.OptStartSeq = jetstream.DeliverByStartSequencePolicy, bm.CachedInfo().Config.OptStartSeq
	return nil
}

// recover recreates the consumer after a gap in its deliveries, leaving
// the fetched messages unacked: they, and what the gap hid, are delivered
// again in order from the ack floor. It retries until ctx ends.
func (l *loop) recover(ctx context.Context) {
	l.s.log.Warn().Str("stream", l.stream).Uint64("expected_delivery", l.nextDelivery).
		Msg("export consumer delivered messages this subscriber did not get; resuming from its ack floor")
	for ctx.Err() == nil {
		err := l.openConsumer(ctx, l.cc, true)
		if err == nil {
			return
		}
		l.fail(fmt.Errorf("recreate export consumer: %w", err))
		sleep(ctx, l.s.cfg.Retry.Initial)
	}
}
