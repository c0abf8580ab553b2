package store

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/encrypt"
	"gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/gcerrors"
)

// s3:// buckets go through this small gocloud.dev/blob driver over
// minio-go rather than gocloud.dev/blob/s3blob, whose AWS SDK took a fifth
// of the binaries' size. The worker and the starter open stores the same way,
// so both use it. The URL parameters keep s3blob's names, so existing store
// URLs keep working:
//
//	s3://BUCKET?region=R&endpoint=HOST[:PORT]&use_path_style=true&disable_https=true&profile=P&anonymous=true
//
//   - region: the bucket's region; else AWS_REGION or AWS_DEFAULT_REGION;
//     else asked of the service (GetBucketLocation).
//   - endpoint: an S3-compatible service, as host[:port] or a full http(s)://
//     URL (its scheme then decides HTTPS); default: AWS S3.
//   - use_path_style (or s3ForcePathStyle): true for path-style requests
//     (host/bucket/key), false for virtual-hosted ones (bucket.host/key);
//     unset: virtual-hosted on AWS, path-style elsewhere.
//   - disable_https: true for plain HTTP to a scheme-less endpoint.
//   - profile: the shared credentials file's profile (default AWS_PROFILE,
//     then "default").
//   - anonymous: true sends unsigned requests.
//   - dualstack, accelerate: AWS's dual-stack and Transfer Acceleration
//     endpoints.
//   - ssetype (AES256, aws:kms) and kmskeyid: server-side encryption of
//     writes and copies.
//   - hostname_immutable: accepted; a non-AWS endpoint is always used as
//     given.
//   - awssdk: accepted and ignored (it chose s3blob's SDK version).
//   - prefix: handled by gocloud for every scheme.
//
// Any other parameter is an error naming it. Credentials come from the
// usual AWS chain as minio-go has it: AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; the shared credentials file
// (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials); then IAM (web
// identity via AWS_WEB_IDENTITY_TOKEN_FILE, the ECS container endpoint, EC2
// instance metadata).

// s3Scheme is the URL scheme the driver is registered under.
const s3Scheme = "s3"

func init() {
	blob.DefaultURLMux().RegisterBucket(s3Scheme, s3URLOpener{})
}

type s3URLOpener struct{}

// OpenBucketURL opens an s3:// URL (see above).
func (s3URLOpener) OpenBucketURL(ctx context.Context, u *url.URL) (*blob.Bucket, error) {
	b, err := openS3Bucket(u)
	if err != nil {
		return nil, fmt.Errorf("open bucket %s: %w", redactURL(u), err)
	}
	return blob.NewBucket(b), nil
}

// redactURL drops a URL's user info, which no s3 URL should carry anyway.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}

