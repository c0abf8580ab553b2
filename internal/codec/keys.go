package codec

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
)

// EnvKey is the environment variable that holds the codec keys:
// "id:base64key[,id:base64key...]", the first being the current key.
const EnvKey = "LIVESYNC_CODEC_KEY"

// EnvAuthToken is the environment variable that holds the bearer token the
// codec server requires (HandlerOptions.AuthToken); unset means no auth.
const EnvAuthToken = "LIVESYNC_CODEC_AUTH_TOKEN"

// KeySize is the length of an AES-256 key in bytes.
const KeySize = 32

// maxKeyIDLen bounds a key ID, which is stored in every encrypted payload.
const maxKeyIDLen = 64

// Keys is the key ring of the codec: Current names the key that encrypts,
// ByID holds every key that may decrypt, by key ID.
type Keys struct {
	// Current is the ID of the key new payloads are encrypted with; it must
	// be present in ByID.
	Current string
	// ByID maps a key ID to its 32-byte AES-256 key.
	ByID map[string][]byte
}

// KeyConfigError reports a key ring that cannot be used: a malformed entry
// of the environment variable, or an invalid Keys value. It never carries
// key material.
type KeyConfigError struct {
	// Variable is the environment variable read, empty for a Keys value
	// built in code.
	Variable string
	// Entry is the 1-based position of the bad entry in the variable, 0
	// when the problem is not one entry's.
	Entry int
	// KeyID is the ID of the bad key, when it is known.
	KeyID string
	// Problem says what is wrong, in words.
	Problem string
	// Err is the underlying error, if any (a base64 decoding error).
	Err error
}

// Error implements error.
func (e *KeyConfigError) Error() string {
	var b strings.Builder
	if e.Variable != "" {
		b.WriteString(e.Variable)
	} else {
		b.WriteString("codec keys")
	}
	if e.Entry > 0 {
		fmt.Fprintf(&b, " entry %d", e.Entry)
	}
	if e.KeyID != "" {
		fmt.Fprintf(&b, " (key ID %q)", e.KeyID)
	}
	b.WriteString(": ")
	b.WriteString(e.Problem)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *KeyConfigError) Unwrap() error { return e.Err }

// KeysFromEnv reads the key ring from EnvKey through lookup (os.LookupEnv in
// a main). It returns nil, nil when the variable is unset or blank, meaning
// encryption is off. Entries are "id:base64key" separated by commas, the
// first being the current key; surrounding spaces are ignored. Errors are
// *KeyConfigError values that name the variable, the entry and the key ID,
// never the key.
func KeysFromEnv(lookup func(string) (string, bool)) (*Keys, error) {
	raw, ok := lookup(EnvKey)
	if !ok || strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	keys := &Keys{ByID: map[string][]byte{}}
	for i, entry := range strings.Split(raw, ",") {
		n := i + 1
		bad := func(id, problem string, err error) error {
			return &KeyConfigError{Variable: EnvKey, Entry: n, KeyID: id, Problem: problem, Err: err}
		}
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return nil, bad("", "empty entry (want id:base64key)", nil)
		}
		id, encoded, found := strings.Cut(entry, ":")
		if !found {
			return nil, bad("", "no ':' between key ID and key (want id:base64key)", nil)
		}
		id, encoded = strings.TrimSpace(id), strings.TrimSpace(encoded)
		if problem := checkKeyID(id); problem != "" {
			// The ID is echoed only when it is well-formed: a malformed
			// one may be a pasted key.
			return nil, bad("", problem, nil)
		}
		if _, dup := keys.ByID[id]; dup {
			return nil, bad(id, "key ID listed twice", nil)
		}
		key, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			return nil, bad(id, "key is not standard base64", err)
		}
		if len(key) != KeySize {
			return nil, bad(id, fmt.Sprintf("key decodes to %d bytes, want %d (AES-256)", len(key), KeySize), nil)
		}
		if n == 1 {
			keys.Current = id
		}
		keys.ByID[id] = key
	}
	return keys, nil
}

// Validate reports whether the key ring can be used: Current is set and
// present, every ID is well-formed and every key is KeySize bytes.
func (k *Keys) Validate() error {
	if k == nil {
		return &KeyConfigError{Problem: "no keys (nil *Keys)"}
	}
	if k.Current == "" {
		return &KeyConfigError{Problem: "no current key ID"}
	}
	if _, ok := k.ByID[k.Current]; !ok {
		return &KeyConfigError{KeyID: k.Current, Problem: "current key ID has no key"}
	}
	ids := make([]string, 0, len(k.ByID))
	for id := range k.ByID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if problem := checkKeyID(id); problem != "" {
			return &KeyConfigError{Problem: problem}
		}
		if n := len(k.ByID[id]); n != KeySize {
			return &KeyConfigError{KeyID: id, Problem: fmt.Sprintf("key is %d bytes, want %d (AES-256)", n, KeySize)}
		}
	}
	return nil
}

// checkKeyID returns what is wrong with a key ID, or "".
func checkKeyID(id string) string {
	switch {
	case id == "":
		return "empty key ID"
	case len(id) > maxKeyIDLen:
		return fmt.Sprintf("key ID longer than %d characters", maxKeyIDLen)
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return "key ID may hold only letters, digits, '-', '_' and '.'"
		}
	}
	return ""
}
