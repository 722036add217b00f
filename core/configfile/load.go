package configfile

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/knadh/koanf/parsers/toml/v2"
	"github.com/knadh/koanf/v2"
	gotoml "github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/internal/problem"
)

// Load reads the TOML file at path (none when path is ""), then RATELIMIT_* environment
// variables, over the defaults, and validates the result. It is Source{Path: path}.Load().
//
// A file that cannot be read is an error naming the path; one that is not valid TOML (a
// syntax error, a key or table defined twice) is a *[FileError] with the line and column.
// Every other problem — unknown keys, values of the wrong type, unparsable environment
// variables, invalid settings — is reported at once in a *[config.ValidationError].
// Unknown RATELIMIT_* variables, redis.* settings while the backend is memory, [jwt],
// [api_key] and [penalty] settings while the table's enabled is left out, tiers no
// identity source can give, and tier names that differ only by case are only warned about
// on stderr.
// docs/configuration.md describes the keys and the environment variables.
func Load(path string) (config.Config, error) { return Source{Path: path}.Load() }

// Source is a configuration source with every input explicit (tests, and the reload helpers).
// Its zero value reads no file and the process environment.
type Source struct {
	Path    string                           // TOML file; "" = none
	Environ []string                         // "KEY=value" pairs; nil = os.Environ()
	Warnf   func(format string, args ...any) // unknown RATELIMIT_* variables; nil = a line on os.Stderr
	Logger  *slog.Logger                     // Watch's record of a file that does not load; nil = slog.Default()
}

// Load reads the configuration as [Load] does, from the inputs of s. The Config returned has
// its defaults applied ([config.Config.WithDefaults]); on error it is the zero Config.
func (s Source) Load() (config.Config, error) {
	var (
		c        config.Config
		ps       problem.List
		explicit = map[string]bool{} // the keys the file or the environment set
	)
	if s.Path != "" {
		raw, err := readTOML(s.Path)
		if err != nil {
			return config.Config{}, err
		}
		decodeValue(&ps, "", raw, reflect.ValueOf(&c).Elem())
		leafKeys("", raw, explicit)
	}
	environ, warnf := s.Environ, s.Warnf
	if environ == nil {
		environ = os.Environ()
	}
	if warnf == nil {
		warnf = func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "ratewarden: warning: "+format+"\n", args...)
		}
	}
	env := applyEnv(&ps, &c, environ, warnf)
	for key, given := range env.set {
		explicit[key] = given
	}

	for _, p := range ps { // a value that could not be read is reported already
		delete(explicit, p.Key)
	}
	defaulted := c.WithDefaults()
	explicitZeros(&ps, "", reflect.ValueOf(c), reflect.ValueOf(defaulted), explicit)
	explicitZeroCosts(&ps, c, explicit)
	c = defaulted
	warnIgnoredRedis(c, explicit, warnf)
	warnSwitchedOff(c, explicit, warnf)
	warnTierCase(c, warnf)
	if err := c.ValidateLoaded(explicit); err != nil {
		var ve *config.ValidationError
		if !errors.As(err, &ve) {
			return config.Config{}, err
		}
		ps = mergeProblems(ps, ve.Problems)
	}
	if len(ps) > 0 {
		env.annotate(ps)
		return config.Config{}, &config.ValidationError{Problems: ps}
	}
	return c, nil
}

// Bounds of a configuration file, far beyond any real one: flattening nested tables costs
// time and memory quadratic in their depth (a 200 KB file of nested inline tables grew an
// app to 22 GB during a reload), so deeper or larger files are refused before that.
const (
	maxConfigBytes = 1 << 20
	maxConfigDepth = 32
)