func openS3Bucket(u *url.URL) (*s3Bucket, error) {
	name := u.Host
	if name == "" {
		return nil, errors.New("s3 URL needs a bucket name: s3://BUCKET")
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("s3 URL has a path %q: a key prefix goes in the prefix= parameter", u.Path)
	}
	var (
		region                  = os.Getenv("AWS_REGION")
		endpoint, profile       string
		anonymous, disableHTTPS bool
		pathStyle               *bool
		dualstack, accelerate   bool
		sseType, kmsKeyID       string
	)
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys) // report the first bad parameter deterministically
	for _, k := range keys {
		if len(q[k]) > 1 {
			return nil, fmt.Errorf("s3 URL parameter %q is given more than once", k)
		}
		v := q.Get(k)
		var err error
		switch k {
		case "region":
			region = v
		case "endpoint":
			endpoint = v
		case "profile":
			profile = v
		case "anonymous":
			anonymous, err = strconv.ParseBool(v)
		case "disable_https":
			disableHTTPS, err = strconv.ParseBool(v)
		case "use_path_style", "s3ForcePathStyle":
			var b bool
			if b, err = strconv.ParseBool(v); err == nil {
				pathStyle = &b
			}
		case "dualstack":
			dualstack, err = strconv.ParseBool(v)
		case "accelerate":
			accelerate, err = strconv.ParseBool(v)
		case "ssetype":
			sseType = v
		case "kmskeyid":
			kmsKeyID = v
		case "hostname_immutable":
			_, err = strconv.ParseBool(v)
		case "awssdk":
		default:
			return nil, fmt.Errorf("unknown s3 URL parameter %q", k)
		}
		if err != nil {
			return nil, fmt.Errorf("invalid value %q for s3 URL parameter %q", v, k)
		}
	}

	secure := !disableHTTPS
	host := "s3.amazonaws.com"
	if endpoint != "" {
		host = endpoint
		if strings.Contains(endpoint, "://") {
			e, err := url.Parse(endpoint)
			if err != nil {
				return nil, fmt.Errorf("invalid s3 endpoint %q: %w", endpoint, err)
			}
			switch e.Scheme {
			case "http":
				secure = false
			case "https":
				secure = true
			default:
				return nil, fmt.Errorf("invalid s3 endpoint %q: the scheme must be http or https", endpoint)
			}
			if e.Host == "" || (e.Path != "" && e.Path != "/") || e.RawQuery != "" || e.User != nil {
				return nil, fmt.Errorf("invalid s3 endpoint %q: want http(s)://HOST[:PORT]", endpoint)
			}
			host = e.Host
		}
	}

	var creds *credentials.Credentials
	if anonymous {
		creds = credentials.NewStaticV4("", "", "") // no keys: unsigned requests
	} else {
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{},
			&credentials.FileAWSCredentials{Profile: profile},
			&credentials.IAM{},
		})
	}

	var sse encrypt.ServerSide
	switch strings.ToLower(sseType) {
	case "":
		if kmsKeyID != "" {
			return nil, errors.New(`s3 URL parameter "kmskeyid" needs ssetype=aws:kms`)
		}
	case "aes256":
		if kmsKeyID != "" {
			return nil, errors.New(`s3 URL parameter "kmskeyid" needs ssetype=aws:kms`)
		}
		sse = encrypt.NewSSE()
	case "aws:kms":
		var err error
		if sse, err = encrypt.NewSSEKMS(kmsKeyID, nil); err != nil {
			return nil, fmt.Errorf("s3 URL parameter %q: %w", "kmskeyid", err)
		}
	default:
		return nil, fmt.Errorf("s3 URL parameter %q: %q is not supported (AES256 or aws:kms)", "ssetype", sseType)
	}

	opts := &minio.Options{Creds: creds, Secure: secure, Region: region}
	if pathStyle != nil {
		opts.BucketLookup = minio.BucketLookupDNS
		if *pathStyle {
			opts.BucketLookup = minio.BucketLookupPath
		}
	}
	client, err := minio.New(host, opts)
	if err != nil {
		return nil, err
	}
	if dualstack {
		client.SetS3EnableDualstack(true)
	}
	if accelerate {
		client.SetS3TransferAccelerate("s3-accelerate.amazonaws.com")
	}
	return &s3Bucket{client: client, name: name, sse: sse}, nil
}

// s3Bucket is a driver.Bucket over a minio-go client.
type s3Bucket struct {
	client *minio.Client
	name   string
	sse    encrypt.ServerSide
}

var _ driver.Bucket = (*s3Bucket)(nil)

// errorResponse is err's S3 error response, if it carries one.
func errorResponse(err error) (minio.ErrorResponse, bool) {
	var er minio.ErrorResponse
	if errors.As(err, &er) {
		return er, true
	}
	var erp *minio.ErrorResponse
	if errors.As(err, &erp) && erp != nil {
		return *erp, true
	}
	return minio.ErrorResponse{}, false
}

func (b *s3Bucket) ErrorCode(err error) gcerrors.ErrorCode {
	switch {
	case err == nil:
		return gcerrors.OK
	case errors.Is(err, context.Canceled):
		return gcerrors.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return gcerrors.DeadlineExceeded
	}
	er, ok := errorResponse(err)
	if !ok {
		return gcerrors.Unknown
	}
	switch er.Code {
	case "NoSuchKey", "NoSuchBucket", "NotFound", "ObjectNotInActiveTierError":
		return gcerrors.NotFound
	case "PreconditionFailed":
		return gcerrors.FailedPrecondition
	case "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled":
		return gcerrors.PermissionDenied
	case "NotImplemented":
		return gcerrors.Unimplemented
	case "SlowDown", "RequestLimitExceeded":
		return gcerrors.ResourceExhausted
	case "InvalidArgument", "InvalidBucketName", "KeyTooLongError", "InvalidRange":
		return gcerrors.InvalidArgument
	}
	switch er.StatusCode {
	case http.StatusNotFound, http.StatusMovedPermanently:
		return gcerrors.NotFound
	case http.StatusPreconditionFailed:
		return gcerrors.FailedPrecondition
	case http.StatusUnauthorized, http.StatusForbidden:
		return gcerrors.PermissionDenied
	case http.StatusNotImplemented:
		return gcerrors.Unimplemented
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return gcerrors.ResourceExhausted
	case http.StatusBadRequest, http.StatusRequestedRangeNotSatisfiable:
		return gcerrors.InvalidArgument
	}
	if er.StatusCode >= 500 {
		return gcerrors.Internal
	}
	return gcerrors.Unknown
}

