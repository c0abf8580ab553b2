package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// EncodingEncrypted is the metadata encoding of a payload this codec
// encrypted.
const EncodingEncrypted = "binary/encrypted"

// MetadataKeyID is the metadata key that names the key a payload was
// encrypted with.
const MetadataKeyID = "encryption-key-id"

// aadPrefix versions the additional authenticated data; the key ID follows.
const aadPrefix = "apilivesync/codec/v1:"

// Errors a *PayloadError wraps; check them with errors.Is.
var (
	// ErrUnknownKeyID: the payload names a key ID that is not in the ring
	// (a key was dropped too early, or the wrong ring is loaded).
	ErrUnknownKeyID = errors.New("unknown encryption key ID")
	// ErrAuthentication: AES-GCM authentication failed, so the ciphertext,
	// nonce, tag or key ID was modified, or the key under that ID is not the
	// one that encrypted it.
	ErrAuthentication = errors.New("message authentication failed: payload was modified or encrypted with a different key")
	// ErrMalformed: the payload is too short to be an encrypted payload, or
	// its plaintext is not a protobuf payload.
	ErrMalformed = errors.New("malformed encrypted payload")
)

// PayloadError reports a payload the codec could not encode or decode.
// It never carries key material or plaintext.
type PayloadError struct {
	// Op is "encode" or "decode".
	Op string
	// Index is the payload's position in the batch.
	Index int
	// KeyID is the key ID involved, when known.
	KeyID string
	// Err is the cause: ErrUnknownKeyID, ErrAuthentication, ErrMalformed or
	// a protobuf error.
	Err error
}

// Error implements error.
func (e *PayloadError) Error() string {
	if e.KeyID == "" {
		return fmt.Sprintf("codec %s payload %d: %v", e.Op, e.Index, e.Err)
	}
	return fmt.Sprintf("codec %s payload %d (key ID %q): %v", e.Op, e.Index, e.KeyID, e.Err)
}

// Unwrap returns the cause.
func (e *PayloadError) Unwrap() error { return e.Err }

// aesCodec is the AES-256-GCM PayloadCodec. Its fields are read-only after
// construction, so it is safe for concurrent use.
type aesCodec struct {
	current string
	aeads   map[string]cipher.AEAD
}

// NewCodec returns the AES-256-GCM payload codec for keys: Encode encrypts
// every payload with the current key and a random 96-bit nonce; Decode
// decrypts payloads whose encoding is EncodingEncrypted with the key their
// metadata names, and returns other payloads unchanged. Errors are
// *PayloadError values.
//
// NewCodec panics if keys fails Validate; keys from KeysFromEnv always pass.
func NewCodec(keys *Keys) converter.PayloadCodec {
	if err := keys.Validate(); err != nil {
		panic(fmt.Sprintf("codec.NewCodec: %v", err))
	}
	c := &aesCodec{current: keys.Current, aeads: make(map[string]cipher.AEAD, len(keys.ByID))}
	for id, key := range keys.ByID {
		block, err := aes.NewCipher(key)
		if err != nil {
			panic(fmt.Sprintf("codec.NewCodec: key ID %q: %v", id, err))
		}
		aead, err := cipher.NewGCMWithRandomNonce(block)
		if err != nil {
			panic(fmt.Sprintf("codec.NewCodec: key ID %q: %v", id, err))
		}
		c.aeads[id] = aead
	}
	return c
}

// DataConverter returns the SDK's default data converter wrapped with the
// encrypting codec, for client.Options.DataConverter of every client and
// worker that shares histories. With nil keys (encryption off, as
// KeysFromEnv returns for an unset variable) it returns the default data
// converter itself.
func DataConverter(keys *Keys) converter.DataConverter {
	if keys == nil {
		return converter.GetDefaultDataConverter()
	}
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), NewCodec(keys))
}

func aad(keyID string) []byte { return []byte(aadPrefix + keyID) }

// Encode implements converter.PayloadCodec.
func (c *aesCodec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.current]
	additional := aad(c.current)
	keyID := []byte(c.current)
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return payloads, &PayloadError{Op: "encode", Index: i, KeyID: c.current, Err: err}
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:              keyID,
			},
			Data: aead.Seal(nil, nil, plain, additional),
		}
	}
	return out, nil
}

// Decode implements converter.PayloadCodec.
func (c *aesCodec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != EncodingEncrypted {
			out[i] = p
			continue
		}
		keyID := string(p.GetMetadata()[MetadataKeyID])
		fail := func(err error) ([]*commonpb.Payload, error) {
			return payloads, &PayloadError{Op: "decode", Index: i, KeyID: keyID, Err: err}
		}
		aead, ok := c.aeads[keyID]
		if !ok {
			return fail(ErrUnknownKeyID)
		}
		if len(p.GetData()) < aead.Overhead() {
			return fail(fmt.Errorf("%w: %d bytes, shorter than nonce and tag (%d)", ErrMalformed, len(p.GetData()), aead.Overhead()))
		}
		plain, err := aead.Open(nil, nil, p.GetData(), aad(keyID))
		if err != nil {
			return fail(ErrAuthentication)
		}
		decoded := &commonpb.Payload{}
		if err := proto.Unmarshal(plain, decoded); err != nil {
			return fail(fmt.Errorf("%w: plaintext is not a payload: %w", ErrMalformed, err))
		}
		out[i] = decoded
	}
	return out, nil
}