// readTOML reads and parses the file at path into nested maps. The file is read once:
// the shape guard and the parser see the same bytes, so a file swapped between them cannot
// slip a huge or deep one past the guard.
func readTOML(path string) (map[string]any, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	if err := checkShape(path, data); err != nil {
		return nil, err
	}
	k := koanf.New(".")
	err = k.Load(bytesProvider(data), toml.Parser())
	var de *gotoml.DecodeError
	switch {
	case err == nil:
		return k.Raw(), nil
	case errors.As(err, &de):
		line, col := de.Position()
		return nil, &FileError{Path: path, Line: line, Column: col, Message: err.Error()}
	}
	// go-toml reports a key or table defined twice without its position: find it.
	fe := &FileError{Path: path, Message: err.Error()}
	fe.Line, fe.Column = redefinition(data)
	return nil, fe
}

// bytesProvider is a koanf.Provider of bytes already read.
type bytesProvider []byte

func (b bytesProvider) ReadBytes() ([]byte, error) { return b, nil }

func (b bytesProvider) Read() (map[string]any, error) {
	return nil, errors.New("ratewarden: bytesProvider needs a parser")
}

// checkShape refuses the file at path, whose contents are data, when its tables nest
// deeper than maxConfigDepth, naming the path. (readFile has bounded its size.)
func checkShape(path string, data []byte) error {
	// Brackets first: the TOML parser descends into each one recursively, and a megabyte of
	// "[" overflows its stack, which no recover catches. Then dotted keys, once parsed.
	deep := fmt.Errorf("ratewarden: %s: tables nest deeper than %d levels", path, maxConfigDepth)
	if bracketDepth(data) > maxConfigDepth {
		return deep
	}
	var raw map[string]any // a syntax error is left to koanf, which reports its position
	if err := gotoml.Unmarshal(data, &raw); err == nil && depth(raw) > maxConfigDepth {
		return deep
	}
	return nil
}

// bracketDepth returns the deepest nesting of "[" and "{" in TOML text outside strings and
// comments, reading it once without parsing it.
func bracketDepth(data []byte) int {
	level, deepest := 0, 0
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '#':
			for i < len(data) && data[i] != '\n' {
				i++
			}
		case '"', '\'':
			if i+2 < len(data) && data[i+1] == c && data[i+2] == c { // a multi-line string
				if i = multilineEnd(data, i+3, c); i < 0 {
					return deepest
				}
				continue
			}
			for i++; i < len(data) && data[i] != c && data[i] != '\n'; i++ {
				if c == '"' && data[i] == '\\' {
					i++ // an escaped character
				}
			}
		case '[', '{':
			level++
			deepest = max(deepest, level)
		case ']', '}':
			level = max(level-1, 0)
		}
	}
	return deepest
}

// multilineEnd returns the index of the last quote that closes the multi-line string
// whose text starts at data[from] and whose quote is q, or -1 when it is not closed. As
// TOML allows, one or two quotes may end the text right before the closing three (a run of
// four or five ends the string at its last three); a basic string's backslash escapes the
// next character.
func multilineEnd(data []byte, from int, q byte) int {
	for j := from; j < len(data); j++ {
		switch {
		case q == '"' && data[j] == '\\':
			j++
		case data[j] == q && j+2 < len(data) && data[j+1] == q && data[j+2] == q:
			end := j + 2
			for end+1 < len(data) && end+1 < j+5 && data[end+1] == q {
				end++
			}
			return end
		}
	}
	return -1
}

// depth returns how deeply v nests tables and arrays (a scalar is 0).
func depth(v any) int {
	d := 0
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			d = max(d, depth(e))
		}
	case []any:
		for _, e := range x {
			d = max(d, depth(e))
		}
	default:
		return 0
	}
	return d + 1
}

// FileError is a configuration file that is not valid TOML — a syntax error, or a key or
// table defined twice — at Line and Column (from 1; 0 when unknown) of the file at Path.
// Its message reads "ratewarden: <path>:<line>:<column>: <what is wrong>", as compilers
// write it.
type FileError struct {
	Path         string
	Line, Column int
	Message      string // the parser's message, e.g. "toml: key limit is already defined"
}

// Error returns "ratewarden: " and [FileError.Problem].
func (e *FileError) Error() string { return "ratewarden: " + e.Problem() }

// Problem returns "<path>:<line>:<column>: <message>", without the position when it is
// unknown.
func (e *FileError) Problem() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.Path, e.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Column, e.Message)
}

