package resolve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sashabaranov/go-openai/jsonschema"
)

// maxContextRunes bounds Conflict.Context as sent to the model.
const maxContextRunes = 200

// maxReasonRunes bounds a model's reason as kept in a Decision.
const maxReasonRunes = 240

// systemPrompt tells the model its task and the answer's shape. It is constant
// so that prompts are deterministic and servers can cache the prefix.
const systemPrompt = `You resolve merge conflicts in an API specification (OpenAPI 3 or Swagger 2).
Each conflict is a node, named by its JSON pointer, that the API's current version ("local", which may hold edits people made by hand) and the upstream source ("remote") changed differently since their common ancestor ("base").
A missing base, local or remote field means the node is absent on that side; choosing that side deletes the node.
A field ending in "_truncated" holds only the beginning of a long value, as text.
For each conflict choose exactly one of:
- "remote": take the source's value;
- "local": keep the current value;
- "base": restore the ancestor's value;
- "value": write a new value that combines both sides; never for a conflict with a truncated field.
Answer with a JSON object only: {"decisions":[{"id":"<conflict id>","choice":"remote|local|base|value","value":"<the new value as JSON text when choice is value, else empty string>","reason":"<one short line>"}]}.
Decide each conflict id at most once, and only ids that were given. Leave out a conflict you cannot decide with confidence; a person will decide it.`

// promptConflict is one conflict as the model sees it.
type promptConflict struct {
	ID              string          `json:"id"`
	Pointer         string          `json:"pointer"`
	Kind            string          `json:"kind,omitempty"`
	Context         string          `json:"context,omitempty"`
	Base            json.RawMessage `json:"base,omitempty"`
	BaseTruncated   string          `json:"base_truncated,omitempty"`
	Local           json.RawMessage `json:"local,omitempty"`
	LocalTruncated  string          `json:"local_truncated,omitempty"`
	Remote          json.RawMessage `json:"remote,omitempty"`
	RemoteTruncated string          `json:"remote_truncated,omitempty"`
}

// truncated reports whether any value of p was cut.
func (p promptConflict) truncated() bool {
	return p.BaseTruncated != "" || p.LocalTruncated != "" || p.RemoteTruncated != ""
}

// promptBody is the user message: the API's name and the conflicts.
type promptBody struct {
	API       string           `json:"api"`
	Conflicts []promptConflict `json:"conflicts"`
}

// toPrompt turns c into its bounded prompt form. Values longer than
// maxValueBytes (compacted) are replaced by a text prefix.
func toPrompt(c Conflict, maxValueBytes int) promptConflict {
	p := promptConflict{ID: c.ID, Pointer: c.Pointer, Kind: c.Kind, Context: truncateRunes(oneLine(c.Context), maxContextRunes)}
	p.Base, p.BaseTruncated = boundValue(c.Base, maxValueBytes)
	p.Local, p.LocalTruncated = boundValue(c.Local, maxValueBytes)
	p.Remote, p.RemoteTruncated = boundValue(c.Remote, maxValueBytes)
	return p
}

