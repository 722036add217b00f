package redisstore

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"strings"

	"github.com/ratewarden/ratewarden/core/rate"
	"github.com/redis/go-redis/v9"
)

// The decision code: for each algorithm, lua/prelude.lua (globals copied into locals), then
// the fast block, then lua/helpers.lua + lua/<algorithm>.lua + lua/decide.lua, which
// defines run, the entry point. token_bucket and gcra share the token bucket arithmetic of
// lua/bucket.lua, with their own decode and encode (lua/<algorithm>.lua, two snippets) in
// its marker lines. The header of prelude.lua documents KEYS, ARGV and the reply. Two
// programs are made of that one source:
//
//   - a script per algorithm, the code then `return run()`, for EVALSHA and EVAL;
//   - one Redis Function library (Redis ≥ 7) with a function per algorithm, for FCALL,
//     which defines the code once and runs it on every call (functions.go says when a
//     Store uses which).
//
// The fast block, lua/fast.lua with the algorithm's step (lua/bucket_step.lua for both
// bucket algorithms, lua/<algorithm>_step.lua) in place of its marker line, decides the
// common calls on their own (one request or a batch, each request's policy of one window
// and no penalty): in a script, code of the chunk, which answers before the script defines
// any closure; in the library, the body of a function, fast, that each call tries before
// run.
//
//go:embed lua/*.lua
var luaFiles embed.FS

// scripts holds one script per algorithm, indexed by rate.Algorithm, and library the
// Redis Function library of them all.
var scripts, library = decisionCode(algorithmCodes())

// script is one algorithm's decision code: its script's Lua source, for EVAL, and SHA1,
// for EVALSHA; and the name of its function in the library, for FCALL.
type script struct{ src, hash, function string }

// functionLibrary is the Redis Function library of the decision code: its name, which
// carries a hash of its code (so that Stores of different versions on one Redis never
// replace each other's functions), and its source, for FUNCTION LOAD.
type functionLibrary struct{ name, src string }

// decisionCode returns the scripts and the library of each algorithm's code.
func decisionCode(code map[rate.Algorithm]algorithm) ([]*script, functionLibrary) {
	sum := sha256.Sum256([]byte(librarySource("", code)))
	name := "ratewarden_" + hex.EncodeToString(sum[:8])
	var s []*script
	for _, alg := range rate.Algorithms() {
		src := code[alg].script()
		s = append(s, &script{src: src, hash: redis.NewScript(src).Hash(), function: name + "_" + alg.String()})
	}
	return s, functionLibrary{name: name, src: librarySource(name, code)}
}

// algorithm is one algorithm's Lua code: head and tail define run, and between them fast
// is a block that decides the calls it can and breaks out of itself for the others
// (lua/fast.lua; a test leaves it empty to run the driver alone).
type algorithm struct{ head, fast, tail string }

// script returns the code as a script: the block is the chunk's own code, and run is what
// the script returns when the block did not.
func (a algorithm) script() string { return a.head + a.fast + a.tail + "return run()\n" }

// algorithmCodes returns the Lua code of each algorithm.
func algorithmCodes() map[rate.Algorithm]algorithm {
	code := map[rate.Algorithm]algorithm{}
	for _, alg := range rate.Algorithms() {
		code[alg] = algorithmCode(alg)
	}
	return code
}

// algorithmCode returns the Lua code of alg.
func algorithmCode(alg rate.Algorithm) algorithm {
	read := func(name string) string {
		b, err := luaFiles.ReadFile("lua/" + name + ".lua")
		if err != nil {
			panic("redisstore: missing embedded script " + name) // a build problem, caught by every test
		}
		return string(b)
	}
	fast := func(step string) string { return put(read("fast"), "STEP", read(step+"_step")) }
	switch alg {
	case rate.TokenBucket, rate.GCRA:
		decode, encode := codec(read(alg.String()))
		bucket := func(code string) string { return put(put(code, "DECODE", decode), "ENCODE", encode) }
		return algorithm{
			head: read("prelude"),
			fast: bucket(fast("bucket")),
			tail: read("helpers") + bucket(read("bucket")) + read("decide"),
		}
	}
	return algorithm{
		head: read("prelude"),
		fast: fast(alg.String()),
		tail: read("helpers") + read(alg.String()) + read("decide"),
	}
}

// put returns code with snippet in place of its line --<marker>--, indented as that line.
func put(code, marker, snippet string) string {
	line := "--" + marker + "--\n"
	i := strings.Index(code, line)
	if i < 0 {
		panic("redisstore: no " + marker + " marker in the embedded code") // a build problem, caught by every test
	}
	start := strings.LastIndexByte(code[:i], '\n') + 1
	indent := code[start:i]
	var b strings.Builder
	for l := range strings.SplitSeq(strings.TrimRight(snippet, "\n"), "\n") {
		if l != "" { // no trailing blanks on empty lines
			b.WriteString(indent)
		}
		b.WriteString(l + "\n")
	}
	return code[:start] + b.String() + code[i+len(line):]
}

// codec splits a bucket algorithm's lua/<algorithm>.lua into its decode and encode
// snippets: the code before its --ENCODE-- line (without the comments that open the
// file) and after it.
func codec(src string) (decode, encode string) {
	for strings.HasPrefix(src, "--") || strings.HasPrefix(src, "\n") {
		_, src, _ = strings.Cut(src, "\n")
	}
	decode, encode, _ = strings.Cut(src, "--ENCODE--\n")
	return decode, encode
}

// libraryPreamble starts the library after its shebang line. While Redis 7.0 loads a
// library, its code sees neither redis.call nor the standard libraries (math, string, …),
// which the decision code keeps in locals as it starts: so each function defines its
// algorithm's code on its first call, and keeps it (lazy).
const libraryPreamble = `-- ratewarden's rate limit decisions: one function per algorithm, made by
-- github.com/ratewarden/ratewarden/backends/redisstore from its lua/*.lua (docs/redis.md).
-- The name carries a hash of the code: a library of another version is another library.

-- lazy returns a function that calls define once, on its first call, and from then on
-- calls the function define returned.
local function lazy(define)
  local run
  return function(keys, args)
    if not run then
      run = define()
    end
    return run(keys, args)
  end
end
`

// librarySource returns the library's source under name, from each algorithm's code:
// each function's KEYS and ARGV are locals of its code that it sets on every call, and
// the block, if any, is the body of a function, fast, that it calls before run.
func librarySource(name string, code map[rate.Algorithm]algorithm) string {
	var b strings.Builder
	b.WriteString("#!lua name=" + name + "\n" + libraryPreamble)
	for _, alg := range rate.Algorithms() {
		a := code[alg]
		b.WriteString("\nredis.register_function{function_name = '" + name + "_" + alg.String() + "',\n" +
			"  description = 'ratewarden: " + alg.String() + " decisions', callback = lazy(function()\n" +
			"local KEYS, ARGV\n")
		b.WriteString(a.head)
		call := "run()"
		if a.fast != "" {
			b.WriteString("local function fast()\n" + a.fast + "end\n")
			call = "fast() or run()"
		}
		b.WriteString(a.tail)
		b.WriteString("return function(keys, args)\n  KEYS, ARGV = keys, args\n  return " + call + "\nend\nend)}\n")
	}
	return b.String()
}
