package merge

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func mergeCase(t *testing.T, name string) *Result {
	t.Helper()
	res, err := ThreeWay(readFixture(t, "petstore", "base.json"), readFixture(t, "cases", name, "local.json"), readFixture(t, "cases", name, "remote.json"), Options{})
	require.NoError(t, err)
	require.NotEmpty(t, res.Conflicts)
	return res
}

func TestApplyChoices(t *testing.T) {
	const (
		tagPtr    = "/components/schemas/Pet/properties/tag"
		deletePtr = "/paths/~1pets~1{petId}/delete"
	)
	tests := []struct {
		name   string
		choice map[string]Resolution
		want   map[string]any // pointer -> value; nil means absent
	}{
		{
			name: "remote",
			choice: map[string]Resolution{
				tagPtr:    {Choice: ChoiceRemote},
				deletePtr: {Choice: ChoiceRemote},
			},
			want: map[string]any{
				tagPtr + "/description": "A free-form tag",
				deletePtr:               nil,
			},
		},
		{
			name: "local",
			choice: map[string]Resolution{
				tagPtr:    {Choice: ChoiceLocal},
				deletePtr: {Choice: ChoiceLocal},
			},
			want: map[string]any{
				tagPtr:                     nil,
				deletePtr + "/description": "Deletes a pet. Cannot be undone.",
			},
		},
		{
			name: "base",
			choice: map[string]Resolution{
				tagPtr:    {Choice: ChoiceBase},
				deletePtr: {Choice: ChoiceBase},
			},
			want: map[string]any{
				tagPtr + "/type":           "string",
				tagPtr + "/description":    nil,
				deletePtr + "/description": "Deletes a pet for good.",
			},
		},
		{
			name: "edited value",
			choice: map[string]Resolution{
				tagPtr:    {Choice: ChoiceValue, Value: json.RawMessage(`{"type":"string","description":"A tag","maxLength":32}`), Reason: "hand-merged"},
				deletePtr: {Choice: ChoiceRemote},
			},
			want: map[string]any{
				tagPtr + "/description": "A tag",
				tagPtr + "/maxLength":   json.Number("32"),
				deletePtr:               nil,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := mergeCase(t, "modify-delete")
			var resolutions []Resolution
			for _, c := range res.Conflicts {
				r, ok := tc.choice[c.Pointer]
				require.True(t, ok, "no choice for %s", c.Pointer)
				r.Pointer = c.Pointer
				resolutions = append(resolutions, r)
			}
			out, err := Apply(res, resolutions)
			require.NoError(t, err)
			for p, want := range tc.want {
				v, ok := at(t, out, p)
				if want == nil {
					require.False(t, ok, "%s should be absent", p)
					continue
				}
				require.True(t, ok, p)
				require.Equal(t, want, v, p)
			}
			// Outside the conflicts nothing changes: remote's clean edit stays.
			v, ok := at(t, out, "/paths/~1pets~1{petId}/parameters/0/description")
			require.True(t, ok)
			require.Equal(t, "Pet identifier", v)
			require.Equal(t, canon(t, out), string(out), "output is canonical")
		})
	}
}

func TestApplyStrategies(t *testing.T) {
	tests := []struct {
		name     string
		fixture  string
		strategy string
		want     map[string]any
	}{
		{
			name: "prefer-remote re-adds parameters local deleted", fixture: "param-conflicts", strategy: StrategyPreferRemote,
			want: map[string]any{
				"/paths/~1pets/get/parameters/0/$ref":                 "#/components/parameters/TraceId",
				"/paths/~1pets/get/parameters/1/description":          "Page size",
				"/paths/~1pets~1{petId}/get/parameters/0/description": "Correlation id (remote)",
				"/paths/~1pets~1{petId}/get/parameters/1/name":        "verbose",
				"/paths/~1pets~1{petId}/get/parameters/1/description": "Include everything",
				"/paths/~1pets~1{petId}/get/parameters/2":             nil,
			},
		},
		{
			name: "prefer-local keeps the merged document", fixture: "param-conflicts", strategy: StrategyPreferLocal,
			want: map[string]any{
				"/paths/~1pets/get/parameters/1":                      nil,
				"/paths/~1pets~1{petId}/get/parameters/0/description": "Correlation id (local)",
				"/paths/~1pets~1{petId}/get/parameters/1":             nil,
			},
		},
		{
			name: "prefer-remote on both-added", fixture: "both-added", strategy: StrategyPreferRemote,
			want: map[string]any{
				"/paths/~1owners/get/summary":                      "List all owners",
				"/components/schemas/Pet/properties/status/enum/1": "sold",
				"/components/schemas/Pet/properties/status/enum/2": nil,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := mergeCase(t, tc.fixture)
			resolutions, err := Resolve(res.Conflicts, tc.strategy)
			require.NoError(t, err)
			require.Len(t, resolutions, len(res.Conflicts))
			for _, r := range resolutions {
				require.Equal(t, tc.strategy, r.Strategy)
			}
			out, err := Apply(res, resolutions)
			require.NoError(t, err)
			if tc.strategy == StrategyPreferLocal {
				require.Equal(t, string(res.Merged), string(out))
			}
			for p, want := range tc.want {
				v, ok := at(t, out, p)
				if want == nil {
					require.False(t, ok, "%s should be absent, has %v", p, v)
					continue
				}
				require.True(t, ok, p)
				require.Equal(t, want, v, p)
			}
		})
	}
}