// As exposes the *minio.Client.
func (b *s3Bucket) As(i any) bool {
	p, ok := i.(**minio.Client)
	if !ok {
		return false
	}
	*p = b.client
	return true
}

// ErrorAs exposes minio.ErrorResponse (as a value or a pointer).
func (b *s3Bucket) ErrorAs(err error, i any) bool {
	er, ok := errorResponse(err)
	if !ok {
		return false
	}
	switch p := i.(type) {
	case *minio.ErrorResponse:
		*p = er
		return true
	case **minio.ErrorResponse:
		*p = &er
		return true
	}
	return false
}

// quoteETag is an ETag in its quoted HTTP form ("" stays empty).
func quoteETag(etag string) string {
	if etag = strings.Trim(etag, `"`); etag == "" {
		return ""
	}
	return `"` + etag + `"`
}

// eTagMD5 is an ETag's MD5: single-part uploads' ETags are the content's
// MD5 in hex; multipart and encrypted ones are not.
func eTagMD5(etag string) []byte {
	etag = strings.Trim(etag, `"`)
	if len(etag) != 32 {
		return nil
	}
	md5, err := hex.DecodeString(etag)
	if err != nil {
		return nil
	}
	return md5
}

func (b *s3Bucket) Attributes(ctx context.Context, key string) (*driver.Attributes, error) {
	info, err := b.client.StatObject(ctx, b.name, key, minio.StatObjectOptions{})
	if err != nil {
		return nil, err
	}
	md := make(map[string]string, len(info.UserMetadata))
	for k, v := range info.UserMetadata {
		md[strings.ToLower(k)] = v
	}
	return &driver.Attributes{
		CacheControl:       info.Metadata.Get("Cache-Control"),
		ContentDisposition: info.Metadata.Get("Content-Disposition"),
		ContentEncoding:    info.Metadata.Get("Content-Encoding"),
		ContentLanguage:    info.Metadata.Get("Content-Language"),
		ContentType:        info.ContentType,
		Metadata:           md,
		ModTime:            info.LastModified,
		Size:               info.Size,
		MD5:                eTagMD5(info.ETag),
		ETag:               quoteETag(info.ETag),
		AsFunc: func(i any) bool {
			p, ok := i.(*minio.ObjectInfo)
			if ok {
				*p = info
			}
			return ok
		},
	}, nil
}

const s3DefaultPageSize = 1000

// s3PageToken is a page token: S3's continuation token and the last key
// handed out. Every key of a later page sorts after that key; some
// S3-compatible services (gofakes3 among them) continue a delimited listing
// from a key inside the last "directory" and so repeat it, and those
// repeats are dropped.
type s3PageToken struct {
	Continuation string `json:"c"`
	After        string `json:"a"`
}

func (b *s3Bucket) ListPaged(ctx context.Context, opts *driver.ListOptions) (*driver.ListPage, error) {
	pageSize := opts.PageSize
	if pageSize <= 0 || pageSize > s3DefaultPageSize {
		pageSize = s3DefaultPageSize
	}
	var tok s3PageToken
	if len(opts.PageToken) > 0 {
		if err := json.Unmarshal(opts.PageToken, &tok); err != nil || tok.Continuation == "" {
			return nil, minio.ErrorResponse{Code: "InvalidArgument", Message: "invalid page token", StatusCode: http.StatusBadRequest}
		}
	}
	if opts.BeforeList != nil {
		if err := opts.BeforeList(func(any) bool { return false }); err != nil {
			return nil, err
		}
	}
	page := &driver.ListPage{}
	for {
		res, err := b.listV2(ctx, opts.Prefix, tok.Continuation, opts.Delimiter, pageSize)
		if err != nil {
			return nil, err
		}
		for _, obj := range res.Contents {
			if tok.After != "" && obj.Key <= tok.After {
				continue
			}
			page.Objects = append(page.Objects, &driver.ListObject{
				Key:     obj.Key,
				ModTime: obj.LastModified,
				Size:    obj.Size,
				MD5:     eTagMD5(obj.ETag),
				AsFunc: func(i any) bool {
					p, ok := i.(*minio.ObjectInfo)
					if ok {
						*p = obj
					}
					return ok
				},
			})
		}
		for _, cp := range res.CommonPrefixes {
			if tok.After != "" && cp.Prefix <= tok.After {
				continue
			}
			page.Objects = append(page.Objects, &driver.ListObject{Key: cp.Prefix, IsDir: true})
		}
		if !res.IsTruncated || res.NextContinuationToken == "" {
			break
		}
		tok.Continuation = res.NextContinuationToken
		if len(page.Objects) > 0 {
			// S3 answers blobs and "directories" in two lists; a page is one sorted list.
			sort.Slice(page.Objects, func(i, j int) bool { return page.Objects[i].Key < page.Objects[j].Key })
			tok.After = page.Objects[len(page.Objects)-1].Key
			next, err := json.Marshal(tok)
			if err != nil {
				return nil, err
			}
			page.NextPageToken = next
			return page, nil
		}
		// Only repeats: on to the next S3 page.
	}
	sort.Slice(page.Objects, func(i, j int) bool { return page.Objects[i].Key < page.Objects[j].Key })
	return page, nil
}

