package source

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// systemDirs are never read, whatever the roots say: they expose the
// worker's own environment, memory and devices.
var systemDirs = []string{"/proc", "/sys", "/dev"}

// Roots are the directories file sources may be read from, as the operator
// gave them (worker -source-dir; in -dev the working directory and the
// examples directory, see DevRoots). Empty Roots allow no file source.
//
// A path is resolved before it is checked: made absolute, its symbolic links
// and ".." followed (filepath.EvalSymlinks; a path that does not exist yet
// is resolved up to its deepest existing directory), and it must then lie
// inside a root, itself resolved the same way. /proc, /sys and /dev are
// refused even inside a root. Open reads through an os.Root, so a link
// swapped in after the check still cannot lead outside the root.
type Roots []string

// PathError is a file path refused by Roots or by a SecretPolicy. Its
// message names the path, what it resolves to and the allowed directories;
// it never contains anything read from the file.
type PathError struct {
	// Path is the path as given; Resolved is where it leads.
	Path, Resolved string
	// What is "file source" or "secret file".
	What string
	// Reason says why it was refused.
	Reason string
}

func (e *PathError) Error() string {
	p := e.Path
	if e.Resolved != "" && e.Resolved != e.Path {
		p += " (resolves to " + e.Resolved + ")"
	}
	return fmt.Sprintf("%s %s is refused: %s", e.What, p, e.Reason)
}

// ErrNotRegular is returned by Roots.Open for a directory, device, socket
// or FIFO inside the roots.
var ErrNotRegular = errors.New("not a regular file")

// DevRoots are the roots of -dev mode: the working directory and the
// examples directory (when not empty).
func DevRoots(examplesDir string) Roots {
	var r Roots
	if wd, err := os.Getwd(); err == nil {
		r = append(r, wd)
	}
	if examplesDir != "" {
		r = append(r, examplesDir)
	}
	return r
}

// String lists the roots for messages: "/srv/specs, /work" or "(none)".
func (r Roots) String() string { return listOrNone(r) }

// Resolve returns where path leads when it is inside one of the roots, or
// a *PathError naming the path and the roots.
func (r Roots) Resolve(path string) (string, error) {
	resolved, _, err := confine(path, r, "file source", "source roots", "start the worker with -source-dir DIR (-dev allows the working directory and the examples)")
	return resolved, err
}

// Open opens path for reading when it is a regular file inside one of the
// roots; resolved is where path leads. Nothing outside the roots is opened.
func (r Roots) Open(path string) (f *os.File, resolved string, err error) {
	return openConfined(path, r, "file source", "source roots", "start the worker with -source-dir DIR (-dev allows the working directory and the examples)")
}

// ValidateFile checks that a file source lies inside the roots; URL sources
// pass. It reads no file, though it follows symbolic links to resolve the
// path, so call it outside workflow code.
func (s Source) ValidateFile(r Roots) error {
	p := s.LocalFile()
	if p == "" || s.URL != "" {
		return nil
	}
	if _, err := r.Resolve(p); err != nil {
		return fmt.Errorf("source %q: %w", s.ID, err)
	}
	return nil
}

// confine resolves path and finds the directory of dirs that holds it.
func confine(path string, dirs []string, what, dirsName, hint string) (resolved, root string, err error) {
	refuse := func(reason string) (string, string, error) {
		return "", "", &PathError{Path: path, Resolved: resolved, What: what, Reason: reason}
	}
	if path == "" {
		return refuse("the path is empty")
	}
	resolved, err = resolvePath(path)
	if err != nil {
		return refuse(fmt.Sprintf("cannot resolve it: %v", unwrapPathErr(err)))
	}
	lexical := filepath.Clean(path)
	for _, sys := range systemDirs {
		if within(sys, resolved) || within(sys, lexical) {
			return refuse(fmt.Sprintf("%s, %s and %s are never read", systemDirs[0], systemDirs[1], systemDirs[2]))
		}
	}
	for _, d := range dirs {
		rd, err := resolvePath(d)
		if err != nil || rd == "" {
			continue
		}
		if within(rd, resolved) {
			return resolved, rd, nil
		}
	}
	if len(dirs) == 0 {
		return refuse(fmt.Sprintf("no %s are configured; %s", dirsName, hint))
	}
	return refuse(fmt.Sprintf("it is outside the %s: %s; %s", dirsName, listOrNone(dirs), hint))
}

// openConfined opens a regular file inside dirs through an os.Root, without
// blocking on a FIFO.
func openConfined(path string, dirs []string, what, dirsName, hint string) (*os.File, string, error) {
	resolved, root, err := confine(path, dirs, what, dirsName, hint)
	if err != nil {
		return nil, "", err
	}
	rel, err := filepath.Rel(root, resolved)
	if err != nil {
		return nil, resolved, err
	}
	rt, err := os.OpenRoot(root)
	if err != nil {
		return nil, resolved, err
	}
	defer rt.Close()
	f, err := rt.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, resolved, &fs.PathError{Op: "open", Path: resolved, Err: fs.ErrNotExist}
		}
		return nil, resolved, &PathError{Path: path, Resolved: resolved, What: what, Reason: unwrapPathErr(err).Error()}
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, resolved, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, resolved, fmt.Errorf("%s: %w (%s)", resolved, ErrNotRegular, fi.Mode().Type())
	}
	return f, resolved, nil
}

// resolvePath makes path absolute and follows its symbolic links and "..";
// a path that does not exist is resolved up to its deepest existing
// directory and the rest appended.
func resolvePath(path string) (string, error) {
	if !filepath.IsAbs(path) {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		// Not filepath.Join: it would apply ".." before the links are followed.
		path = wd + string(filepath.Separator) + path
	}
	r, err := filepath.EvalSymlinks(path)
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	clean := filepath.Clean(path)
	parent := filepath.Dir(clean)
	if parent == clean {
		return clean, nil
	}
	rp, err := resolvePath(parent)
	if err != nil {
		return "", err
	}
	return filepath.Join(rp, filepath.Base(clean)), nil
}

// within reports whether p is dir or lies under it; both are clean and absolute.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "(none)"
	}
	return strings.Join(l, ", ")
}
