// Package codec encrypts Temporal payloads with AES-256-GCM and serves the
// codec-server HTTP protocol that the Temporal Web UI and the temporal CLI
// call to show encrypted payloads in clear.
//
// Workflow history in API Live Sync carries only hashes, keys, counts and
// short summaries, but those still name sources, APIs and URLs. Turning the
// codec on makes every payload the SDK writes (workflow and activity inputs
// and results, signal, query and update arguments, memos) opaque to the
// Temporal server and to anyone reading its database.
//
// # Keys
//
// Keys come from one environment variable, EnvKey (LIVESYNC_CODEC_KEY):
//
//	LIVESYNC_CODEC_KEY="id2:<base64 32 bytes>,id1:<base64 32 bytes>"
//
// The first entry is the current key: new payloads are encrypted with it.
// Every listed key decrypts, chosen by the key ID stored in each payload's
// metadata, so rotating is "prepend a new key, keep the old ones until no
// history that needs them is retained". A key is 32 random bytes in standard
// base64, for example from `openssl rand -base64 32`.
//
// # Payload format
//
// An encrypted payload has metadata encoding "binary/encrypted"
// (EncodingEncrypted) and "encryption-key-id" (MetadataKeyID), and data
// nonce(12) || ciphertext || tag(16), where the plaintext is the original
// payload (metadata and data) in protobuf wire form. The key ID is bound to
// the ciphertext as additional authenticated data, so a modified ciphertext,
// nonce, tag or key ID fails Decode with ErrAuthentication. Payloads without
// that encoding pass through Decode unchanged, so histories written before
// the codec was turned on stay readable.
//
// # Codec server
//
// Handler serves POST /encode and /decode, and the same under a namespace
// segment (/default/decode), with CORS for the configured Web UI origins and
// an optional static bearer token. Point the UI at it (the dev server's
// devserver.Options.UICodecEndpoint) or the CLI (temporal --codec-endpoint).
package codec
