package configfile

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/internal/problem"
)

// envPrefix starts the name of every environment variable that Load reads.
const envPrefix = "RATELIMIT_"

// envVar is one RATELIMIT_* variable.
type envVar struct{ name, value string }

// envTarget is the configuration key an environment variable sets.
type envTarget struct {
	key string                // key path, e.g. "endpoints[0].tiers.premium.limit"
	typ reflect.Type          // a leaf type: string, bool, *bool, integer, float, duration, []string
	set func(x reflect.Value) // stores a value of typ at the key
	// newTier is the name of the tier the variable creates (the only maps of Config are
	// tiers), and newTable its key path; both "" when the variable's table exists.
	newTier, newTable string
}

// envSources is what applyEnv did: the keys it set, and where each came from.
type envSources struct {
	// set maps the key paths the variables set to whether they were given a value (an
	// empty value resets the key to its default).
	set map[string]bool
	// from maps each key path set, and each table a variable created (a new tier), to
	// what a problem at or under it names as its source: the variable, and for a new tier
	// whose name is close to an existing one's, the suggestion.
	from map[string]string
}

// applyEnv sets the keys named by the RATELIMIT_* variables of environ on c and returns
// what it set. Names are resolved against the keys of Config (its koanf tags), upper-cased
// with "." → "_": an unparsable value is a problem, an unknown name is passed to warnf,
// and so is a new tier whose name is close to an existing one's (a typo for it).
func applyEnv(ps *problem.List, c *config.Config, environ []string, warnf func(string, ...any)) envSources {
	src := envSources{set: map[string]bool{}, from: map[string]string{}}
	known := tierNames(*c)
	var vars []envVar
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(name, envPrefix) {
			vars = append(vars, envVar{name, value})
		}
	}
	// Sorted for a deterministic outcome; a repeated name keeps its last value.
	slices.SortStableFunc(vars, func(a, b envVar) int { return cmp.Compare(a.name, b.name) })

	root := reflect.ValueOf(c).Elem()
	for _, ev := range vars {
		tail := asciiUpper(strings.TrimPrefix(ev.name, envPrefix))
		t, ok := resolveEnv(tail, root, "")
		if !ok {
			hint := suggest(ev.name, envNames(root, envPrefix))
			if strings.Contains(hint, `"`+ev.name+`"`) { // the name exists: for more than one key
				hint = " (it reads as a key of more than one endpoint: use RATELIMIT_ENDPOINTS_<index>_<KEY>)"
			}
			if hint == "" && strings.HasPrefix(tail, "ENDPOINTS_") {
				hint = " (RATELIMIT_ENDPOINTS_<NAME>_<KEY> and RATELIMIT_ENDPOINTS_<index>_<KEY> only reach endpoints defined in the configuration file)"
			}
			warnf("unknown environment variable %s ignored%s", ev.name, hint)
			continue
		}
		x, ok := parseEnvValue(ev.value, t.typ)
		if !ok {
			ps.Add(t.key, "must be %s, got %q (from %s)", describeEnvType(t.typ), ev.value, ev.name)
			continue
		}
		if prev, ok := src.from[t.key]; ok {
			// An endpoint's key by name and by index: one key, two variables.
			warnf("environment variables %s and %s both set %s: %s applies", prev, ev.name, t.key, ev.name)
		}
		src.from[t.key] = ev.name
		if _, seen := src.from[t.newTable]; t.newTable != "" && !seen {
			src.from[t.newTable] = ev.name
			// A tier named as a known one is no typo of it: "anonymous", which applies
			// without being configured, given limits of its own.
			if hint := suggest(t.newTier, known); hint != "" && !slices.Contains(known, t.newTier) {
				warnf("environment variable %s creates tier %q%s", ev.name, t.newTier, hint)
				src.from[t.newTable] = fmt.Sprintf("%s, which creates tier %q: %s", ev.name, t.newTier, strings.TrimSuffix(strings.TrimPrefix(hint, " ("), ")"))
			}
		}
		t.set(x)
		src.set[t.key] = ev.value != ""
	}
	return src
}