func TestApplyAfterJSONRoundTrip(t *testing.T) {
	// A Result stored as JSON between activities still applies.
	res := mergeCase(t, "param-conflicts")
	data, err := json.Marshal(res)
	require.NoError(t, err)
	var back Result
	require.NoError(t, json.Unmarshal(data, &back))
	require.Equal(t, res.Conflicts, back.Conflicts)
	resolutions, err := Resolve(back.Conflicts, StrategyPreferRemote)
	require.NoError(t, err)
	got, err := Apply(&back, resolutions)
	require.NoError(t, err)
	want, err := Apply(res, resolutions)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
}

func TestResolveUnknownStrategy(t *testing.T) {
	_, err := Resolve(nil, "prefer-ai")
	require.ErrorContains(t, err, `"prefer-ai"`)
}

func TestValidateResolutionsRejects(t *testing.T) {
	res := mergeCase(t, "modify-delete")
	p0, p1 := res.Conflicts[0].Pointer, res.Conflicts[1].Pointer
	tests := []struct {
		name        string
		resolutions []Resolution
		pointer     string
		problem     string
	}{
		{name: "missing", resolutions: []Resolution{{Pointer: p0, Choice: ChoiceLocal}}, pointer: p1, problem: "no resolution"},
		{name: "duplicate", resolutions: []Resolution{{Pointer: p0, Choice: ChoiceLocal}, {Pointer: p0, Choice: ChoiceRemote}, {Pointer: p1, Choice: ChoiceLocal}}, pointer: p0, problem: "more than one"},
		{name: "unknown pointer", resolutions: []Resolution{{Pointer: p0, Choice: ChoiceLocal}, {Pointer: p1, Choice: ChoiceLocal}, {Pointer: "/info/title", Choice: ChoiceLocal}}, pointer: "/info/title", problem: "no conflict"},
		{name: "unknown choice", resolutions: []Resolution{{Pointer: p0, Choice: "theirs"}, {Pointer: p1, Choice: ChoiceLocal}}, pointer: p0, problem: `unknown choice "theirs"`},
		{name: "value without value", resolutions: []Resolution{{Pointer: p0, Choice: ChoiceValue}, {Pointer: p1, Choice: ChoiceLocal}}, pointer: p0, problem: "needs a value"},
		{name: "invalid value", resolutions: []Resolution{{Pointer: p0, Choice: ChoiceValue, Value: json.RawMessage(`{"a":`)}, {Pointer: p1, Choice: ChoiceLocal}}, pointer: p0, problem: "not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateResolutions(res.Conflicts, tc.resolutions)
			require.Error(t, err)
			var re *ResolutionError
			require.True(t, errors.As(err, &re), "got %v", err)
			require.Equal(t, tc.pointer, re.Pointer)
			require.Contains(t, re.Problem, tc.problem)
			require.Contains(t, err.Error(), tc.pointer)

			_, err = Apply(res, tc.resolutions)
			require.True(t, errors.As(err, &re), "Apply must reject too: %v", err)
		})
	}
}

func TestApplyRejectsEditedMergedDocument(t *testing.T) {
	res := mergeCase(t, "both-added")
	tampered := *res
	tampered.Merged = []byte(`{"openapi":"3.0.3","paths":{}}`)
	resolutions, err := Resolve(res.Conflicts, StrategyPreferRemote)
	require.NoError(t, err)
	_, err = Apply(&tampered, resolutions)
	var re *ResolutionError
	require.True(t, errors.As(err, &re), "got %v", err)
	require.Equal(t, res.Conflicts[0].Pointer, re.Pointer)
}
