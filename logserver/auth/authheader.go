package auth

import (
	"fmt"
	"strings"
)

const algorithmHMAC = "AWS4-HMAC-SHA256"

// authorization is the parsed Authorization header of a SigV4 request:
//
//	AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/logs/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex
type authorization struct {
	Credential    string
	SignedHeaders string
	Signature     string
}

// parseAuthorization splits an Authorization header value into its parts.
// It fails only on a malformed structure; a missing part is left empty so
// that the caller can name every missing part in one message, as AWS does.
// A value that is not SigV4 at all ("Bearer ...") yields no parts, which AWS
// also answers by listing what is missing.
func parseAuthorization(v string) (authorization, *Error) {
	var a authorization
	alg, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
	if alg != algorithmHMAC {
		if strings.HasPrefix(alg, "AWS4-") {
			return a, errIncomplete(fmt.Sprintf("Unsupported AWS 'algorithm': '%s'; this server accepts only '%s'. Authorization=%s",
				alg, algorithmHMAC, v))
		}
		return a, nil
	}
	// AWS separates the parameters by commas and tolerates any spacing, so
	// both count as separators; a stray space inside a value therefore
	// surfaces as a part without '=', the error AWS reports for it.
	parts := strings.FieldsFunc(rest, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	for _, p := range parts {
		name, val, ok := strings.Cut(p, "=")
		if !ok {
			return a, errIncomplete(fmt.Sprintf("'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", p, v))
		}
		switch name {
		case "Credential":
			setOnce(&a.Credential, val)
		case "SignedHeaders":
			setOnce(&a.SignedHeaders, val)
		case "Signature":
			setOnce(&a.Signature, val)
		}
	}
	return a, nil
}

// setOnce keeps the first value of a repeated parameter, so a second one
// appended to a signed header cannot override what was signed.
func setOnce(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// credential is the Credential parameter: AKID/date/region/service/aws4_request.
type credential struct {
	KeyID, Date, Region, Service, Terminator string
	Scope                                    string // everything after "AKID/", as it goes into the string to sign
}

func parseCredential(c string) (credential, *Error) {
	parts := strings.Split(c, "/")
	if len(parts) != 5 {
		return credential{}, errIncomplete(fmt.Sprintf(
			"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", c))
	}
	return credential{
		KeyID:      parts[0],
		Date:       parts[1],
		Region:     parts[2],
		Service:    parts[3],
		Terminator: parts[4],
		Scope:      c[len(parts[0])+1:],
	}, nil
}
