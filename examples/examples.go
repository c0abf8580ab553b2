// Package examples embeds the example specs that `worker -dev` serves and
// syncs, so the first run shows real syncs wherever the binary runs.
package examples

import (
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed specs
var files embed.FS

// Specs is the file system of example specs, rooted at the spec files.
func Specs() fs.FS {
	sub, err := fs.Sub(files, "specs")
	if err != nil {
		panic(err) // the embed directive guarantees the directory
	}
	return sub
}

// Names lists the example spec files, sorted.
func Names() []string {
	entries, _ := fs.ReadDir(files, "specs")
	var out []string
	for _, e := range entries {
		if ext := path.Ext(e.Name()); ext == ".yaml" || ext == ".json" {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// ID is the source ID of an example file: its name without the extension.
func ID(name string) string { return strings.TrimSuffix(name, path.Ext(name)) }
