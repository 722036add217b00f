// Package configfile reads a ratewarden configuration from a TOML file and RATELIMIT_*
// environment variables ([Load], [Source]), and reloads it when the file changes on disk
// ([Source.Watch]).
//
//	cfg, err := configfile.Load("ratewarden.toml") // then RATELIMIT_* variables
//	if err != nil {
//		log.Fatal(err) // a *config.ValidationError lists every problem, one per line
//	}
//	lim, err := core.New(cfg)
//
// koanf does what it is for: reading the file and watching it (its file provider, so
// writes, renames and symbolic-link swaps are seen). Decoding the parsed tables into the
// Config types, and applying the environment, is this package's own code, because the
// contract (SPEC section 4) needs what koanf's unmarshalling does not give: every problem
// at once with its exact key path ("endpoints[0].limit"), unknown keys and variables
// reported with a suggestion, explicit zeros told apart from defaults, and endpoints
// addressed by name in the environment (RATELIMIT_ENDPOINTS_COMPUTE_LIMIT).
package configfile