// redefinition returns the line and column of the first key or table of a TOML document
// that an earlier one already defined, or 0, 0. Keys are scoped to their table, and to the
// element of an array of tables ([[endpoints]]); inline tables are not looked into.
func redefinition(data []byte) (line, col int) {
	var (
		p        unstable.Parser
		seen     = map[string]bool{}
		table    string
		elements = map[string]int{} // array-of-tables name → elements so far
	)
	p.Reset(data)
	for p.NextExpression() {
		e := p.Expression()
		var key string
		switch e.Kind {
		case unstable.Table:
			table = dottedKey(e.Key())
			key = "[" + table + "]"
		case unstable.ArrayTable:
			name := dottedKey(e.Key())
			elements[name]++
			table = fmt.Sprintf("%s[%d]", name, elements[name])
			continue
		case unstable.KeyValue:
			key = table + "." + dottedKey(e.Key())
		default:
			continue
		}
		if seen[key] {
			it := e.Key()
			if it.Next() && it.Node().Raw.Length > 0 {
				pos := p.Shape(it.Node().Raw).Start
				return pos.Line, pos.Column
			}
			return 0, 0
		}
		seen[key] = true
	}
	return 0, 0
}

// dottedKey joins the parts of a (dotted) TOML key.
func dottedKey(it unstable.Iterator) string {
	var parts []string
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return strings.Join(parts, ".")
}

// mergeProblems adds the validation problems to those found while reading the file and the
// environment, and orders them by section. A validation problem at or under a key that could
// not be read is dropped: it only describes the zero value left in its place. So is one at
// or under the key an unknown key's suggestion names ("limt" → "limit"), and the "no limits"
// of its table: the typo is the problem, not its consequence.
func mergeProblems(input, validation []config.Problem) []config.Problem {
	out := slices.Clone(input)
	suppressed := slices.Clone(input)
	for _, q := range input {
		table, target, ok := typoTarget(q)
		if !ok {
			continue
		}
		suppressed = append(suppressed, config.Problem{Key: problem.JoinKey(table, target)})
		if target == "limit" || target == "window" || target == "windows" {
			suppressed = append(suppressed, config.Problem{Key: table, Message: problem.NoLimits})
		}
	}
	for _, p := range validation {
		if !slices.ContainsFunc(suppressed, func(q config.Problem) bool {
			if q.Message == problem.NoLimits {
				return p == q
			}
			return within(p.Key, q.Key)
		}) {
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b config.Problem) int {
		sa, ia := keyOrder(a.Key)
		sb, ib := keyOrder(b.Key)
		return cmp.Or(cmp.Compare(sa, sb), cmp.Compare(ia, ib))
	})
	return out
}

// typoTarget returns, for an unknown-key problem with a suggestion ("endpoints[0].limt":
// unknown key (did you mean "limit"?)), the key path of its table and the suggested key.
func typoTarget(p config.Problem) (table, target string, ok bool) {
	_, rest, found := strings.Cut(p.Message, didYouMean)
	if !found || !strings.HasPrefix(p.Message, "unknown key") {
		return "", "", false
	}
	target, _, _ = strings.Cut(rest, `"`)
	table = p.Key[:max(strings.LastIndexByte(p.Key, '.'), 0)]
	return table, target, true
}

// warnIgnoredRedis warns when the file or the environment set redis.* keys that the
// backend in force (memory) never reads.
func warnIgnoredRedis(c config.Config, explicit map[string]bool, warnf func(string, ...any)) {
	if c.Backend == config.BackendRedis {
		return
	}
	if key, ok := firstSet(explicit, "redis", ""); ok {
		warnf("%s is set but backend is %q: the [redis] settings are only read with backend = %q", key, c.Backend, config.BackendRedis)
	}
}

