package source

import (
	"fmt"
	"sort"
	"strings"
)

// PriorityKey orders priorities for queues and Temporal's task priority:
// lower runs first (high 1, medium 3, low 5).
func PriorityKey(p string) int {
	switch p {
	case "high":
		return 1
	case "low":
		return 5
	default:
		return 3
	}
}

// CheckDependencies refuses dependsOn entries that name no source (known
// reports sources registered outside sources, may be nil) and dependency
// cycles, naming the sources involved.
func CheckDependencies(sources []Source, known func(id string) bool) error {
	deps := map[string][]string{}
	for _, s := range sources {
		deps[s.ID] = s.DependsOn
	}
	var errs []string
	for _, s := range sources {
		for _, d := range s.DependsOn {
			if _, ok := deps[d]; !ok && (known == nil || !known(d)) {
				errs = append(errs, fmt.Sprintf("source %q: dependsOn %q: no such source", s.ID, d))
			}
		}
	}
	// Depth-first search for a cycle; each cycle is named once.
	const (
		unseen = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []string
	var visit func(id string)
	visit = func(id string) {
		state[id] = onPath
		path = append(path, id)
		for _, d := range deps[id] {
			switch state[d] {
			case onPath:
				i := len(path) - 1
				for path[i] != d {
					i--
				}
				cycle := append(append([]string{}, path[i:]...), d)
				errs = append(errs, fmt.Sprintf("dependency cycle: %s", strings.Join(cycle, " → ")))
			case unseen:
				if _, ok := deps[d]; ok {
					visit(d)
				}
			}
		}
		path = path[:len(path)-1]
		state[id] = done
	}
	ids := make([]string, 0, len(deps))
	for id := range deps {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if state[id] == unseen {
			visit(id)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}
