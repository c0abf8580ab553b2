package codec

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

var benchSizes = []int{256, 4 << 10, 64 << 10, 1 << 20}

func benchPayload(b *testing.B, size int) *commonpb.Payload {
	return &commonpb.Payload{
		Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingJSON)},
		Data:     randomBytes(b, size),
	}
}

func BenchmarkEncode(b *testing.B) {
	c := NewCodec(ring(b, "id1"))
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			in := []*commonpb.Payload{benchPayload(b, size)}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Encode(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	c := NewCodec(ring(b, "id1"))
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			enc, err := c.Encode([]*commonpb.Payload{benchPayload(b, size)})
			require.NoError(b, err)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Decode(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHandlerDecode is one UI decode request (two payloads) through
// the codec server, over loopback HTTP.
func BenchmarkHandlerDecode(b *testing.B) {
	srv := httptest.NewServer(Handler(fixtureKeys(), HandlerOptions{AllowedOrigins: []string{uiOrigin}}))
	b.Cleanup(srv.Close)
	body, err := readFixture()
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		req, err := http.NewRequestWithContext(b.Context(), http.MethodPost, srv.URL+"/default/decode", strings.NewReader(body))
		require.NoError(b, err)
		req.Header.Set("Origin", uiOrigin)
		resp, err := srv.Client().Do(req)
		require.NoError(b, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// TestConcurrentUse shares one codec between goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	c := NewCodec(ring(t, "id1", "id0"))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				want := fmt.Sprintf("goroutine %d payload %d", g, i)
				enc, err := c.Encode([]*commonpb.Payload{plainPayload(t, want)})
				if err != nil {
					errs <- err
					return
				}
				dec, err := c.Decode(enc)
				if err != nil {
					errs <- err
					return
				}
				var got string
				if err := converter.GetDefaultDataConverter().FromPayload(dec[0], &got); err != nil || got != want {
					errs <- fmt.Errorf("got %q, %v; want %q", got, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
