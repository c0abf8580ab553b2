package resolve

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// loadConflicts reads testdata/conflicts.json and fills in the IDs.
func loadConflicts(t testing.TB) []Conflict {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "conflicts.json"))
	require.NoError(t, err)
	var cs []Conflict
	require.NoError(t, json.Unmarshal(raw, &cs))
	for i := range cs {
		cs[i].ID = ConflictID(cs[i])
	}
	return cs
}

func TestParseStrategy(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "prefer-remote", want: StrategyPreferRemote},
		{in: " Prefer-Local ", want: StrategyPreferLocal},
		{in: "source-priority", want: StrategySourcePriority},
		{in: "MANUAL", want: StrategyManual},
		{in: "ai", want: StrategyAI},
		{in: "", wantErr: true},
		{in: "theirs", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseStrategy(tt.in)
			if !tt.wantErr {
				require.NoError(t, err)
				require.Equal(t, tt.want, got)
				return
			}
			require.ErrorIs(t, err, ErrUnknownStrategy)
			for _, s := range strategies {
				require.Contains(t, err.Error(), s, "the error lists every valid strategy")
			}
			require.Contains(t, err.Error(), `"`+tt.in+`"`)
		})
	}
}

func TestMechanical(t *testing.T) {
	conflicts := loadConflicts(t)
	tests := []struct {
		strategy   string
		wantChoice string
		wantErr    bool
	}{
		{strategy: StrategyPreferRemote, wantChoice: ChoiceRemote},
		{strategy: StrategyPreferLocal, wantChoice: ChoiceLocal},
		{strategy: StrategySourcePriority, wantErr: true},
		{strategy: StrategyAI, wantErr: true},
		{strategy: "bogus", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.strategy, func(t *testing.T) {
			got, err := Mechanical(tt.strategy, conflicts)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrUnknownStrategy)
				require.Contains(t, err.Error(), tt.strategy)
				return
			}
			require.NoError(t, err)
			require.Len(t, got, len(conflicts))
			for i, d := range got {
				require.Equal(t, conflicts[i].ID, d.ID)
				require.Equal(t, conflicts[i].Pointer, d.Pointer)
				require.Equal(t, tt.wantChoice, d.Choice)
				require.Equal(t, tt.strategy, d.Strategy)
				require.Empty(t, d.Value)
				require.NotEmpty(t, d.Reason)
			}
			require.NoError(t, ValidateDecisions(conflicts, got))
		})
	}
	t.Run("no conflicts", func(t *testing.T) {
		got, err := Mechanical(StrategyPreferRemote, nil)
		require.NoError(t, err)
		require.Empty(t, got)
	})
}

func TestConflictID(t *testing.T) {
	c := Conflict{Pointer: "/a", Kind: "k", Base: json.RawMessage(`{"x": 1}`), Local: json.RawMessage(`2`)}
	id := ConflictID(c)
	require.Len(t, id, 32)

	reformatted := c
	reformatted.Base = json.RawMessage("{\n  \"x\":1\n}")
	require.Equal(t, id, ConflictID(reformatted), "formatting does not change the ID")

	moved := c
	moved.Local, moved.Remote = nil, json.RawMessage(`2`)
	require.NotEqual(t, id, ConflictID(moved), "the same value on another side is another conflict")

	other := c
	other.Pointer = "/b"
	require.NotEqual(t, id, ConflictID(other))
}