// listV2 is one ListObjectsV2 request. minio-go's only call that exposes
// continuation tokens and page boundaries (Core.ListObjectsV2) takes no
// context, so a cancelled ctx returns at once and leaves the request to
// finish on its own, within the transport's timeouts.
func (b *s3Bucket) listV2(ctx context.Context, prefix, token, delimiter string, maxKeys int) (minio.ListBucketV2Result, error) {
	if err := ctx.Err(); err != nil {
		return minio.ListBucketV2Result{}, err
	}
	type result struct {
		res minio.ListBucketV2Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := minio.Core{Client: b.client}.ListObjectsV2(b.name, prefix, "", token, delimiter, maxKeys)
		done <- result{res, err}
	}()
	select {
	case <-ctx.Done():
		return minio.ListBucketV2Result{}, ctx.Err()
	case r := <-done:
		return r.res, r.err
	}
}

// s3Reader reads one object (or a range of it).
type s3Reader struct {
	body  io.ReadCloser
	attrs driver.ReaderAttributes
	info  minio.ObjectInfo
}

func (r *s3Reader) Read(p []byte) (int, error) { return r.body.Read(p) }
func (r *s3Reader) Close() error               { return r.body.Close() }

func (r *s3Reader) Attributes() *driver.ReaderAttributes { return &r.attrs }

// As exposes minio.ObjectInfo.
func (r *s3Reader) As(i any) bool {
	p, ok := i.(*minio.ObjectInfo)
	if ok {
		*p = r.info
	}
	return ok
}

func (b *s3Bucket) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *driver.ReaderOptions) (driver.Reader, error) {
	if length == 0 {
		// S3 has no empty range: the object's attributes and no bytes.
		info, err := b.client.StatObject(ctx, b.name, key, minio.StatObjectOptions{})
		if err != nil {
			return nil, err
		}
		if opts.BeforeRead != nil {
			if err := opts.BeforeRead(func(any) bool { return false }); err != nil {
				return nil, err
			}
		}
		return &s3Reader{body: io.NopCloser(bytes.NewReader(nil)), attrs: readerAttrs(info), info: info}, nil
	}
	var gopts minio.GetObjectOptions
	switch {
	case offset > 0 && length < 0:
		_ = gopts.SetRange(offset, 0)
	case length > 0:
		_ = gopts.SetRange(offset, offset+length-1)
	}
	if opts.BeforeRead != nil {
		if err := opts.BeforeRead(asOptions(&gopts)); err != nil {
			return nil, err
		}
	}
	body, info, _, err := minio.Core{Client: b.client}.GetObject(ctx, b.name, key, gopts)
	if err != nil {
		return nil, err
	}
	return &s3Reader{body: body, attrs: readerAttrs(info), info: info}, nil
}

func readerAttrs(info minio.ObjectInfo) driver.ReaderAttributes {
	return driver.ReaderAttributes{ContentType: info.ContentType, ModTime: info.LastModified, Size: info.Size}
}

// s3Writer buffers the object and puts it in one request on Close: the
// store writes small documents, and a single PUT is what carries a
// conditional write's If-None-Match.
type s3Writer struct {
	ctx         context.Context
	b           *s3Bucket
	key         string
	contentType string
	opts        *driver.WriterOptions
	buf         bytes.Buffer
}

func (w *s3Writer) Write(p []byte) (int, error) { return w.buf.Write(p) }

