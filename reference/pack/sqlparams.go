package pack

import (
	"strconv"
	"strings"
)

// paramUse is one :name in a statement's source.
type paramUse struct {
	name string
	off  int // byte offset of the ':' in the source text
}

// compile replaces the :name parameters of src with $1, $2, … in order of
// first use (a name used twice takes the same $n) and returns the
// statement. It skips what is not a parameter: casts (::type), string
// constants ('…', E'…' with backslash escapes), quoted identifiers ("…"),
// dollar-quoted strings ($$…$$, $tag$…$tag$) and comments (-- … and
// nested /* … */). A name is a letter or _ then letters, digits and _,
// optionally followed by .column (a tuple's column). positional is the
// byte offset of the first $n the source writes itself, -1 when none.
func compile(src SQL) (st Statement, positional int) {
	s := src.Text
	var b strings.Builder
	b.Grow(len(s))
	st.Source = src
	positional = -1
	index := map[string]int{}
	last := 0 // s[last:i] is still to be copied
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\'':
			escapes := i > 0 && (s[i-1] == 'e' || s[i-1] == 'E') && (i < 2 || !identChar(s[i-2]))
			i = skipQuoted(s, i, '\'', escapes)
		case c == '"':
			i = skipQuoted(s, i, '"', false)
		case c == '-' && at(s, i+1) == '-':
			if nl := strings.IndexByte(s[i:], '\n'); nl >= 0 {
				i += nl + 1
			} else {
				i = len(s)
			}
		case c == '/' && at(s, i+1) == '*':
			i = skipComment(s, i)
		case c == '$' && (i == 0 || !identChar(s[i-1])):
			if isDigit(at(s, i+1)) {
				if positional < 0 {
					positional = i
				}
				i++
				continue
			}
			i = skipDollar(s, i)
		case c == ':' && at(s, i+1) == ':':
			i += 2
			for at(s, i) == ':' {
				i++
			}
		case c == ':' && identStart(at(s, i+1)):
			j := i + 1
			for j < len(s) && identChar(s[j]) {
				j++
			}
			if at(s, j) == '.' && identStart(at(s, j+1)) {
				j++
				for j < len(s) && identChar(s[j]) {
					j++
				}
			}
			name := s[i+1 : j]
			n, ok := index[name]
			if !ok {
				st.Params = append(st.Params, name)
				n = len(st.Params)
				index[name] = n
			}
			st.uses = append(st.uses, paramUse{name: name, off: i})
			b.WriteString(s[last:i])
			b.WriteString("$" + strconv.Itoa(n))
			i, last = j, j
		default:
			i++
		}
	}
	b.WriteString(s[last:])
	st.Text = b.String()
	return st, positional
}

// at returns s[i], or 0 past the end.
func at(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func identStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func identChar(c byte) bool { return identStart(c) || isDigit(c) || c == '$' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skipQuoted returns the offset after the quoted text opening at s[i]; a
// doubled quote is one quote inside, and with escapes so is a backslash
// followed by anything. An unterminated quote runs to the end.
func skipQuoted(s string, i int, quote byte, escapes bool) int {
	for j := i + 1; j < len(s); j++ {
		switch {
		case escapes && s[j] == '\\':
			j++
		case s[j] == quote:
			if at(s, j+1) == quote {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}

// skipComment returns the offset after the /* … */ comment opening at
// s[i]; comments nest.
func skipComment(s string, i int) int {
	depth := 0
	for j := i; j < len(s); j++ {
		switch {
		case s[j] == '/' && at(s, j+1) == '*':
			depth++
			j++
		case s[j] == '*' && at(s, j+1) == '/':
			depth--
			j++
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(s)
}

// skipDollar returns the offset after the dollar-quoted string opening at
// s[i] ($$ or $tag$), or i+1 when s[i] opens none.
func skipDollar(s string, i int) int {
	j := i + 1
	for j < len(s) && s[j] != '$' {
		if !identChar(s[j]) || s[j] == '$' || (j == i+1 && !identStart(s[j])) {
			return i + 1
		}
		j++
	}
	if j >= len(s) {
		return i + 1
	}
	tag := s[i : j+1]
	if end := strings.Index(s[j+1:], tag); end >= 0 {
		return j + 1 + end + len(tag)
	}
	return len(s)
}
