package auth

import (
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// This file rebuilds the SigV4 canonical request from the server's view of a
// request. Where the clients differ, aws-sdk-go-v2's signer is the reference;
// botocore agrees on everything a CloudWatch Logs request contains.

// appendCanonicalURI appends the URI path encoded as SigV4 wants for every
// service but S3: the path as sent (already percent-encoded) is encoded once
// more, leaving only unreserved characters and '/'. For this service the
// path is "/".
func appendCanonicalURI(b []byte, u *url.URL) []byte {
	p := u.EscapedPath()
	if p == "" {
		return append(b, '/')
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; isUnreserved(c) || c == '/' {
			b = append(b, c)
		} else {
			b = appendPercent(b, c)
		}
	}
	return b
}

// appendCanonicalQuery appends the query string with each name and value
// decoded, then re-encoded the SigV4 way, and the pairs sorted by encoded
// name, then value. Like the SDK (which parses with url.ParseQuery), it drops
// empty pieces and pairs with a malformed escape.
func appendCanonicalQuery(b []byte, rawQuery string) []byte {
	if rawQuery == "" {
		return b
	}
	type pair struct{ k, v string }
	var pairs []pair
	for piece := range strings.SplitSeq(rawQuery, "&") {
		if piece == "" {
			continue
		}
		k, v, _ := strings.Cut(piece, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			continue
		}
		pairs = append(pairs, pair{encodeQueryComponent(k), encodeQueryComponent(v)})
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	for i, p := range pairs {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, p.k...)
		b = append(b, '=')
		b = append(b, p.v...)
	}
	return b
}

func encodeQueryComponent(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if c := s[i]; isUnreserved(c) {
			b = append(b, c)
		} else {
			b = appendPercent(b, c)
		}
	}
	return string(b)
}

// appendCanonicalHeaders appends one "name:value\n" line per signed header,
// in the order the client listed them (it sorted them to sign). Host and
// Content-Length are not in r.Header on the server side; they come from
// r.Host and r.ContentLength.
func appendCanonicalHeaders(b []byte, r *http.Request, signed string) []byte {
	for name := range strings.SplitSeq(signed, ";") {
		b = append(b, name...)
		b = append(b, ':')
		switch {
		case strings.EqualFold(name, "host"):
			host := r.Host
			if host == "" {
				host = r.URL.Host // a client-side request that never crossed the wire
			}
			b = appendHeaderValue(b, host)
		case strings.EqualFold(name, "content-length") && r.ContentLength >= 0:
			b = strconv.AppendInt(b, r.ContentLength, 10)
		default:
			for i, v := range headerValues(r.Header, name) {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendHeaderValue(b, v)
			}
		}
		b = append(b, '\n')
	}
	return b
}

// headerValues finds a header by its lower-case signed name. The server
// stores names in canonical form, so the direct lookup nearly always hits;
// the scan catches names that textproto leaves as they came.
func headerValues(h http.Header, name string) []string {
	if v, ok := h[textproto.CanonicalMIMEHeaderKey(name)]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// appendHeaderValue appends v trimmed, with each run of spaces made one.
func appendHeaderValue(b []byte, v string) []byte {
	v = strings.TrimSpace(v)
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b = append(b, c)
	}
	return b
}

// hasSignedHeader reports whether name is in the ';'-separated signed list.
func hasSignedHeader(signed, name string) bool {
	for h := range strings.SplitSeq(signed, ";") {
		if strings.EqualFold(h, name) {
			return true
		}
	}
	return false
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func appendPercent(b []byte, c byte) []byte {
	const hexUpper = "0123456789ABCDEF"
	return append(b, '%', hexUpper[c>>4], hexUpper[c&15])
}
