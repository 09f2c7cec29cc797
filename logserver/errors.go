package logserver

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"syscall"

	"github.com/keelvm/keel/logserver/store"
)

// apiError is an error in the shape AWS clients parse: an HTTP status and a
// body of {"__type": code, "message": text}.
type apiError struct {
	Status  int
	Code    string
	Message string
	// Extra members of the error body (for example expectedSequenceToken).
	Extra map[string]any
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errInvalidParameter(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "InvalidParameterException", Message: fmt.Sprintf(format, args...)}
}

func errResourceNotFound(msg string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "ResourceNotFoundException", Message: msg}
}

func errAlreadyExists(msg string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "ResourceAlreadyExistsException", Message: msg}
}

func errSerialization(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "SerializationException", Message: fmt.Sprintf(format, args...)}
}

func errServiceUnavailable(msg string) *apiError {
	return &apiError{Status: http.StatusInternalServerError, Code: "ServiceUnavailableException", Message: msg}
}

func errInternal(msg string) *apiError {
	return &apiError{Status: http.StatusInternalServerError, Code: "InternalServerException", Message: msg}
}

const (
	msgGroupNotFound  = "The specified log group does not exist."
	msgStreamNotFound = "The specified log stream does not exist."
	msgGroupExists    = "The specified log group already exists"
	msgStreamExists   = "The specified log stream already exists"
	msgBadToken       = "The specified nextToken is invalid."
)

// violations collects constraint failures so that one response reports all of
// them, the way AWS does: "2 validation errors detected: ...; ...".
type violations []string

func (v *violations) add(value any, path, constraint string) {
	*v = append(*v, fmt.Sprintf("Value '%v' at '%s' failed to satisfy constraint: %s", value, path, constraint))
}

func (v *violations) addNull(path string) {
	*v = append(*v, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", path))
}

func (v violations) err() *apiError {
	if len(v) == 0 {
		return nil
	}
	noun := "error"
	if len(v) > 1 {
		noun = "errors"
	}
	return errInvalidParameter("%d validation %s detected: %s", len(v), noun, strings.Join(v, "; "))
}

func isDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// isGone reports a stream or group deleted while a request used it.
func isGone(err error) bool {
	return errors.Is(err, store.ErrStreamNotFound) || errors.Is(err, store.ErrGroupNotFound)
}
