package cli

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/workflows/engine"
)

// The keys of `engine config` and `engine set` are engine.EngineConfig's
// JSON field names, read from the type itself, so a field added to the
// contract is shown and settable without a change here.

// configField is one key of engine.EngineConfig.
type configField struct {
	key   string
	value reflect.Value // addressable when taken from a pointer
}

func configFields(c *engine.EngineConfig) []configField {
	rv := reflect.ValueOf(c).Elem()
	var out []configField
	for i := range rv.NumField() {
		name, _, _ := strings.Cut(rv.Type().Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		out = append(out, configField{key: name, value: rv.Field(i)})
	}
	return out
}

// configKeys lists the keys `engine set` takes.
func configKeys() []string {
	var keys []string
	for _, f := range configFields(&engine.EngineConfig{}) {
		keys = append(keys, f.key)
	}
	return keys
}

func (f configField) String() string {
	switch v := f.value.Addr().Interface().(type) {
	case *source.Duration:
		return v.Std().String()
	default:
		return fmt.Sprint(f.value.Interface())
	}
}

// set parses value for the field's type; the error names the key.
func (f configField) set(value string) error {
	bad := func(want string) error {
		return fmt.Errorf("%s=%s: want %s", f.key, value, want)
	}
	switch p := f.value.Addr().Interface().(type) {
	case *int:
		n, err := strconv.Atoi(value)
		if err != nil || n < 0 {
			return bad("a whole number, 0 or more (0: the default)")
		}
		*p = n
	case *bool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return bad("true or false")
		}
		*p = b
	case *source.Duration:
		d, err := time.ParseDuration(value)
		if err != nil || d < 0 {
			return bad("a duration like 500ms, 30s or 5m (0: the default)")
		}
		*p = source.Duration(d)
	default:
		return fmt.Errorf("%s: the starter cannot set a %s; use `starter apply -f FILE`", f.key, f.value.Type())
	}
	return nil
}

// SetEngineConfig changes the named keys of c ("maxConcurrent=4",
// "paused=true"), all or none: every unknown key and bad value is
// reported, naming it, and c is then left as it was.
func SetEngineConfig(c *engine.EngineConfig, assignments []string) error {
	next := *c
	fields := map[string]configField{}
	for _, f := range configFields(&next) {
		fields[strings.ToLower(f.key)] = f
	}
	var errs []error
	for _, a := range assignments {
		k, v, ok := strings.Cut(a, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			errs = append(errs, fmt.Errorf("%q: want KEY=VALUE, e.g. maxConcurrent=4", a))
			continue
		}
		f, known := fields[strings.ToLower(k)]
		if !known {
			errs = append(errs, fmt.Errorf("unknown key %q: want one of %s", k, strings.Join(configKeys(), ", ")))
			continue
		}
		if err := f.set(v); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	*c = next
	return nil
}

func (s *Starter) cmdEngineConfig(fs *pflag.FlagSet, g *globals) runFunc {
	return func(ctx context.Context, args []string) error {
		if len(args) > 0 {
			return &ExitError{Code: 2, Err: fmt.Errorf("engine config: unexpected arguments %q (to change settings: starter engine set KEY=VALUE)", args)}
		}
		c, err := s.dial(ctx, g)
		if err != nil {
			return err
		}
		defer c.Close()
		var cfg engine.EngineConfig
		if err := engine.Query(ctx, c, engine.QueryGetConfig, &cfg); err != nil {
			return err
		}
		return s.printConfig(g, cfg)
	}
}

func (s *Starter) printConfig(g *globals, cfg engine.EngineConfig) error {
	if g.json {
		return s.printJSON(cfg)
	}
	tw := tabwriter.NewWriter(s.Stdout, 2, 4, 2, ' ', 0)
	for _, f := range configFields(&cfg) {
		fmt.Fprintf(tw, "%s\t%s\n", f.key, f)
	}
	return tw.Flush()
}

func (s *Starter) cmdEngineSet(fs *pflag.FlagSet, g *globals) runFunc {
	return func(ctx context.Context, args []string) error {
		if len(args) == 0 {
			return &ExitError{Code: 2, Err: fmt.Errorf("engine set: give KEY=VALUE (keys: %s)", strings.Join(configKeys(), ", "))}
		}
		// Checked before dialing: a typo never waits for a server.
		if err := SetEngineConfig(&engine.EngineConfig{}, args); err != nil {
			return &ExitError{Code: 2, Err: fmt.Errorf("engine set: nothing changed:\n%w", err)}
		}
		c, err := s.dial(ctx, g)
		if err != nil {
			return err
		}
		defer c.Close()
		cfg, err := currentEngineConfig(ctx, c)
		if err != nil {
			return err
		}
		if err := SetEngineConfig(&cfg, args); err != nil {
			return &ExitError{Code: 2, Err: fmt.Errorf("engine set: nothing changed:\n%w", err)}
		}
		var out engine.EngineConfig
		if err := engine.Update(ctx, c, engine.UpdateUpdateConfig, cfg, &out); err != nil {
			return fmt.Errorf("nothing changed: %w", err)
		}
		return s.printConfig(g, out)
	}
}

// currentEngineConfig reads the running engine's configuration; an engine
// not started yet has the zero one, which it fills with its defaults.
func currentEngineConfig(ctx context.Context, c client.Client) (engine.EngineConfig, error) {
	var cfg engine.EngineConfig
	v, err := c.QueryWorkflow(ctx, engine.EngineWorkflowID, "", engine.QueryGetConfig)
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		return cfg, nil
	case err != nil:
		return cfg, fmt.Errorf("query engine %s: %w", engine.QueryGetConfig, err)
	}
	return cfg, v.Get(&cfg)
}
