package pack

import (
	"errors"
	"sort"
	"strconv"
	"strings"
)

// Error is one mistake in a pack: in workload.yaml, in one of its SQL files,
// or in what the data it describes does to the schema.
type Error struct {
	// File is the file at fault, as given to Load joined with the pack's
	// directory.
	File string
	// Line is the 1-based line in File, or 0 when unknown.
	Line int
	// Path is the place in workload.yaml ("data.tables.tickets.rows"), or
	// empty.
	Path string
	// Msg says what is wrong and what to write instead.
	Msg string
	// Err is the underlying cause, if any (a file-system or PostgreSQL
	// error).
	Err error
}

// Error formats the error as "file:line: path: message".
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// ExitCode is 2: a pack's mistakes are bad input.
func (e *Error) ExitCode() int { return 2 }

// ErrorList is every mistake found in a pack, ordered by file and line. It
// is never empty.
type ErrorList []*Error

// Error joins the errors, one per line.
func (l ErrorList) Error() string { return errors.Join(l.Unwrap()...).Error() }

// Unwrap returns the errors, so errors.Is and errors.As look into each.
func (l ErrorList) Unwrap() []error {
	var errs []error
	for _, e := range l {
		errs = append(errs, e)
	}
	return errs
}

// ExitCode is 2: a pack's mistakes are bad input.
func (l ErrorList) ExitCode() int { return 2 }

// err returns l sorted as an error, or nil when it is empty.
func (l ErrorList) err() error {
	switch len(l) {
	case 0:
		return nil
	case 1:
		return l[0]
	}
	sort.SliceStable(l, func(i, j int) bool {
		if l[i].File != l[j].File {
			return l[i].File < l[j].File
		}
		return l[i].Line < l[j].Line
	})
	return l
}
