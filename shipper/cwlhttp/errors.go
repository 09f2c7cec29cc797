package cwlhttp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/smithy-go"
)

// APIError is an error answer of the service. It satisfies smithy-go's
// APIError interface (ErrorCode, ErrorMessage, ErrorFault), as the SDK's
// typed errors do, so that callers classify both by code alike.
type APIError struct {
	Op      string // the operation, e.g. "PutLogEvents"
	Status  int    // the HTTP status
	Code    string // e.g. "ThrottlingException"
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s: HTTP %d: %s: %s", e.Op, e.Status, e.Code, e.Message)
}

// ErrorCode is the service's error code.
func (e *APIError) ErrorCode() string { return e.Code }

// ErrorMessage is the service's message.
func (e *APIError) ErrorMessage() string { return e.Message }

// ErrorFault is the client's for 4xx answers and the server's otherwise.
func (e *APIError) ErrorFault() smithy.ErrorFault {
	if e.Status >= 400 && e.Status < 500 {
		return smithy.FaultClient
	}
	return smithy.FaultServer
}

// The shipper classifies by smithy.APIError's ErrorCode.
var _ smithy.APIError = (*APIError)(nil)

// decodeError reads an error answer the way the SDK's awsjson1.1 decoder
// does (docs/cloudwatch-logs.md): the code from X-Amzn-ErrorType first,
// then the body's __type (or code), with anything after ':' and before
// '#' stripped; the message from the body's message (or Message).
func decodeError(op string, status int, h http.Header, body []byte) *APIError {
	var doc struct {
		Type     string `json:"__type"`
		Code     string `json:"code"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	_ = json.Unmarshal(body, &doc) // a body that is not JSON leaves the code to the status
	code := h.Get("X-Amzn-ErrorType")
	if code == "" {
		code = doc.Type
	}
	if code == "" {
		code = doc.Code
	}
	code = sanitizeCode(code)
	msg := doc.Message
	if msg == "" {
		msg = doc.MessageU
	}
	if code == "" {
		code = "UnknownError"
		if msg == "" {
			msg = http.StatusText(status)
		}
	}
	return &APIError{Op: op, Status: status, Code: code, Message: msg}
}

// sanitizeCode strips a code's annotations: "aws.protocoltests#FooError:http://..." is "FooError".
func sanitizeCode(code string) string {
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	return strings.TrimSpace(code)
}
