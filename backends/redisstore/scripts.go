package redisstore

import (
	"embed"

	"github.com/ratewarden/ratewarden/core/rate"
	"github.com/redis/go-redis/v9"
)

// The decision scripts: for each algorithm, lua/prelude.lua + lua/<algorithm>.lua (+
// lua/bucket.lua for token_bucket and gcra, which share the token bucket arithmetic) +
// lua/decide.lua, one self-contained script. The header of prelude.lua documents KEYS,
// ARGV and the reply.
//
//go:embed lua/*.lua
var luaFiles embed.FS

// scripts holds one script per algorithm, indexed by rate.Algorithm. The store runs a
// script with EVALSHA and falls back to EVAL on NOSCRIPT, which loads it again: after a
// SCRIPT FLUSH, a restart, or a failover to a replica whose script cache is empty.
var scripts = func() []*script {
	var s []*script
	for _, alg := range rate.Algorithms() {
		src := scriptSource(alg)
		s = append(s, &script{src: src, hash: redis.NewScript(src).Hash()})
	}
	return s
}()

// script is one decision script: its Lua source, for EVAL, and its SHA1, for EVALSHA.
type script struct{ src, hash string }

// scriptSource returns the whole Lua source of alg's script.
func scriptSource(alg rate.Algorithm) string {
	read := func(name string) string {
		b, err := luaFiles.ReadFile("lua/" + name + ".lua")
		if err != nil {
			panic("redisstore: missing embedded script " + name) // a build problem, caught by every test
		}
		return string(b)
	}
	src := read("prelude") + "\n" + read(alg.String()) + "\n"
	if alg == rate.TokenBucket || alg == rate.GCRA {
		src += read("bucket") + "\n"
	}
	return src + read("decide") + "\nreturn run()\n"
}
