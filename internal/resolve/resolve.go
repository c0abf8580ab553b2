// Package resolve decides the conflicts that a three-way merge of spec
// documents (base, local, remote) leaves behind.
//
// A strategy turns each Conflict into a Decision: the mechanical strategies
// (prefer-remote, prefer-local) decide every conflict the same way, the AI
// strategy asks an OpenAI-compatible model and hands whatever it cannot
// decide safely to manual resolution. ValidateDecisions checks that a set of
// decisions answers a set of conflicts exactly, whoever made them.
package resolve

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Strategy names, as users type them in configuration and CLI flags.
const (
	// StrategyPreferRemote takes the incoming source's value for every conflict.
	StrategyPreferRemote = "prefer-remote"
	// StrategyPreferLocal keeps the API's current (local) value for every conflict.
	StrategyPreferLocal = "prefer-local"
	// StrategySourcePriority lets the higher-priority source win; the caller,
	// which knows the sources, applies it.
	StrategySourcePriority = "source-priority"
	// StrategyManual leaves every conflict to a person.
	StrategyManual = "manual"
	// StrategyAI asks a language model and falls back to manual.
	StrategyAI = "ai"
)

// Choices a Decision can make.
const (
	// ChoiceRemote takes the remote value (absent remote means delete).
	ChoiceRemote = "remote"
	// ChoiceLocal takes the local value (absent local means delete).
	ChoiceLocal = "local"
	// ChoiceBase restores the base value (absent base means delete).
	ChoiceBase = "base"
	// ChoiceValue takes Decision.Value, a new JSON value.
	ChoiceValue = "value"
)

// strategies lists the valid strategy names in the order error messages show them.
var strategies = []string{StrategyPreferRemote, StrategyPreferLocal, StrategySourcePriority, StrategyManual, StrategyAI}

// choices lists the valid choices in the order error messages show them.
var choices = []string{ChoiceRemote, ChoiceLocal, ChoiceBase, ChoiceValue}

// ErrUnknownStrategy is wrapped by ParseStrategy and Mechanical when a
// strategy name is not one they accept.
var ErrUnknownStrategy = errors.New("unknown conflict strategy")

// Conflict is one place where local and remote changed the same part of a
// spec differently since base.
type Conflict struct {
	// ID is a stable hash of the pointer and the three values (see ConflictID).
	ID string `json:"id"`
	// Pointer is the RFC 6901 JSON pointer of the conflicting node in the spec.
	Pointer string `json:"pointer"`
	// Kind names the sort of conflict, as the merge reports it.
	Kind string `json:"kind"`
	// Base is the value in the common ancestor; absent when it had none.
	Base json.RawMessage `json:"base,omitempty"`
	// Local is the value in the API's current version; absent when deleted.
	Local json.RawMessage `json:"local,omitempty"`
	// Remote is the value the source now serves; absent when deleted.
	Remote json.RawMessage `json:"remote,omitempty"`
	// Context is short surrounding information for a reader, such as
	// "GET /pets/{id} parameter limit"; bounded in size.
	Context string `json:"context,omitempty"`
}

// Decision settles one Conflict.
type Decision struct {
	// ID is the Conflict.ID this decision settles.
	ID string `json:"id"`
	// Pointer is the Conflict.Pointer this decision settles.
	Pointer string `json:"pointer"`
	// Choice is one of ChoiceRemote, ChoiceLocal, ChoiceBase, ChoiceValue.
	Choice string `json:"choice"`
	// Value is the new JSON value when Choice is ChoiceValue, empty otherwise.
	Value json.RawMessage `json:"value,omitempty"`
	// Reason explains the decision in one line.
	Reason string `json:"reason,omitempty"`
	// Strategy names the strategy that decided.
	Strategy string `json:"strategy"`
}

// ParseStrategy validates a strategy name, ignoring case and surrounding
// space, and returns its canonical spelling.
func ParseStrategy(s string) (string, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	for _, known := range strategies {
		if name == known {
			return known, nil
		}
	}
	return "", fmt.Errorf("conflict strategy %q: %w; valid strategies: %s", s, ErrUnknownStrategy, strings.Join(strategies, ", "))
}

// Mechanical decides every conflict by a fixed rule: prefer-remote takes the
// remote value, prefer-local keeps the local one. Any other strategy is an
// error wrapping ErrUnknownStrategy, since it needs more than the conflicts.
// Decisions come back in the order of conflicts.
func Mechanical(strategy string, conflicts []Conflict) ([]Decision, error) {
	var choice, reason string
	switch strategy {
	case StrategyPreferRemote:
		choice, reason = ChoiceRemote, "strategy prefer-remote takes the source's value"
	case StrategyPreferLocal:
		choice, reason = ChoiceLocal, "strategy prefer-local keeps the API's current value"
	default:
		return nil, fmt.Errorf("mechanical conflict resolution with strategy %q: %w; mechanical strategies: %s, %s",
			strategy, ErrUnknownStrategy, StrategyPreferRemote, StrategyPreferLocal)
	}
	decisions := make([]Decision, 0, len(conflicts))
	for _, c := range conflicts {
		decisions = append(decisions, Decision{ID: c.ID, Pointer: c.Pointer, Choice: choice, Reason: reason, Strategy: strategy})
	}
	return decisions, nil
}

// ConflictID computes a stable ID from a conflict's pointer, kind and
// values: the first 16 bytes of a SHA-256, hex encoded. Values are compacted
// first, so formatting does not change the ID. The merge may use it to fill
// Conflict.ID; resolution only needs IDs to be stable and unique.
func ConflictID(c Conflict) string {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(c.Pointer), []byte(c.Kind), compactOrRaw(c.Base), compactOrRaw(c.Local), compactOrRaw(c.Remote)} {
		// Length-prefix each part so that no two different tuples hash alike.
		_, _ = fmt.Fprintf(h, "%d:", len(part))
		_, _ = h.Write(part)
	}
	sum := h.Sum(nil)
	return hex.EncodeToString(sum[:16])
}

// compactOrRaw returns the compact form of raw, or raw itself when it is not valid JSON.
func compactOrRaw(raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return raw
	}
	return buf.Bytes()
}