// tierNames lists the tier names c configures, in any rule, and "anonymous", which
// applies without being configured: the names a new tier's could be a typo of.
func tierNames(c config.Config) []string {
	names := []string{"anonymous"}
	add := func(tiers map[string]config.Limits) {
		for name := range tiers {
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	add(c.Tiers)
	for _, e := range c.Endpoints {
		add(e.Tiers)
	}
	slices.Sort(names) // suggest's choice among equally close names is the first
	return names
}

// annotate appends " (from <source>)" to every problem at or under a key or table the
// variables set, so that a problem of a value from the environment names its variable
// whatever check found it (parsing, an enum, a range); the most specific key's source
// wins. Problems that name their variable already (unparsable values) are left as they are.
func (e envSources) annotate(ps []config.Problem) {
	for i, p := range ps {
		if strings.Contains(p.Message, " (from "+envPrefix) {
			continue
		}
		best := ""
		for key := range e.from {
			if within(p.Key, key) && len(key) > len(best) {
				best = key
			}
		}
		if best != "" {
			ps[i].Message += " (from " + e.from[best] + ")"
		}
	}
}

// asciiUpper upper-cases the ASCII letters of s and leaves every other byte as it is: a
// variable name whose letters only Unicode case mapping turns into a key's (the dotless ı
// of "lımıt" into I) names no key.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// resolveEnv finds the key that name (a variable name without the prefix, upper case)
// sets below v, whose key path is key.
func resolveEnv(name string, v reflect.Value, key string) (envTarget, bool) {
	switch v.Kind() {
	case reflect.Struct:
		for _, f := range fieldsOf(v.Type()) {
			upper := strings.ToUpper(f.name)
			fv := v.FieldByIndex(f.index)
			fk := problem.JoinKey(key, f.name)
			if name == upper && isEnvLeaf(fv.Type()) {
				return envTarget{key: fk, typ: fv.Type(), set: fv.Set}, true
			}
			if rest, ok := strings.CutPrefix(name, upper+"_"); ok {
				if t, ok := resolveEnv(rest, fv, fk); ok {
					return t, true
				}
			}
		}
	case reflect.Slice:
		// Lists of tables (endpoints, windows) are reached by index, for existing entries;
		// endpoints also by name.
		if v.Type().Elem().Kind() != reflect.Struct {
			return envTarget{}, false
		}
		byName, named := resolveEnvEndpoint(name, v, key)
		num, rest, ok := strings.Cut(name, "_")
		if i, err := strconv.Atoi(num); ok && err == nil && i >= 0 && i < v.Len() && num == strconv.Itoa(i) {
			byIndex, indexed := resolveEnv(rest, v.Index(i), fmt.Sprintf("%s[%d]", key, i))
			if indexed && named && byIndex.key != byName.key {
				return envTarget{}, false // an endpoint named like another's index: neither
			}
			return byIndex, indexed
		}
		return byName, named
	case reflect.Map:
		return resolveEnvMap(name, v, key)
	}
	return envTarget{}, false
}

// resolveEnvEndpoint resolves "<NAME>_<KEY>" in the endpoints list, by each endpoint's
// name (or the slug of its pattern) in its environment form, [envName]: so an override
// follows its endpoint when the file is reordered. A variable that reads as a key of more
// than one endpoint — two names alike in that form (a-b, a.b), or one name continuing
// another's key (compute_tiers_premium and compute's tiers.premium) — reaches none: it
// would otherwise set a key the operator did not mean, maybe a higher limit.
func resolveEnvEndpoint(name string, v reflect.Value, key string) (envTarget, bool) {
	eps, ok := v.Interface().([]config.Endpoint)
	if !ok {
		return envTarget{}, false
	}
	var (
		found envTarget
		n     int
	)
	for i, e := range eps {
		rest, ok := strings.CutPrefix(name, envName(e.RuleName())+"_")
		if !ok {
			continue
		}
		if t, ok := resolveEnv(rest, v.Index(i), fmt.Sprintf("%s[%d]", key, i)); ok {
			found, n = t, n+1
		}
	}
	return found, n == 1
}

// envName is a name in the form environment variables use: upper-cased, with "-" and "."
// turned into "_".
func envName(name string) string {
	return strings.NewReplacer("-", "_", ".", "_").Replace(strings.ToUpper(name))
}

// envNames lists the variable names that set a key below v, whose name is prefix: every
// leaf of the configuration, existing tiers and endpoints (by name) included, for "did you
// mean" suggestions.
func envNames(v reflect.Value, prefix string) []string {
	var names []string
	switch v.Kind() {
	case reflect.Struct:
		for _, f := range fieldsOf(v.Type()) {
			fv := v.FieldByIndex(f.index)
			name := prefix + strings.ToUpper(f.name)
			if isEnvLeaf(fv.Type()) {
				names = append(names, name)
			} else {
				names = append(names, envNames(fv, name+"_")...)
			}
		}
	case reflect.Slice:
		if eps, ok := v.Interface().([]config.Endpoint); ok {
			for i, e := range eps {
				names = append(names, envNames(v.Index(i), prefix+envName(e.RuleName())+"_")...)
			}
		} else if v.Type().Elem().Kind() == reflect.Struct {
			for i := range v.Len() {
				names = append(names, envNames(v.Index(i), prefix+strconv.Itoa(i)+"_")...)
			}
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			names = append(names, envNames(v.MapIndex(k), prefix+envName(k.String())+"_")...)
		}
	}
	return names
}

// resolveEnvMap resolves "<NAME>_<KEY>" in a map of tables (tiers). The name may contain
// underscores, so the split is chosen by the key that follows: a table already in the map
// (compared in its environment form, [envName]: "gold-plus" is GOLD_PLUS) wins, else the
// name is the longest one that leaves a valid key ("GOLD_PLUS_LIMIT" is
// tiers.gold_plus.limit). A new entry's name is lower-cased. A form two tables share
// reaches neither, whatever the map's order.
func resolveEnvMap(name string, m reflect.Value, key string) (envTarget, bool) {
	var splits []int // positions of "_", rightmost first
	for i := len(name) - 1; i > 0; i-- {
		if name[i] == '_' {
			splits = append(splits, i)
		}
	}
	existing := map[string]string{} // by the name's environment form, as endpoints
	shared := map[string]bool{}     // forms two tables share ("Gold" and "gold"): neither is reached
	for _, k := range m.MapKeys() {
		n := envName(k.String())
		if _, dup := existing[n]; dup {
			shared[n] = true
		}
		existing[n] = k.String()
	}
	try := func(pos int, requireExisting bool) (envTarget, bool) {
		upper, rest := name[:pos], name[pos+1:]
		entry, found := existing[upper]
		if shared[upper] || requireExisting != found {
			return envTarget{}, false
		}
		if !found {
			// A new table, unless its name continues an existing one's key: GOLD_WINDOWS_0
			// is gold's windows[0] (which gold, with limit and window, does not have),
			// not a new tier gold_windows_0.
			for n := range existing {
				if strings.HasPrefix(upper, n+"_") {
					return envTarget{}, false
				}
			}
			entry = strings.ToLower(upper)
		}
		elem := reflect.New(m.Type().Elem()).Elem()
		if found {
			elem.Set(m.MapIndex(reflect.ValueOf(entry)))
		}
		t, ok := resolveEnv(rest, elem, problem.JoinKey(key, entry))
		if !ok {
			return envTarget{}, false
		}
		if !found {
			t.newTier, t.newTable = entry, problem.JoinKey(key, entry)
		}
		set := t.set
		t.set = func(x reflect.Value) {
			set(x)
			if m.IsNil() {
				m.Set(reflect.MakeMap(m.Type()))
			}
			m.SetMapIndex(reflect.ValueOf(entry), elem)
		}
		return t, true
	}
	for _, requireExisting := range []bool{true, false} {
		for _, pos := range splits {
			if t, ok := try(pos, requireExisting); ok {
				return t, true
			}
		}
	}
	return envTarget{}, false
}

// isEnvLeaf reports whether a key of type t can be set from one variable: scalars,
// durations, optional booleans and lists of strings.
func isEnvLeaf(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64:
		return true
	case reflect.Pointer:
		return t.Elem().Kind() == reflect.Bool
	case reflect.Slice:
		return t.Elem().Kind() == reflect.String || t.Elem().Kind() == reflect.Int
	}
	return false
}

// parseEnvValue parses the value of a variable for a key of type t. An empty value sets the
// zero value, which means the key's default. Lists are comma-separated, with spaces around
// items trimmed and empty items dropped.
func parseEnvValue(s string, t reflect.Type) (reflect.Value, bool) {
	trimmed := strings.TrimSpace(s)
	x := reflect.New(t).Elem()
	if trimmed == "" && t.Kind() != reflect.String {
		return x, true
	}
	switch {
	case t == durationType:
		d, err := parseDuration(trimmed)
		if err != nil {
			return x, false
		}
		x.SetInt(int64(d))
	case t.Kind() == reflect.String:
		x.SetString(s)
	case t.Kind() == reflect.Bool || t.Kind() == reflect.Pointer:
		b, err := strconv.ParseBool(trimmed)
		if err != nil {
			return x, false
		}
		if t.Kind() == reflect.Pointer {
			x.Set(reflect.ValueOf(config.Bool(b)))
		} else {
			x.SetBool(b)
		}
	case x.CanInt():
		n, err := strconv.ParseInt(trimmed, 10, t.Bits())
		if err != nil {
			return x, false
		}
		x.SetInt(n)
	case x.CanFloat():
		f, err := strconv.ParseFloat(trimmed, 64)
		if err != nil {
			return x, false
		}
		x.SetFloat(f)
	case t.Kind() == reflect.Slice:
		for item := range strings.SplitSeq(s, ",") {
			if item = strings.TrimSpace(item); item == "" {
				continue
			}
			e, ok := parseEnvValue(item, t.Elem())
			if !ok {
				return reflect.New(t).Elem(), false
			}
			x = reflect.Append(x, e)
		}
	default:
		return x, false
	}
	return x, true
}

// describeEnvType is describeType for a variable: booleans also take 1 and 0.
func describeEnvType(t reflect.Type) string {
	if t.Kind() == reflect.Bool || t.Kind() == reflect.Pointer {
		return "true, false, 1 or 0"
	}
	return describeType(t)
}
