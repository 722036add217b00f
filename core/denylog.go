package core

import (
	"context"
	"log/slog"

	"github.com/ratewarden/ratewarden/core/config"
)

// logDenial writes the warn record of SPEC section 7 for a denial (or, in shadow mode, a
// would-be denial), with the request's context so that handlers see its trace.
func (l *Limiter) logDenial(ctx context.Context, d *Decision) {
	if !l.logger.Enabled(ctx, slog.LevelWarn) {
		return
	}
	w, r, _ := d.Binding()
	s := d.snapshot
	attrs := []slog.Attr{
		slog.String("client_id", d.ClientID()),
		slog.String("scope", d.Scope),
		slog.String("tier", d.Tier),
		slog.String("rule", d.Rule),
		slog.String("method", d.Method),
		slog.String("path", d.Path),
		slog.Int64("limit", w.Limit),
		slog.Int64("remaining", r.Remaining),
		slog.Int64("window", w.Seconds()),
		slog.Int64("retry_after", RetryAfterSeconds(d.RetryAfter())),
		slog.String("algorithm", string(s.cfg.Algorithm)),
		slog.String("backend", string(s.cfg.Backend)),
	}
	if d.Result.Cooldown > 0 {
		attrs = append(attrs, slog.Int64("penalty_cooldown", RetryAfterSeconds(d.Result.Cooldown)))
	}
	if d.Outcome == ShadowDenied {
		attrs = append(attrs, slog.String("mode", string(config.ModeShadow)))
	}
	l.logger.LogAttrs(ctx, slog.LevelWarn, "rate_limit_exceeded", attrs...)
}