// warnSwitchedOff warns when the file or the environment set keys of a table that is only
// read with its enabled switch on, and left the switch out; and when tiers other than
// "anonymous" are configured while neither identity source that gives a tier (jwt,
// api_key) is on. A switch set to false is a deliberate choice, settings kept for later:
// it is not warned about.
func warnSwitchedOff(c config.Config, explicit map[string]bool, warnf func(string, ...any)) {
	switches := []struct {
		table string
		on    bool
	}{{"api_key", c.APIKey.Enabled}, {"jwt", c.JWT.Enabled}, {"penalty", c.Penalty.Enabled}}
	for _, sw := range switches {
		if sw.on || explicit[sw.table+".enabled"] {
			continue
		}
		if key, ok := firstSet(explicit, sw.table, sw.table+".enabled"); ok {
			warnf("%s is set but %s.enabled is false: the [%s] settings are only read with %s.enabled = true", key, sw.table, sw.table, sw.table)
		}
	}
	if c.JWT.Enabled || c.APIKey.Enabled || explicit["jwt.enabled"] || explicit["api_key.enabled"] {
		return
	}
	// The tier of a client no token or key identifies (core.TierAnonymous) applies anyway.
	const anonymous = "anonymous"
	firstTier := func(prefix string, tiers map[string]config.Limits) (string, bool) {
		for _, name := range sortedKeys(tiers) {
			if name != anonymous {
				return problem.JoinKey(prefix, name), true
			}
		}
		return "", false
	}
	key, ok := firstTier("tiers", c.Tiers)
	for i := 0; i < len(c.Endpoints) && !ok; i++ {
		key, ok = firstTier(fmt.Sprintf("endpoints[%d].tiers", i), c.Endpoints[i].Tiers)
	}
	if ok {
		warnf("%s is set but neither jwt.enabled nor api_key.enabled is true: tiers other than %q come from a verified token or API key, so its limits never apply", key, anonymous)
	}
}

// firstSet returns the first key (in key order) at or under table, other than skip, that
// the file or the environment gave a value.
func firstSet(explicit map[string]bool, table, skip string) (string, bool) {
	for _, key := range sortedKeys(explicit) {
		if explicit[key] && key != skip && within(key, table) {
			return key, true
		}
	}
	return "", false
}

// warnTierCase warns about tier names that differ only by case: tokens' tier claims are
// compared exactly, so "Pro" and "pro" are two tiers, and a token says only one of them.
func warnTierCase(c config.Config, warnf func(string, ...any)) {
	first := map[string]string{}   // lower-cased name → key path of its first spelling
	spelled := map[string]string{} // lower-cased name → that spelling
	check := func(prefix string, tiers map[string]config.Limits) {
		for _, name := range sortedKeys(tiers) {
			lower, key := strings.ToLower(name), problem.JoinKey(prefix, name)
			switch prev, seen := spelled[lower]; {
			case !seen:
				first[lower], spelled[lower] = key, name
			case prev != name:
				warnf("%s and %s differ only by case: tier names are case-sensitive and must equal the token's tier claim exactly", first[lower], key)
			}
		}
	}
	check("tiers", c.Tiers)
	for i, e := range c.Endpoints {
		check(fmt.Sprintf("endpoints[%d].tiers", i), e.Tiers)
	}
}

// within reports whether key is parent or under it.
func within(key, parent string) bool {
	rest, ok := strings.CutPrefix(key, parent)
	return ok && (rest == "" || rest[0] == '.' || rest[0] == '[')
}

// keyOrder returns the position of a key path's top-level key among the fields of Config
// (unknown keys last) and, for "endpoints[i]…", the index i (else -1).
func keyOrder(key string) (section, index int) {
	end := strings.IndexAny(key, ".[")
	if end < 0 {
		end = len(key)
	}
	section = math.MaxInt
	for i, f := range fieldsOf(reflect.TypeFor[config.Config]()) {
		if f.name == key[:end] {
			section = i
			break
		}
	}
	index = -1
	if rest, ok := strings.CutPrefix(key[end:], "["); ok {
		if n, _, ok := strings.Cut(rest, "]"); ok {
			index, _ = strconv.Atoi(n)
		}
	}
	return section, index
}

// field is a configuration key of a struct: its koanf name and its index path, with
// squashed embedded structs (Endpoint's Limits) flattened.
type field struct {
	name  string
	index []int
}

