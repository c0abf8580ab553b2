package diff

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Report formats accepted by Write.
const (
	FormatText     = "text"
	FormatMarkdown = "markdown"
	FormatJSON     = "json"
)

// Write renders the report as "text", "markdown" or "json".
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("write diff report as json: %w", err)
		}
		return nil
	case FormatText:
		return r.writeText(w)
	case FormatMarkdown:
		return r.writeMarkdown(w)
	}
	return fmt.Errorf("write diff report: unknown format %q (want text, markdown or json)", format)
}

func (r *Report) writeText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d changes, %d breaking, %d warnings (rules %s)\n", r.Total, r.Breaking, r.Warnings, r.RuleSet)
	for _, c := range r.Changes {
		mark := " "
		switch c.Level {
		case LevelError:
			mark = "!"
		case LevelWarning:
			mark = "?"
		}
		fmt.Fprintf(&b, "%s %-8s %-14s %s", mark, c.Kind, c.Object, c.Pointer)
		if c.Line > 0 {
			fmt.Fprintf(&b, " (line %d)", c.Line)
		}
		fmt.Fprintf(&b, " [%s]", c.Rule)
		if v := valueText(c); v != "" {
			b.WriteString(": " + v)
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("write diff report as text: %w", err)
	}
	return nil
}

func (r *Report) writeMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "**%d changes, %d breaking, %d warnings** (rules `%s`)\n\n", r.Total, r.Breaking, r.Warnings, r.RuleSet)
	if r.Total > 0 {
		b.WriteString("| | Kind | Object | Pointer | Line | Rule | Change |\n|---|---|---|---|---|---|---|\n")
		for _, c := range r.Changes {
			mark := ""
			switch c.Level {
			case LevelError:
				mark = "⛔ breaking"
			case LevelWarning:
				mark = "⚠️ warning"
			}
			line := ""
			if c.Line > 0 {
				line = fmt.Sprint(c.Line)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | `%s` | %s | `%s` | %s |\n", mark, c.Kind, c.Object,
				mdEscape(c.Pointer), line, c.Rule, mdEscape(valueText(c)))
		}
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("write diff report as markdown: %w", err)
	}
	return nil
}

func valueText(c Change) string {
	short := func(v any) string {
		s := strings.Join(strings.Fields(fmt.Sprint(v)), " ")
		if len(s) > 80 {
			s = s[:77] + "..."
		}
		return s
	}
	switch {
	case c.Old != nil && c.New != nil:
		return short(c.Old) + " → " + short(c.New)
	case c.New != nil:
		return short(c.New)
	case c.Old != nil:
		return short(c.Old)
	}
	return ""
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "`", "'", "\n", " ").Replace(s)
}
