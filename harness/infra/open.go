package infra

import (
	"context"
	"fmt"
	"io"

	"github.com/cqrsbench/cqrsbench/harness/infra/dockerenv"
)

// Open starts or connects to the infrastructure cfg selects and returns it
// ready to use. The caller must Close it. On error nothing started is left
// running.
func Open(ctx context.Context, cfg Config) (Infra, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch p := cfg.provider(); p {
	case ProviderExternal:
		return openExternal(ctx, cfg)
	case ProviderLocal:
		return openLocal(ctx, cfg)
	case ProviderDocker:
		return openDocker(ctx, cfg)
	default: // auto
		if err := dockerenv.Healthy(ctx); err != nil {
			say(cfg.Progress, "infra: Docker not available (%v); using the local provider", err)
			return openLocal(ctx, cfg)
		}
		env, err := openDocker(ctx, cfg)
		if err == nil || ctx.Err() != nil {
			return env, err
		}
		// A healthy engine may still fail to start the containers: no
		// registry to pull the images from, no disk. The local provider
		// needs neither.
		say(cfg.Progress, "infra: the Docker provider failed (%v); using the local provider", err)
		return openLocal(ctx, cfg)
	}
}

// say writes one progress line when w is not nil.
func say(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}
