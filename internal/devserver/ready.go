package devserver

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
)

// readyPoll is how often readiness checks are retried.
const readyPoll = 100 * time.Millisecond

// waitReady blocks until the frontend answers, every namespace is
// described, every wanted search attribute exists and the UI answers.
func (s *Server) waitReady(ctx context.Context) error {
	c, err := retry(ctx, func() (client.Client, error) {
		return client.DialContext(ctx, client.Options{
			HostPort:  s.FrontendHostPort(),
			Namespace: s.Namespace(),
			Logger:    sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
		})
	})
	if err != nil {
		return fmt.Errorf("devserver: frontend %s did not accept gRPC calls: %w", s.FrontendHostPort(), err)
	}
	defer c.Close()

	for _, ns := range s.plan.namespaces {
		if _, err := retry(ctx, func() (*workflowservice.DescribeNamespaceResponse, error) {
			return c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
		}); err != nil {
			return fmt.Errorf("devserver: namespace %q on %s is not usable: %w", ns, s.FrontendHostPort(), err)
		}
		if err := ensureSearchAttributes(ctx, c.OperatorService(), ns, s.plan.searchAttributes); err != nil {
			return err
		}
	}

	if s.ui != nil {
		url := s.UIURL() + "/healthz"
		if _, err := retry(ctx, func() (struct{}, error) {
			return struct{}{}, httpOK(ctx, url)
		}); err != nil {
			return fmt.Errorf("devserver: Web UI at %s did not come up: %w", s.UIURL(), err)
		}
	}
	return nil
}

// ensureSearchAttributes adds the wanted attributes missing from ns and
// fails on one registered with another type.
func ensureSearchAttributes(ctx context.Context, ops operatorservice.OperatorServiceClient, ns string, want map[string]enumspb.IndexedValueType) error {
	if len(want) == 0 {
		return nil
	}
	have, err := ops.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		return fmt.Errorf("devserver: list search attributes of namespace %q: %w", ns, err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range want {
		got, ok := have.GetCustomAttributes()[name]
		if !ok {
			if _, system := have.GetSystemAttributes()[name]; system {
				return fmt.Errorf("devserver: search attribute %q in namespace %q is a system attribute and cannot be added", name, ns)
			}
			missing[name] = typ
			continue
		}
		if got != typ {
			return fmt.Errorf("devserver: search attribute %q in namespace %q is already registered as %s, want %s (use a fresh data dir or another name)",
				name, ns, got, typ)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := ops.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace:        ns,
		SearchAttributes: missing,
	}); err != nil {
		return fmt.Errorf("devserver: add search attributes %v to namespace %q: %w", missing, ns, err)
	}
	return nil
}

// retry calls f every readyPoll until it succeeds or ctx ends, returning
// the last error joined with the context's.
func retry[T any](ctx context.Context, f func() (T, error)) (T, error) {
	t := time.NewTicker(readyPoll)
	defer t.Stop()
	for {
		v, err := f()
		if err == nil {
			return v, nil
		}
		select {
		case <-ctx.Done():
			return v, fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

func httpOK(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}
