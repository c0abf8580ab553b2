package codec

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

var updateGolden = os.Getenv("UPDATE_GOLDEN") == "1"

// plainPayload is what the default data converter makes of a string.
func plainPayload(t testing.TB, v any) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	require.NoError(t, err)
	return p
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

func TestRoundTripSizes(t *testing.T) {
	keys := ring(t, "id1")
	c := NewCodec(keys)
	for _, size := range []int{0, 1, 15, 16, 17, 255, 1024, 4096 + 3, 64 << 10, 1 << 20, 3 << 20} {
		t.Run(fmt.Sprintf("%d bytes", size), func(t *testing.T) {
			data := randomBytes(t, size)
			in := &commonpb.Payload{
				Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingBinary), "extra": []byte("kept")},
				Data:     data,
			}
			enc, err := c.Encode([]*commonpb.Payload{in})
			require.NoError(t, err)
			require.Len(t, enc, 1)
			require.Equal(t, EncodingEncrypted, string(enc[0].Metadata[converter.MetadataEncoding]))
			require.Equal(t, "id1", string(enc[0].Metadata[MetadataKeyID]))
			require.Len(t, enc[0].Metadata, 2, "only encoding and key ID are in clear")
			if size >= 16 {
				require.False(t, bytes.Contains(enc[0].Data, data[:16]), "ciphertext holds plaintext bytes")
			}
			require.NotContains(t, string(enc[0].Data), "kept")

			dec, err := c.Decode(enc)
			require.NoError(t, err)
			require.Len(t, dec, 1)
			require.True(t, proto.Equal(in, dec[0]), "decoded payload differs from the original")
		})
	}
}

func TestEncodeBatchAndFreshNonces(t *testing.T) {
	c := NewCodec(ring(t, "id1"))
	in := []*commonpb.Payload{plainPayload(t, "same"), plainPayload(t, "same"), plainPayload(t, map[string]int{"n": 3})}
	snapshot := proto.Clone(&commonpb.Payloads{Payloads: in})

	enc, err := c.Encode(in)
	require.NoError(t, err)
	require.Len(t, enc, 3)
	require.NotEqual(t, enc[0].Data, enc[1].Data, "equal plaintexts must encrypt differently (random nonce)")
	require.True(t, proto.Equal(snapshot, &commonpb.Payloads{Payloads: in}), "Encode mutated its input")

	dec, err := c.Decode(enc)
	require.NoError(t, err)
	require.True(t, proto.Equal(snapshot, &commonpb.Payloads{Payloads: dec}))
}

func TestPlainPayloadsPassThrough(t *testing.T) {
	c := NewCodec(ring(t, "id1"))
	plain := []*commonpb.Payload{
		plainPayload(t, "written before encryption was on"),
		{Data: []byte("no metadata at all")},
		{Metadata: map[string][]byte{converter.MetadataEncoding: []byte("binary/zlib")}, Data: []byte{1, 2, 3}},
		{},
	}
	dec, err := c.Decode(plain)
	require.NoError(t, err)
	require.Len(t, dec, len(plain))
	for i := range plain {
		require.Same(t, plain[i], dec[i], "payload %d was not passed through", i)
	}

	t.Run("mixed with encrypted", func(t *testing.T) {
		enc, err := c.Encode([]*commonpb.Payload{plainPayload(t, "new")})
		require.NoError(t, err)
		dec, err := c.Decode([]*commonpb.Payload{plain[0], enc[0]})
		require.NoError(t, err)
		var old, fresh string
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(dec[0], &old))
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(dec[1], &fresh))
		require.Equal(t, "written before encryption was on", old)
		require.Equal(t, "new", fresh)
	})
}

func TestRotation(t *testing.T) {
	k1, k2 := testKey(1), testKey(2)
	before := NewCodec(&Keys{Current: "id1", ByID: map[string][]byte{"id1": k1}})
	after := NewCodec(&Keys{Current: "id2", ByID: map[string][]byte{"id2": k2, "id1": k1}})

	old, err := before.Encode([]*commonpb.Payload{plainPayload(t, "old history")})
	require.NoError(t, err)
	fresh, err := after.Encode([]*commonpb.Payload{plainPayload(t, "new history")})
	require.NoError(t, err)
	require.Equal(t, "id2", string(fresh[0].Metadata[MetadataKeyID]), "encrypt with the new current key")

	dec, err := after.Decode([]*commonpb.Payload{old[0], fresh[0]})
	require.NoError(t, err)
	var a, b string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(dec[0], &a))
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(dec[1], &b))
	require.Equal(t, "old history", a)
	require.Equal(t, "new history", b)

	t.Run("old ring cannot read the new key", func(t *testing.T) {
		_, err := before.Decode(fresh)
		require.ErrorIs(t, err, ErrUnknownKeyID)
		require.Contains(t, err.Error(), `key ID "id2"`)
	})
}

