package cli_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/apilivesync/apilivesync/internal/cli"
	"github.com/apilivesync/apilivesync/internal/cli/offline"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/workflows/engine"
)

func TestDeriveID(t *testing.T) {
	for _, tc := range []struct{ loc, want string }{
		// The README's example: a name that says nothing takes its directory's.
		{"./api/openapi.yaml", "api-openapi"},
		{"/home/me/api/openapi.yaml", "api-openapi"},
		{`C:\specs\swagger.json`, "specs-swagger"},
		{"openapi.yaml", "openapi"},
		{"/openapi.yaml", "openapi"},
		{"./specs/payments.json", "payments"},
		{"/proc/self/environ", "environ"},
		{"./my spec (v2).yaml", "my-spec--v2"},
		{"./.yaml", "source"},
		// URLs take the host instead, as they always have.
		{"https://x/y/petstore.yaml", "petstore"},
		{"http://localhost:8080/openapi.json", "localhost-8080-openapi"},
		{"https://api.example.com/v1/swagger.json?x=1", "api-example-com-swagger"},
		{"https://api.example.com/specs/", "specs"},
		{"https://api.example.com", "api-example-com"},
	} {
		t.Run(tc.loc, func(t *testing.T) {
			got := cli.DeriveID(tc.loc)
			require.Equal(t, tc.want, got)
			require.NoError(t, source.ValidID("source", got))
		})
	}
}

func TestSetEngineConfig(t *testing.T) {
	cfg := engine.EngineConfig{MaxConcurrent: 10, FailureThreshold: 5}
	require.NoError(t, cli.SetEngineConfig(&cfg, []string{"maxConcurrent=3", "jitter=30s", "Paused=true", "batchWindow=500ms", "continueAsNewAfter=200"}))
	require.Equal(t, engine.EngineConfig{MaxConcurrent: 3, FailureThreshold: 5, Jitter: source.Duration(30 * time.Second), Paused: true,
		BatchWindow: source.Duration(500 * time.Millisecond), ContinueAsNewAfter: 200}, cfg)

	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"unknown key", []string{"maxConcurent=3"}, []string{`unknown key "maxConcurent"`, "maxConcurrent, failureThreshold"}},
		{"not a number", []string{"failureThreshold=many"}, []string{"failureThreshold=many", "whole number"}},
		{"negative", []string{"maxConcurrent=-1"}, []string{"maxConcurrent=-1"}},
		{"not a duration", []string{"jitter=soon"}, []string{"jitter=soon", "duration"}},
		{"negative duration", []string{"batchWindow=-1s"}, []string{"batchWindow=-1s"}},
		{"not a bool", []string{"paused=maybe"}, []string{"paused=maybe", "true or false"}},
		{"no value", []string{"paused"}, []string{`"paused": want KEY=VALUE`}},
		{"every error at once", []string{"jitter=x", "nope=1"}, []string{"jitter=x", `"nope"`}},
		{"all or none", []string{"maxConcurrent=4", "nope=1"}, []string{`"nope"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := cfg
			err := cli.SetEngineConfig(&cfg, tc.args)
			require.Error(t, err)
			for _, w := range tc.want {
				require.ErrorContains(t, err, w)
			}
			require.Equal(t, before, cfg, "a bad value changes nothing")
		})
	}
}

// TestAIFlagsAreChecked: sync and engine add take --ai-retry-window and
// --ai-max-reasks for the source; negative values are refused (exit 2)
// before any server is dialled, naming the field and the source.
func TestAIFlagsAreChecked(t *testing.T) {
	errNoServer := errors.New("no server in this test")
	for _, tc := range []struct {
		args []string
		want string // "": accepted, so the starter dials
	}{
		{[]string{"sync", "--source", "https://x.example.com/a.json", "--id", "a", "--ai-max-reasks", "-1"}, `source "a": aiMaxReasks -1: must not be negative`},
		{[]string{"engine", "add", "--source", "https://x.example.com/a.json", "--id", "a", "--ai-retry-window", "-5m"}, `source "a": aiRetryWindow -5m0s: must not be negative`},
		{[]string{"sync", "--source", "https://x.example.com/a.json", "--ai-max-reasks", "0", "--ai-retry-window", "10m"}, ""},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			s := &cli.Starter{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" },
				Dial: func(context.Context, string, string) (client.Client, error) { return nil, errNoServer }}
			err := s.Run(t.Context(), tc.args)
			if tc.want == "" {
				require.ErrorIs(t, err, errNoServer)
				return
			}
			var exit *cli.ExitError
			require.ErrorAs(t, err, &exit)
			require.Equal(t, 2, exit.Code)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// The light starter hands a command line with one of the full starter's
// own global flags to it: offline.FullOnlyFlags must name them all.
func TestFullOnlyFlagsAreTheGlobalFlags(t *testing.T) {
	root := (&cli.Starter{}).Command()
	var names []string
	root.PersistentFlags().VisitAll(func(f *pflag.Flag) {
		if f.Name != "json" {
			names = append(names, f.Name)
		}
	})
	require.ElementsMatch(t, offline.FullOnlyFlags, names)
}
