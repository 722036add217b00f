// Command configref writes the key tables of docs/configuration.md from the configuration
// types, so that the reference cannot drift from the code:
//
//	go run ./tools/configref docs/configuration.md   (make config-ref)
//
// Each table goes between two HTML comments that name the sections whose keys it lists
// ("top" for the top-level keys, "rules" for the <rule>.* keys, "endpoints" for the other
// endpoints[<i>].* keys, else the first part of the key path):
//
//	<!-- configref:begin redis -->
//	…generated…
//	<!-- configref:end -->
//
// A key's row gives its TOML path and type (from the koanf tags of config.Config), its
// default (from config.DefaultConfig), its RATELIMIT_* environment variable (the loader's
// naming, SPEC section 4), and its validation rule and meaning (from config.Reference,
// whose checks validation runs). It fails when a key of the types is not in the reference
// or the reference lists a key the types lack, and when a key belongs to no table.
// With -check it writes nothing and fails when the file differs from what it would write.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ratewarden/ratewarden/core/config"
)

func main() {
	check := flag.Bool("check", false, "fail when the file is not up to date instead of writing it")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: configref [-check] docs/configuration.md")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *check); err != nil {
		fmt.Fprintln(os.Stderr, "configref:", err)
		os.Exit(1)
	}
}

// run regenerates the tables of the file at path, or with check only compares them.
func run(path string, check bool) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	updated, err := Generate(old)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case bytes.Equal(old, updated):
		return nil
	case check:
		return fmt.Errorf("%s is out of date with core/config: run make config-ref", path)
	}
	return os.WriteFile(path, updated, 0o644)
}

// Key is one row of the reference: a key of config.Config and what config.Reference says
// about it.
type Key struct {
	config.KeyDoc
	Type string // "integer", "duration", "list of strings", …
	Env  string // RATELIMIT_… with <NAME>, <i> and <RULE> placeholders
}

// markerRE matches a region of generated text: its sections, then its current content.
var markerRE = regexp.MustCompile(`(?s)<!-- configref:begin ([a-z_ ]+) -->\n(.*?)<!-- configref:end -->`)

