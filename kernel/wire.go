package kernel

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"sync"
)

// delimiter separates the routing identities from the signed message parts.
const delimiter = "<IDS|MSG>"

// Message is one Jupyter message as it crosses a socket:
//
//	[ident…, "<IDS|MSG>", hmac, header, parent_header, metadata, content, buffers…]
//
// The header, parent, metadata and content parts are kept as the JSON bytes
// that were received, because the signature covers those exact bytes and a
// reply's parent_header must be the request's header verbatim.
type Message struct {
	// Identities are the routing frames before the delimiter: on a ROUTER,
	// who to reply to; on IOPub, the topic.
	Identities [][]byte
	// Header is the decoded header; RawHeader the bytes it came from.
	Header    Header
	RawHeader json.RawMessage
	// ParentHeader, Metadata and Content are JSON objects.
	ParentHeader json.RawMessage
	Metadata     json.RawMessage
	Content      json.RawMessage
	// Buffers are the binary frames after content.
	Buffers [][]byte
}

// Errors from DecodeFrames. A message failing any of them is dropped.
var (
	ErrNoDelimiter  = errors.New("no <IDS|MSG> delimiter")
	ErrShortMessage = errors.New("fewer than 5 frames after the delimiter")
	ErrBadSignature = errors.New("bad or missing signature")
)

// Signer signs and verifies messages with the connection file's key. A nil
// Signer, or one with an empty key, neither signs nor checks: the protocol's
// "authentication disabled" mode.
type Signer struct {
	key []byte
	mu  sync.Mutex
	mac hash.Hash
}

// NewSigner returns the signer for a connection file's signature_scheme and
// key. Only hmac-sha256 exists in practice (jupyter_client's default and the
// only scheme its docs describe); other schemes are refused rather than
// silently accepted unchecked.
func NewSigner(scheme, key string) (*Signer, error) {
	if key == "" {
		return &Signer{}, nil
	}
	switch scheme {
	case "hmac-sha256", "":
	default:
		return nil, fmt.Errorf("unsupported signature_scheme %q (only hmac-sha256)", scheme)
	}
	k := []byte(key)
	return &Signer{key: k, mac: hmac.New(sha256.New, k)}, nil
}

// enabled reports whether messages are signed.
func (s *Signer) enabled() bool { return s != nil && len(s.key) > 0 }

// Sign returns the hex signature of the four signed parts, or "" when
// signing is disabled.
func (s *Signer) Sign(header, parent, metadata, content []byte) []byte {
	if !s.enabled() {
		return []byte{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mac.Reset()
	s.mac.Write(header)
	s.mac.Write(parent)
	s.mac.Write(metadata)
	s.mac.Write(content)
	sum := s.mac.Sum(nil)
	out := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(out, sum)
	return out
}

// verify checks sig in constant time. Comparing the hex text is as good as
// comparing the digests: hex encoding is fixed-length and one-to-one for the
// lower-case form Python's hexdigest emits, and upper-case is accepted by
// decoding first.
func (s *Signer) verify(sig, header, parent, metadata, content []byte) bool {
	if !s.enabled() {
		return true
	}
	got := make([]byte, hex.DecodedLen(len(sig)))
	if _, err := hex.Decode(got, sig); err != nil {
		return false
	}
	wantHex := s.Sign(header, parent, metadata, content)
	want := make([]byte, hex.DecodedLen(len(wantHex)))
	hex.Decode(want, wantHex)
	return hmac.Equal(got, want)
}

// DecodeFrames parses and verifies one multipart message. It never panics on
// malformed input: every index is checked against the frame count first.
func DecodeFrames(frames [][]byte, s *Signer) (*Message, error) {
	delim := -1
	for i, f := range frames {
		if string(f) == delimiter {
			delim = i
			break
		}
	}
	if delim < 0 {
		return nil, ErrNoDelimiter
	}
	if len(frames) < delim+6 {
		return nil, ErrShortMessage
	}
	sig := frames[delim+1]
	header, parent, metadata, content := frames[delim+2], frames[delim+3], frames[delim+4], frames[delim+5]
	if !s.verify(sig, header, parent, metadata, content) {
		return nil, ErrBadSignature
	}
	m := &Message{
		Identities:   frames[:delim],
		RawHeader:    json.RawMessage(header),
		ParentHeader: json.RawMessage(parent),
		Metadata:     json.RawMessage(metadata),
		Content:      json.RawMessage(content),
		Buffers:      frames[delim+6:],
	}
	for _, p := range []struct {
		name string
		b    []byte
	}{{"header", header}, {"parent_header", parent}, {"metadata", metadata}, {"content", content}} {
		if !isJSONObject(p.b) {
			return nil, fmt.Errorf("%s is not a JSON object", p.name)
		}
	}
	if err := json.Unmarshal(header, &m.Header); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if m.Header.MsgType == "" {
		return nil, errors.New("header has no msg_type")
	}
	return m, nil
}

// EncodeFrames is DecodeFrames' inverse: it signs and lays out m. Empty
// parent, metadata or content parts are sent as {} (never null), as the
// protocol asks.
func EncodeFrames(m *Message, s *Signer) [][]byte {
	parent := objectOrEmpty(m.ParentHeader)
	metadata := objectOrEmpty(m.Metadata)
	content := objectOrEmpty(m.Content)
	frames := make([][]byte, 0, len(m.Identities)+6+len(m.Buffers))
	frames = append(frames, m.Identities...)
	frames = append(frames,
		[]byte(delimiter),
		s.Sign(m.RawHeader, parent, metadata, content),
		m.RawHeader, parent, metadata, content)
	frames = append(frames, m.Buffers...)
	return frames
}

var emptyObject = []byte("{}")

func objectOrEmpty(b []byte) []byte {
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return emptyObject
	}
	return b
}

// isJSONObject reports whether b is valid JSON whose top level is an object.
func isJSONObject(b []byte) bool {
	t := bytes.TrimLeft(b, " \t\r\n")
	return len(t) > 0 && t[0] == '{' && json.Valid(b)
}

// replayGuard remembers recent signatures and rejects a message seen before,
// as jupyter_client's Session does: an attacker who can sniff the loopback
// cannot re-send a captured execute_request. The window is bounded; the
// oldest signatures are forgotten first.
type replayGuard struct {
	mu   sync.Mutex
	seen map[string]struct{}
	ring []string
	next int
}

func newReplayGuard(size int) *replayGuard {
	return &replayGuard{seen: make(map[string]struct{}, size), ring: make([]string, size)}
}

// fresh records sig and reports whether it was new. Empty signatures
// (signing disabled) are always fresh.
func (g *replayGuard) fresh(sig []byte) bool {
	if len(sig) == 0 {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	k := string(bytes.ToLower(sig))
	if _, dup := g.seen[k]; dup {
		return false
	}
	if old := g.ring[g.next]; old != "" {
		delete(g.seen, old)
	}
	g.ring[g.next] = k
	g.next = (g.next + 1) % len(g.ring)
	g.seen[k] = struct{}{}
	return true
}
