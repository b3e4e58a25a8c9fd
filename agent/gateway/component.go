package gateway

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// RunWithSignals runs g until ctx ends or SIGTERM/SIGINT arrives (then it
// drains), calling Reload on SIGHUP.
func (g *Gateway) RunWithSignals(ctx context.Context) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	defer g.ReloadOnSIGHUP(ctx)()
	return g.Run(ctx)
}

// ReloadOnSIGHUP calls Reload at every SIGHUP from the time it returns
// until ctx ends or stop is called (which gives SIGHUP back to what else
// listens for it).
func (g *Gateway) ReloadOnSIGHUP(ctx context.Context) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-done:
				return
			case <-hup:
				if err := g.Reload(ctx); err != nil {
					g.log.Error().Err(err).Msg("reload on SIGHUP")
				}
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
	}
}
