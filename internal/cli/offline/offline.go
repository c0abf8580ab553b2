// Package offline holds the starter's commands that need neither a
// Temporal server nor the version store: diff, validate and rules on
// files and URLs. It links neither the Temporal SDK nor the store's
// drivers, so the starter program runs these commands in a process of
// about raw libopenapi's size (docs/STARTUP_MEMORY.md) and hands every
// other command line to the full starter (internal/cli), which runs the
// same commands with stored versions (API@VERSION) as well.
package offline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// ExitError carries a process exit code (e.g. 1 for a breaking change found).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Exit ends the program for a command's error: its exit code (1 unless an
// ExitError says otherwise), and the error on stderr unless it is a bare
// exit code. A nil error returns.
func Exit(err error) {
	if err == nil {
		return
	}
	code := 1
	var e *ExitError
	if errors.As(err, &e) {
		code = e.Code
	}
	if e == nil || e.Err != nil {
		fmt.Fprintln(os.Stderr, "starter:", err)
	}
	os.Exit(code)
}

// ErrNeedsStore is returned for an API@VERSION argument where no store is
// linked (Env.Stored nil): the light starter hands the command line over.
var ErrNeedsStore = errors.New("this argument names a stored version: the full starter reads it")

// Env is what the commands read from the program that runs them.
type Env struct {
	Stdout io.Writer
	// JSON is the --json flag every starter command takes.
	JSON *bool
	// Stored reads an API@VERSION argument from the version store; nil
	// where the store is not linked.
	Stored func(ctx context.Context, ref string, strict bool) (Arg, error)
}

// RunFunc runs a command with its positional arguments, its flags parsed.
type RunFunc func(ctx context.Context, args []string) error

// Command is one offline command: its name, usage, help and flags.
type Command struct {
	Name, Args, Help string
	Build            func(e *Env, fs *pflag.FlagSet) RunFunc
}

// Commands are the offline commands, in the order help lists them.
var Commands = []Command{
	{"diff", "OLD NEW [--format text|markdown|json] [--fail-on-breaking|--fail-on error|warning] [--rules FILE] [--strict]", "what changed between two files, URLs or stored versions (API@VERSION); works offline", Diff},
	{"validate", "FILE|URL|API@VERSION [--strict] [--json]", "parse and check a spec as a sync would: its kind, counts and warnings; exit 1 when it would be refused; works offline", Validate},
	{"rules", "[--kind openapi|graphql|postman] [--rules FILE] [--format text|markdown] [--json]", "list every breaking-change rule: ID, level (error, warning, info) and what it means", Rules},
}

// Positional wants exactly n positional arguments (any number when n < 0),
// or says what is missing.
func Positional(fs *pflag.FlagSet, args []string, n int, want string) ([]string, error) {
	if n >= 0 && len(args) != n {
		return nil, &ExitError{Code: 2, Err: fmt.Errorf("%s: give %s", fs.Name(), want)}
	}
	return args, nil
}

// PrintJSON writes v as indented JSON.
func PrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// LongFlags accepts Go-style single-dash long flags (-source x, -json), as
// the starter always has, by giving cobra the double-dash form.
func LongFlags(root *cobra.Command, args []string) []string {
	cmd, _, err := root.Find(args)
	if err != nil || cmd == nil {
		cmd = root
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if a == "--" {
			copy(out[i:], args[i:])
			break
		}
		if len(a) >= 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if cmd.Flags().Lookup(name) != nil || cmd.InheritedFlags().Lookup(name) != nil {
				out[i] = "-" + a
			}
		}
	}
	return out
}

// Run runs a command line (without the program name) if it is an offline
// command on files and URLs: handled is false for anything else (another
// command, a stored version, a flag only the full starter knows, help of
// the whole program), which the caller hands to the full starter.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) (handled bool, err error) {
	var json bool
	e := &Env{Stdout: stdout, JSON: &json}
	root := &cobra.Command{Use: "starter", SilenceUsage: true, SilenceErrors: true}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().BoolVar(&json, "json", false, "print JSON")
	ran := false
	for _, c := range Commands {
		cmd := &cobra.Command{Use: c.Name + " " + c.Args, Short: c.Help}
		run := c.Build(e, cmd.Flags())
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			ran = true
			return run(cmd.Context(), args)
		}
		root.AddCommand(cmd)
	}
	cmd, _, err := root.Find(args)
	if err != nil || cmd == root || usesFullFlag(args) {
		return false, nil
	}
	root.SetArgs(LongFlags(root, args))
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &ExitError{Code: 2, Err: err} })
	err = root.ExecuteContext(ctx)
	if errors.Is(err, ErrNeedsStore) || (err == nil && !ran && !helpAsked(args)) {
		return false, nil
	}
	return true, err
}

// FullOnlyFlags are the flags every command of the full starter takes
// that only it acts on (the Temporal server and the store): a command line
// with one goes to the full starter, which knows them.
var FullOnlyFlags = []string{"address", "namespace", "data", "store"}

func usesFullFlag(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if slices.Contains(FullOnlyFlags, name) {
			return true
		}
	}
	return false
}

func helpAsked(args []string) bool {
	for _, a := range args {
		if a == "--help" || a == "-h" || a == "-help" {
			return true
		}
	}
	return false
}
