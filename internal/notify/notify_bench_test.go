package notify_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/notify"
)

// BenchmarkSign measures signing bodies of typical and large event sizes.
func BenchmarkSign(b *testing.B) {
	for _, size := range []int{512, 64 << 10} {
		body := bytes.Repeat([]byte("x"), size)
		b.Run(strconv.Itoa(size)+"B", func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				_ = notify.Sign(testSecret, "1750000000", body)
			}
		})
	}
}

// BenchmarkVerify measures a receiver checking a 512-byte delivery.
func BenchmarkVerify(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 512)
	now := time.Unix(1_750_000_000, 0)
	sig := notify.Sign(testSecret, "1750000000", body)
	b.ReportAllocs()
	for b.Loop() {
		if err := notify.Verify(testSecret, sig, "1750000000", body, time.Minute, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeliver measures one successful delivery to a local receiver
// (marshal, sign, POST over loopback with keep-alive, drain).
func BenchmarkDeliver(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(srv.Close)
	n := notify.New([]notify.Webhook{{URL: srv.URL, Secret: testSecret}}, notify.Options{Client: srv.Client()})
	ev := testEvent("bench")
	b.ReportAllocs()
	for b.Loop() {
		_, failed, err := n.Deliver(b.Context(), ev)
		require.NoError(b, err)
		require.Zero(b, failed)
	}
}
