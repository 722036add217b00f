package config_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/ratewarden/ratewarden/core/config"
)

// A configuration built in code: zero fields mean their defaults, and Validate reports
// every problem at once, each naming its key path and the bad value.
func ExampleConfig_Validate() {
	cfg := config.Config{
		Default: config.Limits{Limit: 100, Window: time.Minute},
		Tiers:   map[string]config.Limits{"premium": {Limit: 1000, Window: time.Minute}},
		Endpoints: []config.Endpoint{
			{Name: "compute", Pattern: "/api/v1/compute", Methods: []string{"POST"},
				Limits: config.Limits{Limit: 10, Window: 1500 * time.Millisecond}},
			{Pattern: "/api/v1/search", Limits: config.Limits{Limit: -1, Window: time.Minute}},
		},
		FailMode: "sometimes",
	}

	var verr *config.ValidationError
	if err := cfg.Validate(); errors.As(err, &verr) {
		for _, p := range verr.Problems {
			fmt.Println(p)
		}
	}

	full := cfg.WithDefaults()
	fmt.Println(full.Algorithm, full.Backend, full.KeyPrefix)
	// Output:
	// fail_mode: must be "open", "closed" or "local", got "sometimes"
	// endpoints[0].window: must be whole seconds ≥ 1s, got "1.5s"
	// endpoints[1].limit: must be ≥ 1, got -1
	// token_bucket memory ratelimit
}
