// Package resolve decides the conflicts that a three-way merge of spec
// documents (base, local, remote) leaves behind.
//
// A strategy turns each Conflict into a Decision. The mechanical strategies
// (prefer-remote, prefer-local, source-priority) and manual resolution are
// applied by the merge and the sync job; this package holds the AI strategy
// (AIResolver), which asks an OpenAI-compatible model, checks every answer
// it gets (asking again, with what was wrong, after a malformed or invalid
// one), and hands whatever it cannot decide safely to manual resolution.
// The sync job calls it through ResolveAttempt, one attempt of a durable
// step: a model that is down or rate-limited is a *TransientError that
// Temporal retries, not a reason to ask a person.
package resolve

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// choices lists the valid choices in the order error messages show them.
var choices = []string{ChoiceRemote, ChoiceLocal, ChoiceBase, ChoiceValue}

// Conflict is one place where local and remote changed the same part of a
// spec differently since base.
type Conflict struct {
	// ID identifies the conflict; the merge derives it from the pointer and
	// the three values, so it is stable and unique.
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

// DecisionError is one problem with the conflicts given to Resolve. It names
// the pointer (and ID) of the conflict concerned; check for it with
// errors.As.
type DecisionError struct {
	// Pointer is the JSON pointer of the conflict concerned.
	Pointer string
	// ID is the ID of the conflict concerned.
	ID string
	// Problem says what is wrong, in a short sentence.
	Problem string
}

// Error implements error.
func (e *DecisionError) Error() string {
	return fmt.Sprintf("conflict decision at %q (id %s): %s", e.Pointer, e.ID, e.Problem)
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
