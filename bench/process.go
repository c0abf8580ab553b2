package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// scenarioProcess times whole processes, as a user or a CI job runs them:
// a no-change `starter sync --wait --json` against bench/bareclient, a
// minimal Go client that starts and awaits the bare two-activity workflow,
// alternating, on the same embedded server. Both binaries are built first
// (go build), so compilation is not measured; -old-starter adds another
// starter binary to the comparison.
func scenarioProcess(ctx context.Context, e *benchEnv, cfg config) (*table, error) {
	n := cfg.n
	if n == 0 {
		n = 20
	}
	bin, err := os.MkdirTemp("", "livesync-bench-bin-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(bin)
	progs := []struct{ name, pkg string }{{"starter", "./starter"}, {"starter-full", "./starter/starter-full"}, {"bareclient", "./bench/bareclient"}}
	for _, p := range progs {
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(bin, p.name), p.pkg).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %w\n%s", p.pkg, err, out)
		}
	}
	body, err := petstore()
	if err != nil {
		return nil, err
	}
	url := e.specs.set("/process/petstore.yaml", body)
	storeURL := "file://" + filepath.Join(e.dir, "store")
	global := []string{"--address", e.server.FrontendHostPort(), "--namespace", e.server.Namespace(), "--store", storeURL}
	type contender struct {
		name string
		args func(i int) []string
	}
	starterArgs := func(path string) func(int) []string {
		return func(int) []string {
			return append([]string{path, "sync", "--source", url, "--id", "bench-process", "--wait", "--json"}, global...)
		}
	}
	cs := []contender{
		{"bare client (start + await a two-activity workflow)", func(i int) []string {
			return []string{filepath.Join(bin, "bareclient"), "-address", e.server.FrontendHostPort(), "-namespace", e.server.Namespace(), "-id", fmt.Sprintf("bench-process-bare-%d", i)}
		}},
		{"starter sync --wait --json (no change)", starterArgs(filepath.Join(bin, "starter"))},
	}
	if cfg.oldStarter != "" {
		cs = append(cs, contender{"older starter (" + cfg.oldStarter + ")", starterArgs(cfg.oldStarter)})
	}
	// The first sync stores version 1; every measured sync is a no-change one.
	if _, err := runProcess(ctx, starterArgs(filepath.Join(bin, "starter"))(0)); err != nil {
		return nil, err
	}
	times := make([][]time.Duration, len(cs))
	for i := 0; i < n+cfg.warmup; i++ {
		for k, c := range cs {
			d, err := runProcess(ctx, c.args(i))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
			if i >= cfg.warmup {
				times[k] = append(times[k], d)
			}
		}
	}
	t := &table{title: fmt.Sprintf("Whole process: no-change sync vs a bare client (%d runs each, alternating)", n),
		head: []string{"process", "mean ms", "p50 ms", "p95 ms", "× bare (p50)"}}
	base := summarize(times[0])
	for k, c := range cs {
		s := summarize(times[k])
		t.add(c.name, ms(s.mean), ms(s.p50), ms(s.p95), fmt.Sprintf("%.2f", float64(s.p50)/float64(base.p50)))
	}
	t.notes = append(t.notes, "each process dials the server, runs, and exits; binaries built with go build beforehand")
	return t, nil
}

// runProcess runs a command and returns its wall time.
func runProcess(ctx context.Context, args []string) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	err := cmd.Run()
	d := time.Since(t0)
	if err != nil {
		return d, fmt.Errorf("%v: %w\n%s", args, err, out.String())
	}
	return d, nil
}