// fieldsOf lists the keys of a struct type in declaration order.
func fieldsOf(t reflect.Type) []field {
	var fs []field
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("koanf"), ",")
		switch {
		case !f.IsExported():
		case opts == "squash":
			for _, sub := range fieldsOf(f.Type) {
				fs = append(fs, field{sub.name, append([]int{i}, sub.index...)})
			}
		case name != "":
			fs = append(fs, field{name, []int{i}})
		}
	}
	return fs
}

var durationType = reflect.TypeFor[time.Duration]()

// decodeValue stores raw (a value from the TOML parser) at key into v, adding a problem for
// every unknown key and every value of the wrong type. It reports whether v was set.
func decodeValue(ps *problem.List, key string, raw any, v reflect.Value) bool {
	t := v.Type()
	switch {
	case t.Kind() == reflect.Pointer:
		elem := reflect.New(t.Elem())
		if !decodeValue(ps, key, raw, elem.Elem()) {
			return false
		}
		v.Set(elem)
		return true
	case t.Kind() == reflect.Struct:
		table, ok := raw.(map[string]any)
		if !ok {
			// In a table of tables ([tiers]), a top-level key written below its header.
			ps.Add(key, "must be a table, got %s%s", formatRaw(raw), topLevelHint(key))
			return false
		}
		decodeTable(ps, key, table, v)
		return true
	case t.Kind() == reflect.Map:
		table, ok := raw.(map[string]any)
		if !ok {
			ps.Add(key, "must be a table, got %s", formatRaw(raw))
			return false
		}
		if v.IsNil() {
			v.Set(reflect.MakeMapWithSize(t, len(table)))
		}
		for _, name := range sortedKeys(table) {
			elem := reflect.New(t.Elem()).Elem()
			decodeValue(ps, problem.JoinKey(key, name), table[name], elem)
			v.SetMapIndex(reflect.ValueOf(name), elem)
		}
		return true
	case t.Kind() == reflect.Slice:
		list := reflect.ValueOf(raw)
		if raw == nil || list.Kind() != reflect.Slice {
			what := "an array"
			if t.Elem().Kind() == reflect.Struct {
				what = fmt.Sprintf("an array of tables ([[%s]])", key)
			}
			ps.Add(key, "must be %s, got %s", what, formatRaw(raw))
			return false
		}
		s := reflect.MakeSlice(t, list.Len(), list.Len())
		for i := range list.Len() {
			decodeValue(ps, fmt.Sprintf("%s[%d]", key, i), list.Index(i).Interface(), s.Index(i))
		}
		v.Set(s)
		return true
	}
	x, ok := convertScalar(raw, t)
	switch {
	case !ok && secretKeys[key]:
		ps.Add(key, "must be %s (the value is a secret, not shown)", describeType(t))
		return false
	case !ok:
		ps.Add(key, "must be %s, got %s", describeType(t), formatRaw(raw))
		return false
	}
	v.Set(x)
	return true
}

// decodeTable reports the keys of a TOML table that are not fields of the struct v, then
// decodes the others into v, in field order.
func decodeTable(ps *problem.List, key string, table map[string]any, v reflect.Value) {
	fields := fieldsOf(v.Type())
	known := make([]string, len(fields))
	for i, f := range fields {
		known[i] = f.name
	}
	for _, name := range sortedKeys(table) {
		if !slices.Contains(known, name) {
			k := problem.JoinKey(key, name)
			hint := topLevelHint(k)
			if hint == "" {
				hint = suggest(name, known)
			}
			ps.Add(k, "unknown key%s", hint)
		}
	}
	for _, f := range fields {
		if raw, ok := table[f.name]; ok {
			decodeValue(ps, problem.JoinKey(key, f.name), raw, v.FieldByIndex(f.index))
		}
	}
}

