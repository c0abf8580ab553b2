package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// SignaturePrefix starts every signature value: the scheme, then the hex
// digest.
const SignaturePrefix = "sha256="

// Sign returns the value of the X-LiveSync-Signature header for body sent at
// timestamp (decimal Unix seconds, the X-LiveSync-Timestamp header):
//
//	"sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body))
//
// This is the scheme Stripe and GitHub use. Signing the timestamp with the
// body lets a receiver reject replays of an old, validly signed request.
func Sign(secret []byte, timestamp string, body []byte) string {
	return SignaturePrefix + hex.EncodeToString(mac(secret, timestamp, body))
}

func mac(secret []byte, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(timestamp))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}
