package fetch_test

import (
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/fetch"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   string
		want time.Duration
		ok   bool
	}{
		{name: "absent", in: ""},
		{name: "zero", in: "0", ok: true},
		{name: "seconds", in: " 7 ", want: 7 * time.Second, ok: true},
		{name: "fractional seconds", in: "0.5", want: 500 * time.Millisecond, ok: true},
		{name: "huge saturates", in: "99999999999999999999", want: math.MaxInt64, ok: true},
		{name: "negative", in: "-5"},
		{name: "exponent is not delay-seconds", in: "1e3"},
		{name: "two dots", in: "1.2.3"},
		{name: "http date", in: now.Add(90 * time.Second).Format(http.TimeFormat), want: 90 * time.Second, ok: true},
		{name: "date in the past", in: now.Add(-time.Hour).Format(http.TimeFormat), ok: true},
		{name: "garbage", in: "soon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := fetch.ParseRetryAfter(tt.in, now)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.want, d)
		})
	}
}
