package promlimit_test

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// exported are the series names a scrape can hold, with the default namespace.
var exported = map[string]bool{
	"ratelimit_requests_total":               true,
	"ratelimit_exceeded_total":               true,
	"ratelimit_current_usage":                true,
	"ratelimit_redis_latency_seconds_bucket": true,
	"ratelimit_redis_latency_seconds_count":  true,
	"ratelimit_redis_latency_seconds_sum":    true,
	"ratelimit_redis_errors_total":           true,
	"ratelimit_redis_latency_seconds":        false, // the family, not a series
}

var metricRef = regexp.MustCompile(`ratelimit_[a-z_]+`)

// checkExpr checks that a PromQL expression names only exported series and that its
// brackets balance.
func checkExpr(t *testing.T, where, expr string) {
	t.Helper()
	require.NotEmpty(t, expr, where)
	for _, name := range metricRef.FindAllString(expr, -1) {
		assert.True(t, exported[name], "%s: %s is not exported", where, name)
	}
	var stack []rune
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{'}
	inString := false
	for _, r := range expr {
		switch {
		case r == '"':
			inString = !inString
		case inString:
		case r == '(' || r == '[' || r == '{':
			stack = append(stack, r)
		case pairs[r] != 0:
			if assert.NotEmpty(t, stack, "%s: unbalanced %q in %s", where, r, expr) {
				assert.Equal(t, pairs[r], stack[len(stack)-1], "%s: %s", where, expr)
				stack = stack[:len(stack)-1]
			}
		}
	}
	assert.Empty(t, stack, "%s: unclosed brackets in %s", where, expr)
	assert.False(t, inString, "%s: unclosed string in %s", where, expr)
}

func TestGrafanaDashboardIsValid(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../docs/grafana-dashboard.json")
	require.NoError(t, err)
	var dash struct {
		Title      string `json:"title"`
		UID        string `json:"uid"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			Type       string `json:"type"`
			Title      string `json:"title"`
			Datasource struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(raw, &dash))
	assert.NotEmpty(t, dash.Title)
	assert.NotEmpty(t, dash.UID)

	vars := map[string]string{}
	for _, v := range dash.Templating.List {
		vars[v.Name] = v.Type
	}
	assert.Equal(t, "datasource", vars["datasource"], "a datasource template variable")

	var exprs []string
	for _, p := range dash.Panels {
		if p.Type == "row" {
			continue
		}
		assert.Equal(t, "${datasource}", p.Datasource.UID, p.Title)
		require.NotEmpty(t, p.Targets, p.Title)
		for _, tg := range p.Targets {
			expr := strings.ReplaceAll(tg.Expr, "${prefix}", "ratelimit")
			checkExpr(t, p.Title, expr)
			exprs = append(exprs, expr)
		}
	}
	all := strings.Join(exprs, "\n")
	for _, want := range []string{
		"sum by (decision) (rate(ratelimit_requests_total",   // request rate by decision
		"sum by (rule, tier) (rate(ratelimit_exceeded_total", // denials by rule and tier
		"ratelimit_current_usage",                            // top clients
		"histogram_quantile(0.5, ", "histogram_quantile(0.95, ", "histogram_quantile(0.99, ",
		"sum by (kind) (rate(ratelimit_redis_errors_total", // errors by kind
	} {
		assert.Contains(t, all, want)
	}
}

func TestAlertRulesAreValid(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../docs/alerts.yml")
	require.NoError(t, err)
	var file struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&file))
	require.Len(t, file.Groups, 1)

	rules := map[string]string{}
	for _, g := range file.Groups {
		assert.NotEmpty(t, g.Name)
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Alert)
			checkExpr(t, r.Alert, r.Expr)
			assert.Regexp(t, `^\d+[smh]$`, r.For, r.Alert)
			assert.NotEmpty(t, r.Labels["severity"], r.Alert)
			assert.NotEmpty(t, r.Annotations["summary"], r.Alert)
			assert.NotEmpty(t, r.Annotations["description"], r.Alert)
			rules[r.Alert] = strings.Join(strings.Fields(r.Expr), " ") + " for " + r.For
		}
	}
	assert.Contains(t, rules["RateLimitClientPinnedAtLimit"], "ratelimit_current_usage) >= 0.95 for 10m")
	assert.Contains(t, rules["RateLimitRedisErrors"], "ratelimit_redis_errors_total")
	assert.Contains(t, rules["RateLimitRedisCircuitOpen"], `rate(ratelimit_redis_errors_total{kind="circuit_open"}[1m])) > 0`)
	assert.Contains(t, rules["RateLimitErrorDecisionsRising"], `ratelimit_requests_total{decision="error"}`)
}
