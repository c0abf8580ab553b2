package fetch

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// A Request with a Method other than GET (a GraphQL introspection POST)
// goes through the same guard, limits, redirect rules and error
// classification as a GET; only the request line and body differ. A POST
// carries no conditional headers: servers answer POSTs without validators.

// PostJSON returns req as a POST of v encoded as JSON (Content-Type
// application/json). The body is sent again on a 307 or 308 redirect; a
// 301, 302 or 303 turns it into a GET, as browsers do.
func PostJSON(req Request, v any) (Request, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return req, err
	}
	req.Method, req.Body, req.ContentType = http.MethodPost, body, "application/json"
	req.ETag, req.LastModified = "", ""
	return req, nil
}

// method is the request's HTTP method, GET when unset.
func (r Request) method() string {
	if r.Method == "" {
		return http.MethodGet
	}
	return strings.ToUpper(r.Method)
}

// newHTTPRequest builds the request line and body; headers are the caller's.
func (r Request) newHTTPRequest(ctx context.Context, u *url.URL) (*http.Request, error) {
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body) // sets GetBody, so a 307/308 resends it
	}
	return http.NewRequestWithContext(ctx, r.method(), u.String(), body)
}