// topLevelHint returns, for the key path of a key found inside a table whose last part
// is a top-level key that takes a value (backend, mode, …), a hint that TOML put it in the
// table because it was written below the table's header; "" otherwise.
func topLevelHint(key string) string {
	dot := strings.LastIndexByte(key, '.')
	if dot < 0 {
		return ""
	}
	name := key[dot+1:]
	root := reflect.TypeFor[config.Config]()
	for _, f := range fieldsOf(root) {
		if f.name == name && isEnvLeaf(root.FieldByIndex(f.index).Type) {
			return fmt.Sprintf(" (%s is a top-level key: put it before the first [table])", name)
		}
	}
	return ""
}

// convertScalar converts a TOML scalar to a string, bool, integer, float or duration field.
func convertScalar(raw any, t reflect.Type) (reflect.Value, bool) {
	if t == durationType {
		var d time.Duration
		switch x := raw.(type) {
		case int64:
			if x > math.MaxInt64/int64(time.Second) || x < math.MinInt64/int64(time.Second) {
				return reflect.Value{}, false
			}
			d = time.Duration(x) * time.Second
		case string:
			var err error
			if d, err = parseDuration(x); err != nil {
				return reflect.Value{}, false
			}
		default:
			return reflect.Value{}, false
		}
		return reflect.ValueOf(d), true
	}
	x := reflect.New(t).Elem()
	switch r := raw.(type) {
	case string:
		if t.Kind() != reflect.String {
			return x, false
		}
		x.SetString(r)
	case bool:
		if t.Kind() != reflect.Bool {
			return x, false
		}
		x.SetBool(r)
	case int64:
		switch {
		case x.CanInt() && !x.OverflowInt(r):
			x.SetInt(r)
		case x.CanFloat():
			x.SetFloat(float64(r))
		default:
			return x, false
		}
	case float64:
		if !x.CanFloat() {
			return x, false
		}
		x.SetFloat(r)
	default:
		return x, false
	}
	return x, true
}

// parseDuration parses a Go duration string ("500ms", "1m") or integer seconds ("60").
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > math.MaxInt64/int64(time.Second) || n < math.MinInt64/int64(time.Second) {
			return 0, errors.New("out of range")
		}
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(s)
}

// describeType says what a setting of type t must be, for "must be …" messages.
func describeType(t reflect.Type) string {
	switch {
	case t == durationType:
		return `a duration such as "500ms" or "1m", or integer seconds`
	case t.Kind() == reflect.Pointer:
		return describeType(t.Elem())
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Float64:
		return "a number"
	case t.Kind() == reflect.Slice:
		return "a list"
	}
	return "an integer"
}

// rawValue is a value of the file as a "got …" clause shows it: strings quoted, tables and
// arrays named. Its ProblemValue is the value itself, the Value of the problem, or "" for
// a table or an array, which is no one value.
type rawValue struct{ shown, value string }

func (r rawValue) String() string       { return r.shown }
func (r rawValue) ProblemValue() string { return r.value }

// formatRaw is raw for a "got …" clause.
func formatRaw(raw any) rawValue {
	switch x := raw.(type) {
	case string:
		return rawValue{strconv.Quote(x), x}
	case map[string]any:
		return rawValue{shown: "a table"}
	case nil:
		return rawValue{shown: "nothing"}
	}
	if reflect.ValueOf(raw).Kind() == reflect.Slice {
		return rawValue{shown: "an array"}
	}
	return rawValue{fmt.Sprint(raw), fmt.Sprint(raw)}
}

// secretKeys are the keys whose values no problem quotes: a secret written with the wrong
// type (a numeric token) must not reach stderr, logs or the admin endpoint's 422 body.
var secretKeys = map[string]bool{"jwt.secret": true, "redis.password": true, "admin.token": true}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// suggest returns ` (did you mean "x"?)` for the known key closest to name, when it is
// close enough to be a typo: one edit for names of up to 5 bytes, two for longer ones.
func suggest(name string, known []string) string {
	best, bestDist := "", min(max(len(name)/3, 1), 2)+1
	for _, k := range known {
		if d := editDistance(name, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (%s%s\"?)", didYouMean, best)
}

// didYouMean starts the suggestion of [suggest], up to the suggested key.
const didYouMean = `did you mean "`

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, sub)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
