package resolve

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The tests check AI outcomes with validateDecisions and give fixture
// conflicts stable IDs with conflictID (the merge assigns the real ones).

// strategies lists the valid strategy names in the order error messages show them.
var strategies = []string{StrategyPreferRemote, StrategyPreferLocal, StrategySourcePriority, StrategyManual, StrategyAI}

// validateDecisions checks that decisions settle conflicts exactly: every
// conflict once, no unknown IDs, each decision's pointer equal to its
// conflict's, a valid choice and strategy, and a valid JSON value when (and
// only when) the choice is "value". It reports every problem found, joined
// with errors.Join; each is a *DecisionError.
func validateDecisions(conflicts []Conflict, decisions []Decision) error {
	var errs []error
	byID := make(map[string]Conflict, len(conflicts))
	for _, c := range conflicts {
		if c.ID == "" {
			errs = append(errs, &DecisionError{Pointer: c.Pointer, Problem: "conflict has no id"})
			continue
		}
		if _, dup := byID[c.ID]; dup {
			errs = append(errs, &DecisionError{Pointer: c.Pointer, ID: c.ID, Problem: "two conflicts share this id"})
			continue
		}
		byID[c.ID] = c
	}
	seen := make(map[string]bool, len(decisions))
	for _, d := range decisions {
		c, known := byID[d.ID]
		switch {
		case !known:
			errs = append(errs, &DecisionError{Pointer: d.Pointer, ID: d.ID, Problem: "decision names no known conflict"})
			continue
		case seen[d.ID]:
			errs = append(errs, &DecisionError{Pointer: c.Pointer, ID: d.ID, Problem: "conflict decided more than once"})
			continue
		}
		seen[d.ID] = true
		if problem := decisionProblem(c, d); problem != "" {
			errs = append(errs, &DecisionError{Pointer: c.Pointer, ID: d.ID, Problem: problem})
		}
	}
	for _, c := range conflicts {
		if c.ID != "" && !seen[c.ID] {
			errs = append(errs, &DecisionError{Pointer: c.Pointer, ID: c.ID, Problem: "conflict has no decision"})
		}
	}
	return errors.Join(errs...)
}

// decisionProblem returns what is wrong with d as the decision of c, or "".
func decisionProblem(c Conflict, d Decision) string {
	switch {
	case d.Pointer != c.Pointer:
		return fmt.Sprintf("decision names pointer %q, not the conflict's", d.Pointer)
	case !slices.Contains(choices, d.Choice):
		return fmt.Sprintf("choice %q is not one of %s", d.Choice, strings.Join(choices, ", "))
	case !slices.Contains(strategies, d.Strategy):
		return fmt.Sprintf("strategy %q is not one of %s", d.Strategy, strings.Join(strategies, ", "))
	case d.Choice == ChoiceValue && len(d.Value) == 0:
		return `choice "value" without a value`
	case d.Choice == ChoiceValue && !json.Valid(d.Value):
		return `choice "value" with a value that is not valid JSON`
	case d.Choice != ChoiceValue && len(d.Value) != 0:
		return fmt.Sprintf("choice %q carries a value; only choice \"value\" may", d.Choice)
	case strings.ContainsAny(d.Reason, "\r\n"):
		return "reason spans more than one line"
	}
	return ""
}

// conflictID computes a stable ID from a conflict's pointer, kind and
// values: the first 16 bytes of a SHA-256, hex encoded. Values are compacted
// first, so formatting does not change the ID.
func conflictID(c Conflict) string {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(c.Pointer), []byte(c.Kind), compactOrRaw(c.Base), compactOrRaw(c.Local), compactOrRaw(c.Remote)} {
		// Length-prefix each part so that no two different tuples hash alike.
		_, _ = fmt.Fprintf(h, "%d:", len(part))
		_, _ = h.Write(part)
	}
	sum := h.Sum(nil)
	return hex.EncodeToString(sum[:16])
}
