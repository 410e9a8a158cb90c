package scenarios

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ErrNotFound is wrapped by the *Error Resolve returns when a name is neither
// a built-in scenario nor a readable file.
var ErrNotFound = errors.New("scenario not found")

// Error is one problem with a scenario: a syntax error, an unknown field, a
// value of the wrong type or out of range. It names where the bad value came
// from: a file and line, or the command-line flag that set it.
//
// Every error Parse, Load, Resolve, Validate and WithOverrides return for bad
// input is an ErrorList of *Error, so a caller can map them all to one exit
// code with errors.As(err, new(*Error)).
type Error struct {
	// File is the scenario file ("scenarios/mixed.yaml" for a built-in), or
	// empty when there is none.
	File string
	// Line is the 1-based line in File, or 0 when unknown or when the value
	// came from a flag.
	Line int
	// Flag is the command-line flag ("--rate") that set the bad value, or
	// empty when it came from the file.
	Flag string
	// Path is the field path inside the scenario ("load.rate",
	// "architectures[1]", "faults[0].at"), or empty for the whole document.
	Path string
	// Msg says what is wrong and, where it can, what to write instead.
	Msg string
	// Err is the underlying cause, if any (a file-system error, ErrNotFound,
	// a threshold syntax error).
	Err error
}

// Error formats the error as "file:line: path: message", or
// "--flag: path: message" when a flag set the value.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Flag != "":
		b.WriteString(e.Flag)
		b.WriteString(": ")
	case e.File != "":
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":")
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// ErrorList is every problem found in one scenario, in the order of the lines
// they are on. It is never returned empty.
type ErrorList []*Error

// Error joins the errors, one per line.
func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap returns the errors, so errors.Is and errors.As look into each.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// err returns l as an error, or nil when it is empty (never a typed nil).
func (l ErrorList) err() error {
	if len(l) == 0 {
		return nil
	}
	sort.SliceStable(l, func(i, j int) bool { return lineKey(l[i]) < lineKey(l[j]) })
	return l
}

// lineKey sorts errors with a line first, by line; the others (flags, whole
// file) after them in the order they were found.
func lineKey(e *Error) int {
	if e.Line > 0 {
		return e.Line
	}
	return int(^uint(0) >> 1)
}

// got describes a value for an error message: strings quoted, numbers plain.
func got(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return fmt.Sprint(v)
	}
}
