// Package derrors holds the kinds of error every capability wraps, so that
// each surface (HTML pages, the JSON API, OSMP, RADIUS) maps them in one
// place: a capability says what went wrong, a surface decides how to say it.
//
// A capability's own meaningful errors stay its own (billing's "not enough
// money", operator's "last admin"), but each wraps a kind and may carry a
// message code the surfaces translate as "<surface>.error.<code>".
package derrors

import (
	"errors"
	"fmt"
)

// The kinds. Check them with errors.Is; wrap them with fmt.Errorf("...: %w").
var (
	NotFound    = errors.New("not found")
	Invalid     = errors.New("invalid")
	Conflict    = errors.New("conflict")
	Forbidden   = errors.New("forbidden")
	Unavailable = errors.New("unavailable")
)

// Exists is the conflict of a second thing with a name or code taken.
var Exists error = New(Conflict, "exists", "already exists")

// Error is a refusal of one kind with a message the user can act on.
type Error struct {
	Kind  error  // one of the kinds above
	Code  string // message code: a surface shows "<surface>.error.<Code>"
	Field string // the input at fault, for a form to mark, if any
	Msg   string // for logs and tests, in English
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Kind }

// New returns an error of kind with a message code; declare a capability's
// specific errors with it, and compare them with errors.Is as before.
func New(kind error, code, msg string) *Error {
	return &Error{Kind: kind, Code: code, Msg: msg}
}

// Invalidf is bad input in field, shown as message code.
func Invalidf(field, code, format string, args ...any) error {
	return &Error{Kind: Invalid, Code: code, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Code is the message code of the outermost Error in err's chain, or "".
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Field is the input at fault named by an Error in err's chain, or "".
func Field(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// Kind is the kind err wraps, or nil for an unexpected error.
func Kind(err error) error {
	for _, k := range []error{NotFound, Invalid, Conflict, Forbidden, Unavailable} {
		if errors.Is(err, k) {
			return k
		}
	}
	return nil
}
