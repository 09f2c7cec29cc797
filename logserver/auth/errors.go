package auth

import "net/http"

// Error is a refusal in the words AWS uses, ready for the awsJson1_1 error
// body: Code goes to __type (and x-amzn-ErrorType), Message to message.
type Error struct {
	Status  int    // HTTP status; always 400 for the awsJson1_1 protocol
	Code    string // e.g. "InvalidSignatureException"
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Error codes that Verify and Authorize return.
const (
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	CodeIncompleteSignature        = "IncompleteSignatureException"
	CodeUnrecognizedClient         = "UnrecognizedClientException"
	CodeInvalidSignature           = "InvalidSignatureException"
	CodeAccessDenied               = "AccessDeniedException"
	CodeInternalFailure            = "InternalFailure"
	CodeExpiredToken               = "ExpiredTokenException"
)

// msgSignatureMismatch is AWS's text for every kind of mismatch, wrong secret
// and tampered request alike, so a caller learns nothing about which it was.
const msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. " +
	"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

func newError(code, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: msg}
}

func errMissingToken() *Error {
	return newError(CodeMissingAuthenticationToken, "Missing Authentication Token")
}

func errIncomplete(msg string) *Error { return newError(CodeIncompleteSignature, msg) }

func errInvalid(msg string) *Error { return newError(CodeInvalidSignature, msg) }

func errUnrecognizedClient() *Error {
	return newError(CodeUnrecognizedClient, "The security token included in the request is invalid.")
}

func errMismatch() *Error { return errInvalid(msgSignatureMismatch) }
