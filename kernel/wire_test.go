package kernel

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

const testKey = "a0436f6c-1916-498b-8eb9-e81ab9368e84"

// The signature of these parts under testKey, computed with Python's hmac
// module (hmac.new(key, digestmod=hashlib.sha256), one update per part), the
// way jupyter_client signs.
const (
	vectorHeader = `{"msg_id":"1","msg_type":"kernel_info_request"}`
	vectorSig    = "23d21ade63d42fc48bbe2721cd9045ceffb260c3521b7d246495f23adfca79a0"
)

func frames(parts ...string) [][]byte {
	var out [][]byte
	for _, p := range parts {
		out = append(out, []byte(p))
	}
	return out
}

func testSigner(t *testing.T) *Signer {
	t.Helper()
	s, err := NewSigner("hmac-sha256", testKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSignMatchesPython(t *testing.T) {
	s := testSigner(t)
	got := s.Sign([]byte(vectorHeader), []byte("{}"), []byte("{}"), []byte("{}"))
	if string(got) != vectorSig {
		t.Fatalf("signature %s, want %s", got, vectorSig)
	}
}

func TestDecodeFrames(t *testing.T) {
	s := testSigner(t)
	m, err := DecodeFrames(frames("client-id", "second-id", delimiter, vectorSig, vectorHeader, "{}", "{}", "{}", "buf1", "buf2"), s)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Identities) != 2 || string(m.Identities[0]) != "client-id" || string(m.Identities[1]) != "second-id" {
		t.Errorf("identities %q", m.Identities)
	}
	if m.Header.MsgType != "kernel_info_request" || m.Header.MsgID != "1" {
		t.Errorf("header %+v", m.Header)
	}
	if string(m.RawHeader) != vectorHeader {
		t.Errorf("raw header %s: a reply's parent_header must be the request header verbatim", m.RawHeader)
	}
	if len(m.Buffers) != 2 || string(m.Buffers[1]) != "buf2" {
		t.Errorf("buffers %q", m.Buffers)
	}
}

func TestDecodeAcceptsUpperCaseSignature(t *testing.T) {
	_, err := DecodeFrames(frames(delimiter, strings.ToUpper(vectorSig), vectorHeader, "{}", "{}", "{}"), testSigner(t))
	if err != nil {
		t.Fatal(err)
	}
}

func TestDecodeRejects(t *testing.T) {
	s := testSigner(t)
	flipped := []byte(vectorSig)
	flipped[10] ^= 1
	tests := []struct {
		name   string
		frames [][]byte
		want   error
	}{
		{"no delimiter", frames("id", vectorSig, vectorHeader, "{}", "{}", "{}"), ErrNoDelimiter},
		{"nothing", nil, ErrNoDelimiter},
		{"short", frames(delimiter, vectorSig, vectorHeader, "{}", "{}"), ErrShortMessage},
		{"only delimiter", frames("id", delimiter), ErrShortMessage},
		{"missing signature", frames(delimiter, "", vectorHeader, "{}", "{}", "{}"), ErrBadSignature},
		{"wrong signature", frames(delimiter, string(flipped), vectorHeader, "{}", "{}", "{}"), ErrBadSignature},
		{"not hex", frames(delimiter, strings.Repeat("zz", 32), vectorHeader, "{}", "{}", "{}"), ErrBadSignature},
		{"truncated signature", frames(delimiter, vectorSig[:62], vectorHeader, "{}", "{}", "{}"), ErrBadSignature},
		{"signature of other content", frames(delimiter, vectorSig, vectorHeader, "{}", "{}", `{"code":"x"}`), ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeFrames(tt.frames, s)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDecodeRejectsMalformedJSON(t *testing.T) {
	unsigned := &Signer{}
	for _, parts := range [][]string{
		{delimiter, "", "not json", "{}", "{}", "{}"},
		{delimiter, "", "[]", "{}", "{}", "{}"},
		{delimiter, "", `{"msg_type":"x"}`, "null", "{}", "{}"},
		{delimiter, "", `{"msg_type":"x"}`, "{}", "{", "{}"},
		{delimiter, "", `{"msg_type":"x"}`, "{}", "{}", `"a string"`},
		{delimiter, "", `{"msg_id":"1"}`, "{}", "{}", "{}"},
		{delimiter, "", `{"msg_type":5}`, "{}", "{}", "{}"},
	} {
		if _, err := DecodeFrames(frames(parts...), unsigned); err == nil {
			t.Errorf("%q decoded without error", parts)
		}
	}
}

func TestNoKeyMeansNoSigning(t *testing.T) {
	s, err := NewSigner("hmac-sha256", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Sign([]byte("{}"), nil, nil, nil); len(got) != 0 {
		t.Errorf("signature %q without a key", got)
	}
	if _, err := DecodeFrames(frames(delimiter, "anything", vectorHeader, "{}", "{}", "{}"), s); err != nil {
		t.Errorf("unsigned kernel rejected a message: %v", err)
	}
}

func TestUnsupportedScheme(t *testing.T) {
	if _, err := NewSigner("hmac-md5", "k"); err == nil {
		t.Fatal("hmac-md5 accepted: messages would go unchecked")
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	s := testSigner(t)
	m := &Message{
		Identities: [][]byte{[]byte("peer")},
		RawHeader:  []byte(vectorHeader),
		Content:    []byte(`{"code":"print hi"}`),
		Buffers:    [][]byte{{0, 1, 2}},
	}
	fr := EncodeFrames(m, s)
	if string(fr[1]) != delimiter {
		t.Fatalf("frame 1 is %q, want the delimiter", fr[1])
	}
	for i, want := range []string{"{}", "{}"} { // parent, metadata: {} never null
		if got := string(fr[4+i]); got != want {
			t.Errorf("frame %d = %q, want %q", 4+i, got, want)
		}
	}
	back, err := DecodeFrames(fr, s)
	if err != nil {
		t.Fatal(err)
	}
	if string(back.Content) != string(m.Content) || !bytes.Equal(back.Buffers[0], m.Buffers[0]) || string(back.Identities[0]) != "peer" {
		t.Errorf("round trip changed the message: %+v", back)
	}
}

func TestReplayGuard(t *testing.T) {
	g := newReplayGuard(4)
	if !g.fresh([]byte("a")) || g.fresh([]byte("a")) || g.fresh([]byte("A")) {
		t.Fatal("a replayed signature was accepted (case must not matter)")
	}
	for _, s := range []string{"b", "c", "d", "e"} {
		if !g.fresh([]byte(s)) {
			t.Fatalf("%s rejected", s)
		}
	}
	if !g.fresh([]byte("a")) {
		t.Error("the oldest signature should have been forgotten")
	}
	if !g.fresh(nil) || !g.fresh(nil) {
		t.Error("empty signatures (signing disabled) are never replays")
	}
}