// boundValue compacts raw and returns it whole when it fits in max bytes, or
// else a prefix of it as text.
func boundValue(raw json.RawMessage, max int) (json.RawMessage, string) {
	if len(raw) == 0 {
		return nil, ""
	}
	compact := compactOrRaw(raw)
	if len(compact) <= max {
		return compact, ""
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(compact[cut]) {
		cut--
	}
	return nil, fmt.Sprintf("%s… (%d of %d bytes)", compact[:cut], cut, len(compact))
}

// promptSize is the size p adds to a prompt, in bytes of JSON.
func promptSize(p promptConflict) int {
	b, _ := json.Marshal(p)
	return len(b) + 1
}

// chunkConflicts groups prompts, in order, into calls of at most maxCount
// conflicts and about maxBytes of conflict JSON each. A single conflict larger
// than maxBytes still gets a call of its own.
func chunkConflicts(ps []promptConflict, maxCount, maxBytes int) [][]promptConflict {
	var chunks [][]promptConflict
	var cur []promptConflict
	size := 0
	for _, p := range ps {
		n := promptSize(p)
		if len(cur) > 0 && (len(cur) >= maxCount || size+n > maxBytes) {
			chunks = append(chunks, cur)
			cur, size = nil, 0
		}
		cur = append(cur, p)
		size += n
	}
	if len(cur) > 0 {
		chunks = append(chunks, cur)
	}
	return chunks
}

// buildMessages returns the chat messages for one call. The same API name and
// conflicts always give the same bytes.
func buildMessages(api string, ps []promptConflict) ([]openaiMessage, error) {
	body, err := json.Marshal(promptBody{API: api, Conflicts: sortedPrompts(ps)})
	if err != nil {
		return nil, fmt.Errorf("encode prompt for api %q: %w", api, err)
	}
	return []openaiMessage{{role: "system", content: systemPrompt}, {role: "user", content: string(body)}}, nil
}

// reaskBody is the user message that asks again: the conflicts still to
// decide and what was wrong with the previous answer. It keeps the shape
// of promptBody, so a server that reads the last message finds them.
type reaskBody struct {
	API       string           `json:"api"`
	Conflicts []promptConflict `json:"conflicts"`
	// Rejected says why the previous answer was not accepted.
	Rejected string `json:"rejected"`
}

// maxProblemRunes bounds the problem a re-ask quotes.
const maxProblemRunes = 1200

// buildReask returns the message that asks again about ps after an answer
// that had problem.
func buildReask(api string, ps []promptConflict, problem string) (openaiMessage, error) {
	body, err := json.Marshal(reaskBody{API: api, Conflicts: sortedPrompts(ps),
		Rejected: "Your previous answer was not accepted: " + truncateRunes(oneLine(problem), maxProblemRunes) +
			". Answer again with the JSON object described, deciding only these conflicts; leave out those you cannot decide."})
	if err != nil {
		return openaiMessage{}, fmt.Errorf("encode re-ask for api %q: %w", api, err)
	}
	return openaiMessage{role: "user", content: string(body)}, nil
}

// describeRejected says, per rejected conflict of ps (in order), what was
// wrong with its decision.
func describeRejected(ps []promptConflict, rejected map[string]string) string {
	var parts []string
	for _, p := range ps {
		if why, ok := rejected[p.ID]; ok {
			parts = append(parts, fmt.Sprintf("conflict %s (%s): %s", p.ID, p.Pointer, why))
		}
	}
	return strings.Join(parts, "; ")
}

// sortedPrompts returns ps sorted by pointer, then ID: the same conflicts
// always make the same prompt.
func sortedPrompts(ps []promptConflict) []promptConflict {
	sorted := slices.Clone(ps)
	slices.SortFunc(sorted, func(a, b promptConflict) int {
		if c := strings.Compare(a.Pointer, b.Pointer); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return sorted
}

// openaiMessage is a role and its content, kept free of the client's types
// so that prompt building is testable alone.
type openaiMessage struct {
	role, content string
}

// answerSchema is the JSON schema of the model's answer for a call whose
// conflicts have the given IDs; strict mode needs every property required.
func answerSchema(ids []string) *jsonschema.Definition {
	return &jsonschema.Definition{
		Type: jsonschema.Object,
		Properties: map[string]jsonschema.Definition{
			"decisions": {
				Type: jsonschema.Array,
				Items: &jsonschema.Definition{
					Type: jsonschema.Object,
					Properties: map[string]jsonschema.Definition{
						"id":     {Type: jsonschema.String, Enum: ids},
						"choice": {Type: jsonschema.String, Enum: choices},
						"value":  {Type: jsonschema.String, Description: "the new value as JSON text when choice is value, else empty"},
						"reason": {Type: jsonschema.String, Description: "one short line"},
					},
					Required:             []string{"id", "choice", "value", "reason"},
					AdditionalProperties: false,
				},
			},
		},
		Required:             []string{"decisions"},
		AdditionalProperties: false,
	}
}

// answerDecision is one decision as the model writes it. Pointer is not asked
// for, but checked when a lenient server's model adds it.
type answerDecision struct {
	ID      string          `json:"id"`
	Pointer *string         `json:"pointer"`
	Choice  string          `json:"choice"`
	Value   json.RawMessage `json:"value"`
	Reason  string          `json:"reason"`
}

// errMalformedAnswer is wrapped when the model's answer cannot be read at all.
var errMalformedAnswer = errors.New("model answer is not the expected JSON")

// parseAnswer reads the model's answer for the conflicts in ps. It returns
// the decisions that pass validation and, per conflict ID, why a decision
// the model gave was rejected. A conflict in neither was left out by the
// model. An answer that is not a JSON object with a "decisions" array is an
// error wrapping errMalformedAnswer.
func parseAnswer(content string, ps []promptConflict) ([]Decision, map[string]string, error) {
	var top struct {
		Decisions json.RawMessage `json:"decisions"`
	}
	if err := json.Unmarshal([]byte(stripFence(content)), &top); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errMalformedAnswer, err)
	}
	var items []json.RawMessage
	if len(top.Decisions) == 0 {
		return nil, nil, fmt.Errorf(`%w: no "decisions" array`, errMalformedAnswer)
	}
	if err := json.Unmarshal(top.Decisions, &items); err != nil {
		return nil, nil, fmt.Errorf(`%w: "decisions" is not an array: %v`, errMalformedAnswer, err)
	}
	byID := make(map[string]promptConflict, len(ps))
	for _, p := range ps {
		byID[p.ID] = p
	}
	rejected := map[string]string{}
	accepted := map[string]Decision{}
	for _, item := range items {
		var a answerDecision
		if err := json.Unmarshal(item, &a); err != nil {
			continue // no usable id: the conflict it meant counts as left out
		}
		p, known := byID[a.ID]
		if !known {
			continue // touches no conflict of this call: dropped
		}
		if _, dup := rejected[a.ID]; dup {
			continue
		}
		if _, dup := accepted[a.ID]; dup {
			delete(accepted, a.ID)
			rejected[a.ID] = "model decided this conflict more than once"
			continue
		}
		d, problem := toDecision(a, p)
		if problem != "" {
			rejected[a.ID] = problem
			continue
		}
		accepted[a.ID] = d
	}
	decisions := make([]Decision, 0, len(accepted))
	for _, p := range ps {
		if d, ok := accepted[p.ID]; ok {
			decisions = append(decisions, d)
		}
	}
	return decisions, rejected, nil
}

// toDecision validates one answer for conflict p and returns the Decision,
// or a non-empty problem.
func toDecision(a answerDecision, p promptConflict) (Decision, string) {
	if a.Pointer != nil && *a.Pointer != p.Pointer {
		return Decision{}, fmt.Sprintf("model answered for pointer %q, not the conflict's", *a.Pointer)
	}
	if !slices.Contains(choices, a.Choice) {
		return Decision{}, fmt.Sprintf("model chose %q, not one of %s", truncateRunes(a.Choice, 40), strings.Join(choices, ", "))
	}
	d := Decision{ID: p.ID, Pointer: p.Pointer, Choice: a.Choice, Reason: truncateRunes(oneLine(a.Reason), maxReasonRunes), Strategy: StrategyAI}
	if a.Choice != ChoiceValue {
		return d, "" // any value beside a side choice is ignored: the side is the answer
	}
	if p.truncated() {
		return Decision{}, "model wrote a new value for a conflict it saw only truncated"
	}
	value, problem := answerValue(a.Value)
	if problem != "" {
		return Decision{}, problem
	}
	d.Value = value
	return d, ""
}

// answerValue reads the value of a "value" choice: JSON text in a string, as
// the schema asks, or a bare JSON value from a server without schemas.
func answerValue(raw json.RawMessage) (json.RawMessage, string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, `model chose "value" without a value`
	}
	text := raw
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, `model's value is not valid JSON`
		}
		text = []byte(strings.TrimSpace(s))
		if len(text) == 0 {
			return nil, `model chose "value" without a value`
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, text); err != nil {
		return nil, "model's value is not valid JSON text"
	}
	return buf.Bytes(), ""
}

// stripFence removes one Markdown code fence around content, which some
// servers without JSON modes add.
func stripFence(content string) string {
	s := strings.TrimSpace(content)
	if !strings.HasPrefix(s, "```") || !strings.HasSuffix(s, "```") || len(s) < 6 {
		return s
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "```"), "```")
	if nl := strings.IndexByte(s, '\n'); nl >= 0 && !strings.ContainsAny(s[:nl], "{[") {
		s = s[nl+1:] // drop a language tag such as "json"
	}
	return strings.TrimSpace(s)
}

// oneLine joins the lines of s with spaces and trims it.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// truncateRunes cuts s to at most n runes, marking a cut with "…".
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
