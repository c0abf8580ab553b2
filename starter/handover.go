package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// FullEnv names the full starter's executable, overriding the search.
const FullEnv = "LIVESYNC_STARTER_FULL"

const fullName = "starter-full"

// fullStarter finds the full starter: $LIVESYNC_STARTER_FULL;
// starter-full beside this program (go build, go install ./..., the
// image); from a checkout of this module (go run ./starter), one the go
// command builds from it into the user's cache (up to date in a fraction
// of a second once built); else starter-full on PATH.
func fullStarter(ctx context.Context) (string, error) {
	if p := os.Getenv(FullEnv); p != "" {
		return p, nil
	}
	beside := filepath.Join(selfDir(), fullName+exeSuffix())
	if _, err := os.Stat(beside); err == nil {
		return beside, nil
	}
	if root := checkout(); root != "" {
		return buildFull(ctx, root)
	}
	if p, err := exec.LookPath(fullName); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("this command needs the full starter (Temporal client and version store), which is not beside this program, on PATH or in $%s: "+
		"build it beside this one with `go build -o %s ./starter/starter-full` (or `go install ./...`)", FullEnv, beside)
}

// selfDir is the directory of this program, symlinks resolved.
func selfDir() string {
	self, err := os.Executable()
	if err != nil {
		return "."
	}
	if real, err := filepath.EvalSymlinks(self); err == nil {
		self = real
	}
	return filepath.Dir(self)
}

func exeSuffix() string {
	if filepath.Ext(os.Args[0]) == ".exe" {
		return ".exe"
	}
	return ""
}

// modulePath is this program's module.
func modulePath() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path != "" {
		return bi.Main.Path
	}
	return "github.com/apilivesync/apilivesync"
}

// checkout is the root of the checkout of this module the working
// directory is in, or "".
func checkout() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if f, err := os.Open(filepath.Join(dir, "go.mod")); err == nil {
			defer f.Close()
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if name, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
					if strings.Trim(strings.TrimSpace(name), `"`) == modulePath() {
						return dir
					}
					break
				}
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// buildFull builds the full starter from a checkout into the user's cache
// (one per checkout); the go command relinks it only when the source
// changed.
func buildFull(ctx context.Context, root string) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", errors.New("the full starter is not built and there is no go command to build it: build ./starter/starter-full")
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	sum := sha256.Sum256([]byte(root))
	dir := filepath.Join(cache, "apilivesync", hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return "", err
	}
	defer unlock()
	out := filepath.Join(dir, fullName+exeSuffix())
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, modulePath()+"/starter/starter-full")
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build the full starter from %s: %w", root, err)
	}
	return out, nil
}