func TestValidateDecisions(t *testing.T) {
	conflicts := loadConflicts(t)
	good := func() []Decision {
		ds, err := Mechanical(StrategyPreferRemote, conflicts)
		require.NoError(t, err)
		return ds
	}
	tests := []struct {
		name      string
		conflicts []Conflict
		edit      func([]Decision) []Decision
		// wantPointer and wantProblem describe the one error expected; empty means none.
		wantPointer, wantProblem string
	}{
		{name: "all decided", edit: func(d []Decision) []Decision { return d }},
		{name: "value choice with JSON", edit: func(d []Decision) []Decision {
			d[0].Choice, d[0].Value = ChoiceValue, json.RawMessage(`150`)
			return d
		}},
		{name: "missing decision", edit: func(d []Decision) []Decision { return d[:2] },
			wantPointer: conflicts[2].Pointer, wantProblem: "no decision"},
		{name: "decided twice", edit: func(d []Decision) []Decision { return append(d, d[1]) },
			wantPointer: conflicts[1].Pointer, wantProblem: "more than once"},
		{name: "unknown id", edit: func(d []Decision) []Decision {
			return append(d, Decision{ID: "nope", Pointer: "/info/title", Choice: ChoiceLocal, Strategy: StrategyManual})
		}, wantPointer: "/info/title", wantProblem: "no known conflict"},
		{name: "pointer mismatch", edit: func(d []Decision) []Decision {
			d[0].Pointer = "/info/title"
			return d
		}, wantPointer: conflicts[0].Pointer, wantProblem: `pointer "/info/title"`},
		{name: "bad choice", edit: func(d []Decision) []Decision {
			d[1].Choice = "theirs"
			return d
		}, wantPointer: conflicts[1].Pointer, wantProblem: `choice "theirs"`},
		{name: "bad strategy", edit: func(d []Decision) []Decision {
			d[1].Strategy = ""
			return d
		}, wantPointer: conflicts[1].Pointer, wantProblem: "strategy"},
		{name: "value choice without value", edit: func(d []Decision) []Decision {
			d[2].Choice = ChoiceValue
			return d
		}, wantPointer: conflicts[2].Pointer, wantProblem: "without a value"},
		{name: "value not JSON", edit: func(d []Decision) []Decision {
			d[2].Choice, d[2].Value = ChoiceValue, json.RawMessage(`{"type":`)
			return d
		}, wantPointer: conflicts[2].Pointer, wantProblem: "not valid JSON"},
		{name: "value with side choice", edit: func(d []Decision) []Decision {
			d[0].Value = json.RawMessage(`1`)
			return d
		}, wantPointer: conflicts[0].Pointer, wantProblem: "carries a value"},
		{name: "multi-line reason", edit: func(d []Decision) []Decision {
			d[0].Reason = "one\ntwo"
			return d
		}, wantPointer: conflicts[0].Pointer, wantProblem: "more than one line"},
		{name: "duplicate conflict ids", conflicts: append(loadConflicts(t), conflicts[0]),
			edit: func(d []Decision) []Decision { return d }, wantPointer: conflicts[0].Pointer, wantProblem: "share this id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := tt.conflicts
			if cs == nil {
				cs = conflicts
			}
			err := ValidateDecisions(cs, tt.edit(good()))
			if tt.wantProblem == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			var de *DecisionError
			require.True(t, errors.As(err, &de), "error is a *DecisionError: %v", err)
			require.Equal(t, tt.wantPointer, de.Pointer)
			require.Contains(t, de.Problem, tt.wantProblem)
			require.Contains(t, err.Error(), tt.wantPointer, "the message names the pointer")
			require.Equal(t, 1, strings.Count(err.Error(), "conflict decision at"), "exactly one problem: %v", err)
		})
	}
	t.Run("reports every problem", func(t *testing.T) {
		ds := good()
		ds[0].Choice = "x"
		err := ValidateDecisions(conflicts, ds[:2])
		require.ErrorContains(t, err, conflicts[0].Pointer)
		require.ErrorContains(t, err, conflicts[2].Pointer)
	})
}

func TestLRUCache(t *testing.T) {
	c := NewLRUCache(2)
	a, b, d := Decision{ID: "a"}, Decision{ID: "b"}, Decision{ID: "d"}
	c.Put("a", a)
	c.Put("b", b)
	got, ok := c.Get("a") // a is now the most recently used
	require.True(t, ok)
	require.Equal(t, a, got)
	c.Put("d", d) // evicts b
	_, ok = c.Get("b")
	require.False(t, ok, "least recently used entry evicted")
	for _, k := range []string{"a", "d"} {
		_, ok := c.Get(k)
		require.True(t, ok, k)
	}
	require.Equal(t, 2, c.Len())
	c.Put("a", Decision{ID: "a", Reason: "updated"})
	got, _ = c.Get("a")
	require.Equal(t, "updated", got.Reason)
	require.Equal(t, 2, c.Len())
}
