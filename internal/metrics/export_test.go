package metrics

import "net/http"

// Handler is the handler Serve mounts on /metrics, for tests that scrape
// without a listener.
func (m *Metrics) Handler() http.Handler { return m.handler }