func TestDecodeErrors(t *testing.T) {
	keys := ring(t, "id1", "id0")
	c := NewCodec(keys)
	enc, err := c.Encode([]*commonpb.Payload{plainPayload(t, "secret summary of payments API")})
	require.NoError(t, err)
	good := enc[0]

	modified := func(f func(p *commonpb.Payload)) *commonpb.Payload {
		p := proto.Clone(good).(*commonpb.Payload)
		f(p)
		return p
	}
	flip := func(i int) func(p *commonpb.Payload) {
		return func(p *commonpb.Payload) {
			if i < 0 {
				i += len(p.Data)
			}
			p.Data[i] ^= 0x01
		}
	}
	sameIDOtherKey := NewCodec(&Keys{Current: "id1", ByID: map[string][]byte{"id1": testKey(0x99)}})

	tests := []struct {
		name    string
		codec   converter.PayloadCodec
		payload *commonpb.Payload
		want    error
		keyID   string
	}{
		{name: "flipped nonce byte", codec: c, payload: modified(flip(0)), want: ErrAuthentication, keyID: "id1"},
		{name: "flipped ciphertext byte", codec: c, payload: modified(flip(14)), want: ErrAuthentication, keyID: "id1"},
		{name: "flipped tag byte", codec: c, payload: modified(flip(-1)), want: ErrAuthentication, keyID: "id1"},
		{name: "appended byte", codec: c, payload: modified(func(p *commonpb.Payload) { p.Data = append(p.Data, 0) }), want: ErrAuthentication, keyID: "id1"},
		{name: "truncated by one", codec: c, payload: modified(func(p *commonpb.Payload) { p.Data = p.Data[:len(p.Data)-1] }), want: ErrAuthentication, keyID: "id1"},
		{name: "truncated below overhead", codec: c, payload: modified(func(p *commonpb.Payload) { p.Data = p.Data[:20] }), want: ErrMalformed, keyID: "id1"},
		{name: "key ID swapped to another known key", codec: c, payload: modified(func(p *commonpb.Payload) { p.Metadata[MetadataKeyID] = []byte("id0") }), want: ErrAuthentication, keyID: "id0"},
		{name: "key ID removed", codec: c, payload: modified(func(p *commonpb.Payload) { delete(p.Metadata, MetadataKeyID) }), want: ErrUnknownKeyID},
		{name: "unknown key ID", codec: c, payload: modified(func(p *commonpb.Payload) { p.Metadata[MetadataKeyID] = []byte("id9") }), want: ErrUnknownKeyID, keyID: "id9"},
		{name: "wrong key under the same ID", codec: sameIDOtherKey, payload: good, want: ErrAuthentication, keyID: "id1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			batch := []*commonpb.Payload{plainPayload(t, "first is plain"), tc.payload}
			out, err := tc.codec.Decode(batch)
			require.ErrorIs(t, err, tc.want)
			var perr *PayloadError
			require.ErrorAs(t, err, &perr)
			require.Equal(t, "decode", perr.Op)
			require.Equal(t, 1, perr.Index)
			require.Equal(t, tc.keyID, perr.KeyID)
			require.Contains(t, err.Error(), "codec decode payload 1")
			require.NotContains(t, err.Error(), "payments API")
			require.Equal(t, batch, out, "on error the input is returned")
		})
	}
	t.Run("untouched payload still decodes", func(t *testing.T) {
		_, err := c.Decode([]*commonpb.Payload{good})
		require.NoError(t, err)
	})
}

func TestDataConverter(t *testing.T) {
	type summary struct {
		Source string `json:"source"`
		Hash   string `json:"hash"`
		Count  int    `json:"count"`
	}
	in := summary{Source: "payments", Hash: "sha256:abc", Count: 42}

	t.Run("encrypting", func(t *testing.T) {
		dc := DataConverter(ring(t, "id1"))
		p, err := dc.ToPayload(in)
		require.NoError(t, err)
		require.Equal(t, EncodingEncrypted, string(p.Metadata[converter.MetadataEncoding]))
		require.NotContains(t, string(p.Data), "payments")
		var out summary
		require.NoError(t, dc.FromPayload(p, &out))
		require.Equal(t, in, out)
		require.Contains(t, dc.ToString(p), "payments", "ToString decodes for display")

		var plainOut summary
		require.NoError(t, dc.FromPayload(plainPayload(t, in), &plainOut), "plain payloads still read")
		require.Equal(t, in, plainOut)
	})
	t.Run("nil keys is the default converter", func(t *testing.T) {
		dc := DataConverter(nil)
		require.Same(t, converter.GetDefaultDataConverter(), dc)
		p, err := dc.ToPayload(in)
		require.NoError(t, err)
		require.Contains(t, string(p.Data), "payments")
	})
}

// fixtureKeys is the key ring testdata/v1_payloads.json was recorded with.
func fixtureKeys() *Keys {
	return &Keys{Current: "fixture-1", ByID: map[string][]byte{"fixture-1": testKey(0x42)}}
}

// fixturePlain is what testdata/v1_payloads.json decodes to: a payload
// encrypted by this codec, and one written before encryption was on.
func fixturePlain(t testing.TB) []*commonpb.Payload {
	return []*commonpb.Payload{
		plainPayload(t, map[string]string{"source": "petstore", "hash": "sha256:0f1e"}),
		plainPayload(t, "plain, from before encryption"),
	}
}

// TestRecordedPayloadsStillDecode guards the wire format: payloads
// encrypted by an earlier build (and kept in histories) must keep
// decrypting. UPDATE_GOLDEN=1 records the fixture anew.
func TestRecordedPayloadsStillDecode(t *testing.T) {
	path := filepath.Join("testdata", "v1_payloads.json")
	c := NewCodec(fixtureKeys())
	want := fixturePlain(t)
	if updateGolden {
		enc, err := c.Encode(want[:1])
		require.NoError(t, err)
		b, err := protojson.MarshalOptions{Multiline: true}.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{enc[0], want[1]}})
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, append(b, '\n'), 0o644))
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var recorded commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(b, &recorded))
	require.Equal(t, EncodingEncrypted, string(recorded.Payloads[0].Metadata[converter.MetadataEncoding]))

	got, err := c.Decode(recorded.Payloads)
	require.NoError(t, err)
	require.True(t, proto.Equal(&commonpb.Payloads{Payloads: want}, &commonpb.Payloads{Payloads: got}),
		"recorded payloads decode to %v", got)

	_, err = NewCodec(ring(t, "fixture-1")).Decode(recorded.Payloads)
	require.True(t, errors.Is(err, ErrAuthentication), "a different key under the same ID must fail: %v", err)
}
