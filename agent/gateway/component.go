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
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := g.Reload(ctx); err != nil {
					g.log.Error().Err(err).Msg("reload on SIGHUP")
				}
			}
		}
	}()
	return g.Run(ctx)
}
