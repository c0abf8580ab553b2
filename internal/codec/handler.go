package codec

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"

	"go.temporal.io/sdk/converter"
)

// MaxRequestBytes bounds a codec-server request body. Temporal refuses
// payloads over 2 MB, and the UI sends one event's payloads at a time.
const MaxRequestBytes = 16 << 20

// corsAllowHeaders are the request headers the Temporal Web UI sends to a
// codec server: X-Namespace always, Authorization and Authorization-Extras
// when it passes the user's access token.
const corsAllowHeaders = "Authorization, Authorization-Extras, Content-Type, X-Namespace"

// HandlerOptions configure Handler.
type HandlerOptions struct {
	// AllowedOrigins are the browser origins (scheme://host[:port], e.g.
	// http://127.0.0.1:8233, the dev server's UI) that may call the codec
	// server. A request carrying an Origin header not listed is refused
	// with 403, preflight or not; requests without Origin (the temporal CLI,
	// SDK remote codecs) are not affected. Empty means no browser access.
	AllowedOrigins []string
	// AuthToken, when set, is the bearer token every POST must carry
	// ("Authorization: Bearer <token>"); others get 401. Preflight requests
	// never carry credentials and are answered without it.
	AuthToken string
}

// Handler returns the codec server for keys: the Temporal codec-server
// protocol (POST of {"payloads":[...]} in proto JSON, answered in kind) on
// /encode and /decode, and on /{namespace}/encode and /{namespace}/decode,
// the shape the Temporal Web UI (endpoint + "/decode", with an X-Namespace
// header) and `temporal --codec-endpoint` call. One key ring serves every
// namespace. The codec work is converter.NewPayloadCodecHTTPHandler over
// NewCodec(keys); Handler adds CORS with credentials for
// opts.AllowedOrigins, the optional bearer token, a body limit, 404 for other
// paths and 405 for other methods.
//
// Handler panics if keys fails Validate, as NewCodec does.
func Handler(keys *Keys, opts HandlerOptions) http.Handler {
	codecHandler := converter.NewPayloadCodecHTTPHandler(NewCodec(keys))
	mux := http.NewServeMux()
	for _, pattern := range []string{"/encode", "/decode", "/{namespace}/encode", "/{namespace}/decode"} {
		mux.Handle("POST "+pattern, codecHandler)
	}
	origins := make(map[string]bool, len(opts.AllowedOrigins))
	for _, o := range opts.AllowedOrigins {
		origins[normalizeOrigin(o)] = true
	}
	return &codecServer{next: mux, origins: origins, token: opts.AuthToken}
}

type codecServer struct {
	next    http.Handler
	origins map[string]bool
	token   string
}

// ServeHTTP implements http.Handler.
func (s *codecServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin != "" {
		if !s.origins[normalizeOrigin(origin)] {
			http.Error(w, fmt.Sprintf("codec server: origin %q is not allowed", origin), http.StatusForbidden)
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if r.Method == http.MethodOptions {
		if origin == "" || r.Header.Get("Access-Control-Request-Method") == "" {
			http.Error(w, "codec server: OPTIONS is answered only as a CORS preflight", http.StatusBadRequest)
			return
		}
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		h.Set("Access-Control-Max-Age", "600")
		// Chrome's Private Network Access preflight (a public page calling a
		// loopback codec server).
		if r.Header.Get("Access-Control-Request-Private-Network") == "true" {
			h.Set("Access-Control-Allow-Private-Network", "true")
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if s.token != "" && !s.authorized(r) {
		h.Set("WWW-Authenticate", `Bearer realm="apilivesync-codec"`)
		http.Error(w, "codec server: missing or wrong bearer token", http.StatusUnauthorized)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBytes)
	s.next.ServeHTTP(w, r)
}

func (s *codecServer) authorized(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(s.token)) == 1
}

// normalizeOrigin lowercases an origin and drops a trailing slash, so
// "HTTP://127.0.0.1:8233/" matches what a browser sends.
func normalizeOrigin(o string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(o), "/"))
}
