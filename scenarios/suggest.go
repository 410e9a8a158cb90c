package scenarios

import "strings"

// suggest returns the option closest to s when it is close enough to be a
// likely typo, else "".
func suggest(s string, options []string) string {
	best, bestDist := "", -1
	for _, o := range options {
		d := editDistance(strings.ToLower(s), strings.ToLower(o))
		if bestDist < 0 || d < bestDist {
			best, bestDist = o, d
		}
	}
	limit := max(1, min(3, len(s)/3))
	if bestDist < 0 || bestDist > limit {
		if o := prefixMatch(s, options); o != "" {
			return o
		}
		return ""
	}
	return best
}

// prefixMatch returns the only option that s is a prefix of or that is a
// prefix of s ("cqrs" → nothing, since several options start with it).
func prefixMatch(s string, options []string) string {
	if len(s) < 3 {
		return ""
	}
	found := ""
	for _, o := range options {
		if strings.HasPrefix(o, s) || strings.HasPrefix(s, o) {
			if found != "" {
				return ""
			}
			found = o
		}
	}
	return found
}

// didYouMean returns ` (did you mean "x"?)` or "".
func didYouMean(s string, options []string) string {
	if o := suggest(s, options); o != "" {
		return ` (did you mean "` + o + `"?)`
	}
	return ""
}

// oneOf renders a list of options for "use one of …" messages.
func oneOf[T ~string](options []T) string {
	parts := make([]string, len(options))
	for i, o := range options {
		parts[i] = string(o)
	}
	return strings.Join(parts, ", ")
}

// strs converts a list of string-kinded values to strings.
func strs[T ~string](options []T) []string {
	out := make([]string, len(options))
	for i, o := range options {
		out[i] = string(o)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, counting an
// adjacent transposition as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
