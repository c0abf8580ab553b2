package fetch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/apilivesync/apilivesync/internal/source"
)

// fileValidator is the weak validator of a file: its modification time and
// size. A rewrite that keeps both (same size within one mtime tick) is not
// noticed; everything else is.
func fileValidator(fi fs.FileInfo) string {
	return fmt.Sprintf("%s size=%d", fi.ModTime().UTC().Format(time.RFC3339Nano), fi.Size())
}

// filePath turns Request.File (a path or a file:// URL) into a path,
// relative ones prefixed with BaseDir; source.Roots resolves it.
func (f *Fetcher) filePath(file string) (string, error) {
	p := file
	if strings.HasPrefix(strings.ToLower(file), "file:") {
		u, err := url.Parse(file)
		if err != nil {
			return "", fmt.Errorf("invalid file URL: %w", err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return "", fmt.Errorf("file URL names host %q; only local files are read", u.Host)
		}
		p = u.Path
		if u.Opaque != "" { // "file:relative/path"
			p = u.Opaque
		}
		if p == "" {
			return "", errors.New("file URL has no path")
		}
	}
	p = filepath.FromSlash(p)
	if !filepath.IsAbs(p) && f.opts.BaseDir != "" {
		// Not filepath.Join: ".." is resolved after symbolic links, by
		// source.Roots, the way the kernel would.
		p = strings.TrimSuffix(f.opts.BaseDir, string(filepath.Separator)) + string(filepath.Separator) + p
	}
	return p, nil
}

func (f *Fetcher) fetchFile(ctx context.Context, req Request) (*Response, error) {
	start := f.now()
	path, err := f.filePath(req.File)
	if err != nil {
		return nil, &Error{Source: req.SourceID, Target: "read " + req.File, Kind: KindBadRequest, Err: err}
	}
	target := "read " + path
	fail := func(kind string, temporary bool, err error) (*Response, error) {
		e := &Error{Source: req.SourceID, Target: target, Kind: kind, Temporary: temporary, Err: err}
		f.logResult(req, target, start, 0, 0, 0, e)
		return nil, e
	}
	if err := ctx.Err(); err != nil {
		return fail(KindCanceled, false, fmt.Errorf("canceled: %w", context.Cause(ctx)))
	}
	// Confined to the roots: resolved, checked, then opened through an
	// os.Root, so nothing outside them is ever opened.
	fh, resolved, err := source.Roots(f.opts.SourceRoots).Open(path)
	if err != nil {
		var pe *source.PathError
		if errors.As(err, &pe) {
			return fail(KindRefusedPath, false, pe)
		}
		if errors.Is(err, source.ErrNotRegular) {
			return fail(KindBadRequest, false, err)
		}
		return fail(fileErrorKind(err))
	}
	defer fh.Close()
	if resolved != path {
		target += " (" + resolved + ")"
	}
	fi, err := fh.Stat()
	if err != nil {
		return fail(fileErrorKind(err))
	}
	if !fi.Mode().IsRegular() {
		return fail(KindBadRequest, false, fmt.Errorf("not a regular file (%s)", fi.Mode().Type()))
	}
	out := &Response{
		LastModified: fileValidator(fi),
		ContentType:  contentTypeByExt(path),
		FinalURL:     (&url.URL{Scheme: "file", Path: filepath.ToSlash(absOrSelf(path))}).String(),
	}
	if req.LastModified != "" && req.LastModified == out.LastModified {
		out.NotModified = true
		f.logResult(req, target, start, 0, 0, 0, nil)
		return out, nil
	}
	if fi.Size() > f.opts.MaxBytes {
		return fail(KindTooLarge, false, fmt.Errorf("%w: file is %d bytes, over the %d-byte limit", ErrTooLarge, fi.Size(), f.opts.MaxBytes))
	}
	body, err := f.readBody(fh, false, fi.Size())
	switch {
	case errors.Is(err, ErrTooLarge):
		return fail(KindTooLarge, false, err)
	case errors.Is(err, errBadGzip):
		return fail(KindBadRequest, false, err)
	case err != nil:
		return fail(KindIO, true, err)
	}
	out.Body = body
	f.logResult(req, target, start, 0, int64(len(body)), 0, nil)
	return out, nil
}

func fileErrorKind(err error) (string, bool, error) {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return KindFileNotFound, false, fmt.Errorf("no such file (relative paths resolve against the configured base directory): %w", err)
	case errors.Is(err, fs.ErrPermission):
		return KindBadRequest, false, err
	}
	return KindIO, true, err
}

func absOrSelf(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

func contentTypeByExt(path string) string {
	ext := strings.ToLower(filepath.Ext(strings.TrimSuffix(strings.ToLower(path), ".gz")))
	switch ext {
	case ".json":
		return "application/json"
	case ".yaml", ".yml":
		return "application/yaml"
	}
	return ""
}
