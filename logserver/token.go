package logserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/keelvm/keel/logserver/store"
)

// tokenCodec seals pagination positions into opaque tokens. A token carries
// its position and a MAC over it and the query it belongs to, so a forged or
// foreign token (another stream, another filter) is refused as
// InvalidParameterException instead of being read as a position.
type tokenCodec struct{ key []byte }

const macLen = 12

var b64 = base64.RawURLEncoding

func (t tokenCodec) mac(scope string, payload []byte) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(scope))
	m.Write([]byte{0})
	m.Write(payload)
	return m.Sum(nil)[:macLen]
}

func (t tokenCodec) seal(prefix, scope string, payload []byte) string {
	return prefix + b64.EncodeToString(append(payload, t.mac(scope, payload)...))
}

func (t tokenCodec) open(prefix, scope, tok string) ([]byte, bool) {
	rest, ok := strings.CutPrefix(tok, prefix)
	if !ok {
		return nil, false
	}
	raw, err := b64.DecodeString(rest)
	if err != nil || len(raw) < macLen {
		return nil, false
	}
	payload, sum := raw[:len(raw)-macLen], raw[len(raw)-macLen:]
	if !hmac.Equal(sum, t.mac(scope, payload)) {
		return nil, false
	}
	return payload, true
}

func (t tokenCodec) sealName(scope, name string) string {
	return t.seal("n/", scope, []byte(name))
}

func (t tokenCodec) openName(scope, tok string) (string, bool) {
	p, ok := t.open("n/", scope, tok)
	return string(p), ok
}

func (t tokenCodec) sealStreamCursor(scope string, st store.Stream) string {
	p := binary.BigEndian.AppendUint64(nil, uint64(st.LastEventTimestamp))
	return t.seal("s/", scope, append(p, st.Name...))
}

func (t tokenCodec) openStreamCursor(scope, tok string) (store.Stream, bool) {
	p, ok := t.open("s/", scope, tok)
	if !ok || len(p) < 8 {
		return store.Stream{}, false
	}
	return store.Stream{LastEventTimestamp: int64(binary.BigEndian.Uint64(p)), Name: string(p[8:])}, true
}

// eventPos is a position in the (timestamp, stream id, seq) order of events.
type eventPos struct {
	TS       int64
	StreamID uint64
	Seq      uint64
}

func (p eventPos) bytes() []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(p.TS))
	b = binary.BigEndian.AppendUint64(b, p.StreamID)
	return binary.BigEndian.AppendUint64(b, p.Seq)
}

func posFrom(b []byte) (eventPos, bool) {
	if len(b) != 24 {
		return eventPos{}, false
	}
	return eventPos{
		TS:       int64(binary.BigEndian.Uint64(b)),
		StreamID: binary.BigEndian.Uint64(b[8:]),
		Seq:      binary.BigEndian.Uint64(b[16:]),
	}, true
}

// GetLogEvents tokens keep AWS's "f/" (forward) and "b/" (backward) prefixes.
func (t tokenCodec) sealEvents(dir byte, scope string, p eventPos) string {
	return t.seal(string(dir)+"/", scope, p.bytes())
}

func (t tokenCodec) openEvents(scope, tok string) (dir byte, p eventPos, ok bool) {
	if len(tok) < 2 || (tok[0] != 'f' && tok[0] != 'b') {
		return 0, eventPos{}, false
	}
	payload, ok := t.open(tok[:2], scope, tok)
	if !ok {
		return 0, eventPos{}, false
	}
	p, ok = posFrom(payload)
	return tok[0], p, ok
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
