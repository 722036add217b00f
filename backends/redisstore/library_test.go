package redisstore

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core/rate"
)

// TestOneSourceForScriptsAndLibrary: each algorithm's script and its function in the
// library are the same code from lua/*.lua — with the block of lua/fast.lua, in the
// library as the body of fast —, and the library's name, which
// its functions' names start with, is a hash of that code.
func TestOneSourceForScriptsAndLibrary(t *testing.T) {
	t.Parallel()
	require.Regexp(t, `^ratewarden_[0-9a-f]{16}$`, library.name)
	assert.True(t, strings.HasPrefix(library.src, "#!lua name="+library.name+"\n"))
	for _, alg := range rate.Algorithms() {
		code := algorithmCode(alg)
		sc := scripts[alg]
		assert.Equal(t, code.head+code.fast+code.tail+"return run()\n", sc.src, alg)
		assert.Equal(t, library.name+"_"+alg.String(), sc.function)
		assert.Contains(t, library.src, "function_name = '"+sc.function+"'", alg)
		assert.Contains(t, code.fast, "repeat\n", alg)
		assert.Contains(t, library.src, code.head+"local function fast()\n"+code.fast+"end\n"+code.tail+
			"return function(keys, args)\n  KEYS, ARGV = keys, args\n  return fast() or run()\nend\n", alg)
	}
	assert.Len(t, regexp.MustCompile(`redis\.register_function`).FindAllString(library.src, -1), len(rate.Algorithms()))
	assert.NotContains(t, library.src, "REPLACE")

	// Another code, another name: an edit to any file changes the hash.
	code := algorithmCodes()
	assert.Equal(t, library.src, librarySource(library.name, code))
	edited := code[rate.GCRA]
	edited.fast += "-- edited\n"
	code[rate.GCRA] = edited
	_, lib := decisionCode(code)
	assert.NotEqual(t, library.name, lib.name)
}

// TestScriptDefinesNoClosureBeforeItsBlockAnswers: a script runs every line above its
// fast block's end on every EVALSHA, and each closure made there costs Redis on every
// call (lua/fast.lua; 1.2 µs of a token bucket's 9 with idiv, ceildiv, begin_request,
// debit, ttl, parse and serialize defined before the block). So the code up to the
// block's end, comments aside, defines no function, and every marker line was filled.
func TestScriptDefinesNoClosureBeforeItsBlockAnswers(t *testing.T) {
	t.Parallel()
	function := regexp.MustCompile(`\bfunction\b`)
	for _, alg := range rate.Algorithms() {
		code := algorithmCode(alg)
		src := code.head + code.fast + code.tail
		assert.NotRegexp(t, `--[A-Z]+--`, src, alg)
		for i, line := range strings.Split(code.head+code.fast, "\n") {
			if code, _, _ := strings.Cut(line, "--"); function.MatchString(code) {
				t.Errorf("%v: line %d, before the block answers, defines a closure: %s", alg, i+1, line)
			}
		}
	}
}

// TestFunctionErrors: the replies that decide what a Store does with Redis Functions, as
// Redis 6.2 and 7.x word them.
func TestFunctionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err                           error
		notFound, exists, unsupported bool
	}{
		{redisErr("ERR Function not found"), true, false, false},
		{redisErr("ERR Library 'ratewarden_0123456789abcdef' already exists"), false, true, false},
		{redisErr("ERR Function ratewarden_0123456789abcdef_gcra already exists"), false, false, false},
		{redisErr("ERR unknown command 'fcall', with args beginning with: 'x' '0' "), false, false, true},
		{redisErr("ERR unknown command `FUNCTION`, with args beginning with: `LOAD`, "), false, false, true},
		{redisErr("NOPERM this user has no permissions to run the 'function|load' command"), false, false, true},
		{redisErr("NOPERM this user has no permissions to run the 'fcall' command"), false, false, true},
		{redisErr("NOSCRIPT No matching script. Please use EVAL."), false, false, false},
		{redisErr("ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'math'"), false, false, false},
		{nil, false, false, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.notFound, notFound(tt.err), "notFound(%v)", tt.err)
		assert.Equal(t, tt.exists, exists(tt.err), "exists(%v)", tt.err)
		assert.Equal(t, tt.unsupported, unsupported(tt.err), "unsupported(%v)", tt.err)
	}
}
