package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// Records are small mutable JSON documents under "registry/": the engine's
// registry of sources, its queue of due syncs and its config. Unlike
// versions they are overwritten in place; the engine is their only writer
// for a given key, or the job that owns the key.
const recordPrefix = "registry/"

// GetRecord reads the record at key into v; ErrNotFound when absent.
func (s *Store) GetRecord(ctx context.Context, key string, v any) error {
	data, err := s.bucket.ReadAll(ctx, recordPrefix+key)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return fmt.Errorf("record %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("read record %s: %w", key, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("record %s is corrupt: %w", key, err)
	}
	return nil
}

// PutRecord writes v as the record at key.
func (s *Store) PutRecord(ctx context.Context, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := s.bucket.WriteAll(ctx, recordPrefix+key, data, nil); err != nil {
		return fmt.Errorf("write record %s: %w", key, err)
	}
	return nil
}

// DeleteRecord removes the record at key; a missing one is fine.
func (s *Store) DeleteRecord(ctx context.Context, key string) error {
	err := s.bucket.Delete(ctx, recordPrefix+key)
	if err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return fmt.Errorf("delete record %s: %w", key, err)
	}
	return nil
}

// ListRecords lists up to limit record keys under prefix in lexical order,
// starting after the page token (empty: from the first). The returned
// token is empty after the last page.
func (s *Store) ListRecords(ctx context.Context, prefix, token string, limit int) ([]string, string, error) {
	var pt []byte
	if token != "" {
		var err error
		if pt, err = base64.RawURLEncoding.DecodeString(token); err != nil {
			return nil, "", fmt.Errorf("list records %s: bad page token", prefix)
		}
	} else {
		pt = blob.FirstPageToken
	}
	if limit <= 0 {
		limit = 1000
	}
	objs, next, err := s.bucket.ListPage(ctx, pt, limit, &blob.ListOptions{Prefix: recordPrefix + prefix})
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, "", fmt.Errorf("list records %s: %w", prefix, err)
	}
	keys := make([]string, 0, len(objs))
	for _, o := range objs {
		if !o.IsDir {
			keys = append(keys, o.Key[len(recordPrefix):])
		}
	}
	if len(next) == 0 {
		return keys, "", nil
	}
	return keys, base64.RawURLEncoding.EncodeToString(next), nil
}