func (w *s3Writer) Close() error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	popts := minio.PutObjectOptions{
		ContentType:          w.contentType,
		CacheControl:         w.opts.CacheControl,
		ContentDisposition:   w.opts.ContentDisposition,
		ContentEncoding:      w.opts.ContentEncoding,
		ContentLanguage:      w.opts.ContentLanguage,
		UserMetadata:         w.opts.Metadata,
		ServerSideEncryption: w.b.sse,
		DisableMultipart:     true,
	}
	if w.opts.IfNotExist {
		popts.SetMatchETagExcept("*") // If-None-Match: *
	}
	if w.opts.BeforeWrite != nil {
		if err := w.opts.BeforeWrite(asOptions(&popts)); err != nil {
			return err
		}
	}
	data := w.buf.Bytes()
	for attempt := 1; ; attempt++ {
		_, err := w.b.client.PutObject(w.ctx, w.b.name, w.key, bytes.NewReader(data), int64(len(data)), popts)
		// S3 answers 409 ConditionalRequestConflict to a conditional write
		// that raced another one still in flight: try again, and the
		// loser then gets its 412.
		er, ok := errorResponse(err)
		if !ok || er.Code != "ConditionalRequestConflict" || attempt == 5 {
			return err
		}
		select {
		case <-w.ctx.Done():
			return w.ctx.Err()
		case <-time.After(time.Duration(attempt) * 50 * time.Millisecond):
		}
	}
}

func (b *s3Bucket) NewTypedWriter(ctx context.Context, key, contentType string, opts *driver.WriterOptions) (driver.Writer, error) {
	return &s3Writer{ctx: ctx, b: b, key: key, contentType: contentType, opts: opts}, nil
}

func (b *s3Bucket) Copy(ctx context.Context, dstKey, srcKey string, opts *driver.CopyOptions) error {
	dst := minio.CopyDestOptions{Bucket: b.name, Object: dstKey, Encryption: b.sse}
	src := minio.CopySrcOptions{Bucket: b.name, Object: srcKey}
	if opts.BeforeCopy != nil {
		asFunc := func(i any) bool {
			switch p := i.(type) {
			case **minio.CopyDestOptions:
				*p = &dst
			case **minio.CopySrcOptions:
				*p = &src
			default:
				return false
			}
			return true
		}
		if err := opts.BeforeCopy(asFunc); err != nil {
			return err
		}
	}
	_, err := b.client.CopyObject(ctx, dst, src)
	return err
}

// Delete removes key; S3 deletes a missing key without complaint, so it
// is looked up first to report NotFound.
func (b *s3Bucket) Delete(ctx context.Context, key string, opts *driver.DeleteOptions) error {
	if _, err := b.client.StatObject(ctx, b.name, key, minio.StatObjectOptions{}); err != nil {
		return err
	}
	var ropts minio.RemoveObjectOptions
	if opts.BeforeDelete != nil {
		if err := opts.BeforeDelete(asOptions(&ropts)); err != nil {
			return err
		}
	}
	return b.client.RemoveObject(ctx, b.name, key, ropts)
}

// SignedURL presigns GET, PUT (optionally for one Content-Type) and DELETE.
func (b *s3Bucket) SignedURL(ctx context.Context, key string, opts *driver.SignedURLOptions) (string, error) {
	if opts.EnforceAbsentContentType {
		return "", notImplemented("s3 signed URLs cannot enforce an absent Content-Type")
	}
	if opts.BeforeSign != nil {
		if err := opts.BeforeSign(func(any) bool { return false }); err != nil {
			return "", err
		}
	}
	var extra http.Header
	if opts.ContentType != "" {
		extra = http.Header{"Content-Type": {opts.ContentType}}
	}
	switch opts.Method {
	case http.MethodGet, http.MethodPut, http.MethodDelete:
	default:
		return "", notImplemented(fmt.Sprintf("s3 signed URLs: unsupported method %q", opts.Method))
	}
	u, err := b.client.PresignHeader(ctx, opts.Method, b.name, key, opts.Expiry, nil, extra)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// notImplemented is an S3-shaped NotImplemented error, which ErrorCode
// maps to gcerrors.Unimplemented.
func notImplemented(msg string) error {
	return minio.ErrorResponse{Code: "NotImplemented", Message: msg, StatusCode: http.StatusNotImplemented}
}

func (b *s3Bucket) Close() error { return nil }

// asOptions is the As function a Before* hook gets: it hands the hook the
// minio-go options about to be used, as *T.
func asOptions[T any](opts *T) func(any) bool {
	return func(i any) bool {
		p, ok := i.(**T)
		if ok {
			*p = opts
		}
		return ok
	}
}
