package configfile

import (
	"fmt"
	"reflect"

	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/internal/problem"
)

// In a Config built in code, a zero field means its default. In a file or the environment,
// a key written with a zero value is different: the user chose it. explicitZeros reports
// every such key that defaulting would silently replace — `limit = 0` becoming 100,
// `max_retries = 0` becoming 2 — instead of letting it pass.

// noneKeys are the settings whose "none" is -1, because their zero means the default.
var noneKeys = map[string]bool{"jwt.leeway": true, "redis.max_retries": true, "metrics.top_clients": true}

// leafKeys adds to keys the path of every value in raw (a parsed TOML table) that is not
// itself a table, in the form problems use: "redis.max_retries", "endpoints[0].limit".
func leafKeys(key string, raw any, keys map[string]bool) {
	switch x := raw.(type) {
	case map[string]any:
		for name, v := range x {
			leafKeys(problem.JoinKey(key, name), v, keys)
		}
	case []any:
		keys[key] = true
		for i, v := range x {
			if _, table := v.(map[string]any); table {
				leafKeys(fmt.Sprintf("%s[%d]", key, i), v, keys)
			}
		}
	default:
		keys[key] = true
	}
}

// explicitZeros walks a decoded configuration (before) and its defaulted copy (after) in
// step and adds a problem for every key in explicit that before holds as zero and after
// replaced.
func explicitZeros(ps *problem.List, key string, before, after reflect.Value, explicit map[string]bool) {
	switch before.Kind() {
	case reflect.Struct:
		for _, f := range fieldsOf(before.Type()) {
			explicitZeros(ps, problem.JoinKey(key, f.name), before.FieldByIndex(f.index), after.FieldByIndex(f.index), explicit)
		}
		return
	case reflect.Map, reflect.Slice:
		if before.Type().Elem().Kind() == reflect.Struct { // tiers and endpoints: never defaulted
			// default.windows is the one list of tables defaulting replaces: written empty,
			// with no limit and window beside it, it would be the default limit and window
			// (an endpoint's or a tier's empty windows fail validation as "no limits").
			if key == "default.windows" && explicit[key] && before.Len() == 0 && !explicit["default.limit"] && !explicit["default.window"] {
				ps.Add(key, "is empty, which would silently mean the default limit and window: give at least one window, or leave the key out for the default")
				(*ps)[len(*ps)-1].Value = "[]"
			}
			return
		}
	}
	if !explicit[key] || !before.IsZero() || reflect.DeepEqual(before.Interface(), after.Interface()) {
		return
	}
	hint := ""
	if noneKeys[key] {
		hint = "; -1 means none"
	}
	ps.Add(key, "is set to %s, which would silently mean the default %s: leave the key out for the default%s",
		formatSetting(before), formatSetting(after), hint)
	(*ps)[len(*ps)-1].Value = settingValue(before)
}

// formatSetting writes a setting as it would appear in messages: durations and strings
// quoted, pointers dereferenced.
// settingValue is v as a Problem's Value: as formatSetting shows it, unquoted.
func settingValue(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if x, ok := v.Interface().(fmt.Stringer); ok {
		return x.String()
	}
	return fmt.Sprint(v.Interface())
}

func formatSetting(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "unset"
		}
		v = v.Elem()
	}
	if v.Kind() == reflect.String { // string, and the enums: Mode, Backend, FailMode
		return fmt.Sprintf("%q", v.String())
	}
	if x, ok := v.Interface().(fmt.Stringer); ok {
		return fmt.Sprintf("%q", x.String())
	}
	return fmt.Sprint(v.Interface())
}

// explicitZeroCosts adds a problem for every `cost = 0` the file or the environment set: a
// zero cost means "the rule's cost, else 1", which a written 0 would silently become.
func explicitZeroCosts(ps *problem.List, c config.Config, explicit map[string]bool) {
	check := func(key string, l config.Limits) {
		if l.Cost == 0 && explicit[key+".cost"] {
			ps.Add(key+".cost", "must be ≥ 1, got %d: leave the key out for the rule's cost (or 1)", 0)
		}
	}
	checkTiers := func(key string, tiers map[string]config.Limits) {
		for name, l := range tiers {
			check(problem.JoinKey(key, name), l)
		}
	}
	check("default", c.Default)
	checkTiers("tiers", c.Tiers)
	for i, e := range c.Endpoints {
		key := fmt.Sprintf("endpoints[%d]", i)
		check(key, e.Limits)
		checkTiers(key+".tiers", e.Tiers)
	}
}
