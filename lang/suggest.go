package lang

import "sort"

// Did-you-mean suggestions.
//
// When a name is unknown (a function, a builtin, an identifier, a map read
// but never written, a struct field, a tracepoint) the checker looks for the
// closest known name by edit distance and, when one is close enough, adds a
// note "did you mean X?" to the error. The threshold follows the size of the
// name: a typo in a three-letter name is one edit, a longer name may take
// up to a third of its length, so "conut" finds "count" but "foo" finds
// nothing among the builtins.

// editDistance returns the Damerau–Levenshtein distance (with adjacent
// transpositions) between a and b, bytewise.
func editDistance(a, b string) int {
	if a == b {
		return 0
	}
	la, lb := len(a), len(b)
	if la == 0 {
		return lb
	}
	if lb == 0 {
		return la
	}
	// Three rolling rows: two back (for transpositions), previous, current.
	prev2 := make([]int, lb+1)
	prev := make([]int, lb+1)
	cur := make([]int, lb+1)
	for j := 0; j <= lb; j++ {
		prev[j] = j
	}
	for i := 1; i <= la; i++ {
		cur[0] = i
		for j := 1; j <= lb; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := prev[j] + 1 // deletion
			if v := cur[j-1] + 1; v < d {
				d = v // insertion
			}
			if v := prev[j-1] + cost; v < d {
				d = v // substitution
			}
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				if v := prev2[j-2] + 1; v < d {
					d = v // transposition
				}
			}
			cur[j] = d
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[lb]
}

// maxSuggestDistance is how many edits a name of length n may be from a
// suggestion.
func maxSuggestDistance(n int) int {
	switch {
	case n <= 2:
		return 0
	case n <= 5:
		return 1
	case n <= 8:
		return 2
	}
	return n / 3
}

// suggest returns the candidate closest to name, or "" when none is close
// enough. Ties go to the candidate whose length is nearest name's (a
// transposition rather than a deletion), then to the alphabetically first,
// so the result does not depend on the order of candidates.
func suggest(name string, candidates []string) string {
	limit := maxSuggestDistance(len(name))
	if limit == 0 {
		return ""
	}
	best, bestDist, bestLen := "", limit+1, 0
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	for _, c := range sorted {
		if c == name || c == "" {
			continue
		}
		// Cheap length filter before the quadratic distance.
		if d := len(c) - len(name); d > limit || -d > limit {
			continue
		}
		dl := len(c) - len(name)
		if dl < 0 {
			dl = -dl
		}
		if d := editDistance(name, c); d < bestDist || (d == bestDist && dl < bestLen) {
			best, bestDist, bestLen = c, d, dl
		}
	}
	return best
}

// didYouMean formats the note the checker attaches to an error.
func didYouMean(s string) string { return "HINT: did you mean " + s + "?" }