// Generate returns doc with the content of every configref region replaced by the table
// of its sections' keys.
func Generate(doc []byte) ([]byte, error) {
	keys, err := Keys()
	if err != nil {
		return nil, err
	}
	placed := map[string]bool{}
	var problems []string
	out := markerRE.ReplaceAllFunc(doc, func(region []byte) []byte {
		sections := strings.Fields(string(markerRE.FindSubmatch(region)[1]))
		var rows []Key
		for _, k := range keys {
			if slices.Contains(sections, section(k.Key)) {
				rows = append(rows, k)
				placed[k.Key] = true
			}
		}
		if len(rows) == 0 {
			problems = append(problems, fmt.Sprintf("region %q lists no key", strings.Join(sections, " ")))
		}
		return fmt.Appendf(nil, "<!-- configref:begin %s -->\n%s<!-- configref:end -->", strings.Join(sections, " "), table(rows))
	})
	for _, k := range keys {
		if !placed[k.Key] {
			problems = append(problems, fmt.Sprintf("%s (section %q) is in no configref region", k.Key, section(k.Key)))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return out, nil
}

// section is the table a key belongs to.
func section(key string) string {
	switch {
	case strings.HasPrefix(key, "<rule>."):
		return "rules"
	case strings.HasPrefix(key, "endpoints[<i>]."):
		return "endpoints"
	case !strings.Contains(key, "."):
		return "top"
	}
	first, _, _ := strings.Cut(key, ".")
	return first
}

// table renders rows as a Markdown table.
func table(rows []Key) string {
	var b strings.Builder
	b.WriteString("| key | type | default | environment | rule | meaning |\n|---|---|---|---|---|---|\n")
	for _, k := range rows {
		rule := k.Rule
		if rule == "" {
			rule = "—"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | `%s` | %s | %s |\n", k.Key, k.Type, cell(k.Default), k.Env, cell(rule), cell(k.Meaning))
	}
	return b.String()
}

// cell escapes the pipes of a table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// ruleKeys are the keys every rule (default, tiers.<name>, endpoints[<i>],
// endpoints[<i>].tiers.<name>) has, which the reference lists once as <rule>.*.
var ruleKeys = []string{"limit", "window", "windows[<i>].limit", "windows[<i>].window", "cost"}

// Keys lists the keys of config.Config in the order of config.Reference, with their types,
// defaults and environment variables. It fails when the two do not list the same keys.
func Keys() ([]Key, error) {
	found := map[string]leaf{}
	defaults := reflect.ValueOf(config.DefaultConfig())
	walk(reflect.TypeFor[config.Config](), defaults, "", found)

	var keys []Key
	var problems []string
	for _, d := range config.Reference() {
		l, ok := found[d.Key]
		if !ok {
			problems = append(problems, d.Key+" is in config.Reference but not in config.Config")
			continue
		}
		delete(found, d.Key)
		k := Key{KeyDoc: d, Type: typeName(l.typ), Env: envName(d.Key)}
		if k.Default == "" {
			k.Default = l.def
		}
		keys = append(keys, k)
	}
	for _, key := range slices.Sorted(maps.Keys(found)) {
		problems = append(problems, key+" is in config.Config but not in config.Reference")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return keys, nil
}

// leaf is a key of the types: its Go type and its default as the reference shows it.
type leaf struct {
	typ reflect.Type
	def string
}

// walk adds every leaf key below t (at key path prefix) to found; def is the default value
// at that path, or invalid below lists and maps of tables, which have no defaults.
func walk(t reflect.Type, def reflect.Value, prefix string, found map[string]leaf) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("koanf"), ",")
		var fv reflect.Value
		if def.IsValid() {
			fv = def.Field(i)
		}
		switch {
		case !f.IsExported():
			continue
		case opts == "squash":
			walk(f.Type, fv, prefix, found)
			continue
		case name == "":
			continue
		}
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		ft := f.Type
		switch {
		case ft.Kind() == reflect.Struct && ft != durationType:
			walk(ft, fv, key, found)
		case ft.Kind() == reflect.Map:
			walk(ft.Elem(), reflect.Value{}, key+".<name>", found)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			walk(ft.Elem(), reflect.Value{}, key+"[<i>]", found)
		default:
			if _, seen := found[ruleKey(key)]; !seen { // a rule's limits: [default]'s come first
				found[ruleKey(key)] = leaf{typ: ft, def: defaultOf(key, fv)}
			}
		}
	}
}

// ruleKey writes the limits of any rule as <rule>.*: "tiers.<name>.limit" is
// "<rule>.limit".
func ruleKey(key string) string {
	for _, rule := range []string{"endpoints[<i>].tiers.<name>.", "tiers.<name>.", "endpoints[<i>].", "default."} {
		if rest, ok := strings.CutPrefix(key, rule); ok && slices.Contains(ruleKeys, rest) {
			return "<rule>." + rest
		}
	}
	return key
}

// defaultOf shows the default of key, whose value in the default configuration is v
// (invalid for keys of tables in lists and maps). Only [default] has default limits.
func defaultOf(key string, v reflect.Value) string {
	if strings.HasPrefix(key, "default.") && ruleKey(key) != key {
		if !v.IsValid() || v.IsZero() {
			return "—"
		}
		return "— (`default`: " + format(v) + ")"
	}
	if !v.IsValid() {
		return "—"
	}
	return format(v)
}

var durationType = reflect.TypeFor[time.Duration]()

// format writes a default value as TOML, in backquotes.
func format(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	return "`" + toml(v) + "`"
}

func toml(v reflect.Value) string {
	switch {
	case v.Type() == durationType:
		return strconv.Quote(shortDuration(time.Duration(v.Int())))
	case v.Kind() == reflect.String:
		return strconv.Quote(v.String())
	case v.Kind() == reflect.Float64:
		s := strconv.FormatFloat(v.Float(), 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	case v.Kind() == reflect.Slice:
		items := make([]string, v.Len())
		for i := range items {
			items[i] = toml(v.Index(i))
		}
		return "[" + strings.Join(items, ", ") + "]"
	}
	return fmt.Sprint(v.Interface())
}

// shortDuration writes d as the docs write durations: "1m", "1h", "100ms", where
// time.Duration says "1m0s" and "1h0m0s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// typeName is a key's type in the reference's words.
func typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "duration"
	case t.Kind() == reflect.Pointer:
		return typeName(t.Elem())
	case t.Kind() == reflect.Bool:
		return "bool"
	case t.Kind() == reflect.String:
		return "string"
	case t.Kind() == reflect.Float64:
		return "number"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return "list of strings"
	case t.Kind() == reflect.Slice:
		return "list of integers"
	}
	return "integer"
}

// envName is the environment variable of a key (SPEC section 4): RATELIMIT_ and the key
// path upper-cased with "." and list indexes turned into "_". Endpoints are shown by name
// (RATELIMIT_ENDPOINTS_<NAME>_…; the index form works too), a rule's limits as
// RATELIMIT_<RULE>_….
func envName(key string) string {
	key = strings.ToUpper(key) // <rule> is <RULE>, <name> <NAME>, <i> <I>
	return "RATELIMIT_" + strings.NewReplacer("ENDPOINTS[<I>]", "ENDPOINTS_<NAME>", "[<I>]", "_<i>", ".", "_").Replace(key)
}
