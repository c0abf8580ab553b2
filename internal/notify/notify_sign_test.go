package notify_test

import (
	"encoding/json"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/notify"
)

func TestSignMatchesOpenSSLVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/signatures.json")
	require.NoError(t, err)
	var vectors []struct {
		Name, Secret, Timestamp, Body, Signature string
	}
	require.NoError(t, json.Unmarshal(raw, &vectors))
	require.NotEmpty(t, vectors)
	for _, v := range vectors {
		t.Run(v.Name, func(t *testing.T) {
			require.Equal(t, v.Signature, notify.Sign([]byte(v.Secret), v.Timestamp, []byte(v.Body)))
			sec, err := strconv.ParseInt(v.Timestamp, 10, 64)
			require.NoError(t, err)
			require.NoError(t, notify.Verify([]byte(v.Secret), v.Signature, v.Timestamp, []byte(v.Body), time.Minute, time.Unix(sec, 0)))
		})
	}
}

func TestVerify(t *testing.T) {
	secret := []byte("whsec_0123456789")
	body := []byte(`{"type":"sync.completed","id":"sync/payments/42/notify"}`)
	now := time.Unix(1_750_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := notify.Sign(secret, ts, body)

	tests := []struct {
		name      string
		secret    []byte
		header    string
		timestamp string
		body      []byte
		tolerance time.Duration
		now       time.Time
		wantErr   error
	}{
		{name: "valid", secret: secret, header: sig, timestamp: ts, body: body, now: now},
		{name: "valid at the edge of tolerance", secret: secret, header: sig, timestamp: ts, body: body, tolerance: time.Minute, now: now.Add(time.Minute)},
		{name: "valid among rotated signatures", secret: secret, header: notify.Sign([]byte("old"), ts, body) + ", " + sig, timestamp: ts, body: body, now: now},
		{name: "tampered body", secret: secret, header: sig, timestamp: ts, body: []byte(`{"type":"sync.completed","id":"sync/payments/43/notify"}`), now: now, wantErr: notify.ErrSignatureMismatch},
		{name: "body with trailing newline", secret: secret, header: sig, timestamp: ts, body: append(append([]byte{}, body...), '\n'), now: now, wantErr: notify.ErrSignatureMismatch},
		{name: "tampered timestamp", secret: secret, header: sig, timestamp: strconv.FormatInt(now.Unix()+1, 10), body: body, now: now, wantErr: notify.ErrSignatureMismatch},
		{name: "wrong secret", secret: []byte("whsec_other"), header: sig, timestamp: ts, body: body, now: now, wantErr: notify.ErrSignatureMismatch},
		{name: "replayed too late", secret: secret, header: sig, timestamp: ts, body: body, tolerance: time.Minute, now: now.Add(time.Minute + time.Second), wantErr: notify.ErrTimestampOutOfTolerance},
		{name: "default tolerance", secret: secret, header: sig, timestamp: ts, body: body, now: now.Add(notify.DefaultTolerance + time.Second), wantErr: notify.ErrTimestampOutOfTolerance},
		{name: "from the future", secret: secret, header: sig, timestamp: ts, body: body, tolerance: time.Minute, now: now.Add(-2 * time.Minute), wantErr: notify.ErrTimestampOutOfTolerance},
		{name: "no header", secret: secret, header: "", timestamp: ts, body: body, now: now, wantErr: notify.ErrNoSignature},
		{name: "other scheme", secret: secret, header: "sha1=abcdef", timestamp: ts, body: body, now: now, wantErr: notify.ErrNoSignature},
		{name: "not hex", secret: secret, header: "sha256=zz", timestamp: ts, body: body, now: now, wantErr: notify.ErrNoSignature},
		{name: "truncated digest", secret: secret, header: sig[:len(sig)-2], timestamp: ts, body: body, now: now, wantErr: notify.ErrNoSignature},
		{name: "timestamp not a number", secret: secret, header: sig, timestamp: "yesterday", body: body, now: now, wantErr: notify.ErrBadTimestamp},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := notify.Verify(tc.secret, tc.header, tc.timestamp, tc.body, tc.tolerance, tc.now)
			if tc.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.wantErr)
			require.NotContains(t, err.Error(), string(tc.secret))
		})
	}
}
