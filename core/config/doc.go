// Package config holds ratewarden's configuration: the [Config] types (plain structs whose
// zero values mean the defaults, [DefaultConfig]), the typed settings ([Mode], [Backend],
// [FailMode], [Algorithm]), and one pass that validates a configuration and compiles it, reporting
// every problem at once as a *[ValidationError] whose [Problem]s name their key path
// ("endpoints[2].window") and the bad value. [Config.Validate] is that pass with the
// compiled result dropped. [Reference] documents every key (meaning and validation rule;
// the checks it names are the ones validation runs), from which, with the types and
// [DefaultConfig], tools/configref generates the tables of docs/configuration.md. Reading a
// configuration from TOML and the environment is package configfile's job.
//
//	cfg := config.Config{
//		Default:   config.Limits{Limit: 100, Window: time.Minute},
//		Endpoints: []config.Endpoint{{Pattern: "/api/v1/compute", Limits: config.Limits{Limit: 10, Window: time.Minute}}},
//	}
//	if err := cfg.Validate(); err != nil {
//		log.Fatal(err) // every problem, one "key: message" line each
//	}
package config
