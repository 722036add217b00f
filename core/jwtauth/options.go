package jwtauth

import (
	"net/http"
	"time"
)

// options are the settings that Option values change.
type options struct {
	now    func() time.Time
	client *http.Client
}

// Option changes how [New] builds a Verifier. Options are made by the With functions
// of this package.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithClock sets the time used for the exp and nbf checks. The default is
// [time.Now]; tests pass a function returning a fixed instant. A nil now is ignored.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(o *options) {
		if now != nil {
			o.now = now
		}
	})
}

// WithHTTPClient sets the client used to fetch and refresh the JWKS key set. The
// default is [http.DefaultClient]; every fetch is bounded by a timeout either way.
// It has no effect for the other key sources. A nil c is ignored.
func WithHTTPClient(c *http.Client) Option {
	return optionFunc(func(o *options) {
		if c != nil {
			o.client = c
		}
	})
}
