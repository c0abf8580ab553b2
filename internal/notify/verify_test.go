package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Verify, the receiver's side of Sign, lives with the tests: they check
// every delivery the way a webhook receiver would.

// DefaultTolerance is the clock skew Verify accepts when given a
// non-positive tolerance: a delivery signed more than this long before (or
// after) the receiver's now is rejected as a possible replay.
const DefaultTolerance = 5 * time.Minute

// Errors Verify returns, wrapped with detail; check them with errors.Is.
var (
	// ErrNoSignature: the signature header is empty or carries no sha256= value.
	ErrNoSignature = errors.New("no sha256 signature")
	// ErrBadTimestamp: the timestamp header is not Unix seconds.
	ErrBadTimestamp = errors.New("malformed timestamp")
	// ErrSignatureMismatch: no signature in the header matches the body.
	ErrSignatureMismatch = errors.New("signature does not match")
	// ErrTimestampOutOfTolerance: the signature is valid but too old (or
	// too far in the future), so the request may be a replay.
	ErrTimestampOutOfTolerance = errors.New("timestamp outside tolerance")
)

// Verify checks a delivery as a receiver would: header is the
// X-LiveSync-Signature value, timestamp the X-LiveSync-Timestamp value and
// body the raw request body, unparsed. header may hold several
// comma-separated sha256= values (for a receiver rotating secrets, one
// matching is enough). The signature is compared in constant time, then the
// timestamp must lie within tolerance of now (DefaultTolerance when
// tolerance <= 0).
func Verify(secret []byte, header, timestamp string, body []byte, tolerance time.Duration, now time.Time) error {
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		part = strings.TrimSpace(part)
		hexSig, ok := strings.CutPrefix(part, SignaturePrefix)
		if !ok {
			continue
		}
		sig, err := hex.DecodeString(hexSig)
		if err != nil || len(sig) != sha256.Size {
			continue
		}
		sigs = append(sigs, sig)
	}
	if len(sigs) == 0 {
		return fmt.Errorf("verify webhook: %w in %s header", ErrNoSignature, HeaderSignature)
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("verify webhook: %w %q in %s header: want Unix seconds", ErrBadTimestamp, timestamp, HeaderTimestamp)
	}
	want := mac(secret, timestamp, body)
	matched := false
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			matched = true
		}
	}
	if !matched {
		return fmt.Errorf("verify webhook: %w (body or timestamp altered, or wrong secret)", ErrSignatureMismatch)
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	skew := now.Sub(time.Unix(sec, 0))
	if skew > tolerance || skew < -tolerance {
		return fmt.Errorf("verify webhook: %w: signed at %s, %s from now, tolerance %s",
			ErrTimestampOutOfTolerance, time.Unix(sec, 0).UTC().Format(time.RFC3339), skew.Round(time.Second), tolerance)
	}
	return nil
}
