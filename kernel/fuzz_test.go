package kernel

import (
	"bytes"
	"testing"
)

// splitFrames turns fuzz input into frames: frames are separated by a 0xFF
// byte, so the fuzzer can vary frame counts and contents from one []byte.
func splitFrames(b []byte) [][]byte {
	if len(b) == 0 {
		return nil
	}
	return bytes.Split(b, []byte{0xff})
}

func joinFrames(fr [][]byte) []byte { return bytes.Join(fr, []byte{0xff}) }

// FuzzDecodeFrames feeds arbitrary frames to the wire decoder, signed and
// unsigned. The decoder must never panic, and whatever it accepts must
// survive encode → decode unchanged.
func FuzzDecodeFrames(f *testing.F) {
	signer, _ := NewSigner("hmac-sha256", testKey)
	f.Add(joinFrames(frames("id", delimiter, vectorSig, vectorHeader, "{}", "{}", "{}")), true)
	f.Add(joinFrames(frames(delimiter, "", `{"msg_id":"a","msg_type":"execute_request","version":"5.3"}`, "{}", "{}", `{"code":"print x","silent":false}`, "buf")), false)
	f.Add(joinFrames(frames(delimiter, "", `{"msg_type":"x"}`, "{}", "{}")), false)
	f.Add(joinFrames(frames("a", "b", "c")), false)
	f.Add([]byte(delimiter), false)
	f.Fuzz(func(t *testing.T, data []byte, signed bool) {
		s := &Signer{}
		fr := splitFrames(data)
		if signed {
			s = signer
			// Re-sign valid-looking input so the fuzzer gets past the
			// signature check and into the JSON parsing.
			for i, x := range fr {
				if string(x) == delimiter {
					if len(fr) >= i+6 {
						fr[i+1] = s.Sign(fr[i+2], fr[i+3], fr[i+4], fr[i+5])
					}
					break
				}
			}
		}
		m, err := DecodeFrames(fr, s)
		if err != nil {
			return
		}
		back, err := DecodeFrames(EncodeFrames(m, s), s)
		if err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
		if back.Header != m.Header || !bytes.Equal(back.Content, m.Content) || len(back.Buffers) != len(m.Buffers) ||
			len(back.Identities) != len(m.Identities) {
			t.Fatalf("round trip changed the message:\n%+v\n%+v", m, back)
		}
	})
}
