package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestTheDefaultRuleTakesEachMissingHalfFromTheDefaults(t *testing.T) {
	t.Parallel()
	assert.Equal(t, Limits{Limit: 200, Window: time.Minute}, Config{Default: Limits{Limit: 200}}.WithDefaults().Default)
	assert.Equal(t, Limits{Limit: 100, Window: time.Hour}, Config{Default: Limits{Window: time.Hour}}.WithDefaults().Default)
	windows := []WindowConfig{{Limit: 1, Window: time.Second}}
	assert.Equal(t, Limits{Windows: windows}, Config{Default: Limits{Windows: windows}}.WithDefaults().Default, "windows are left alone")
}
