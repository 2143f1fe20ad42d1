package kernel

import (
	"encoding/json"
	"testing"
)

func historyOf(inputs ...string) *history {
	h := &history{}
	for i, in := range inputs {
		out := "out" + in
		h.add(i+1, in, &out)
	}
	return h
}

func queryJSON(t *testing.T, h *history, req string) string {
	t.Helper()
	var r HistoryRequest
	if err := decodeRequest(json.RawMessage(req), &r); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(h.query(&r))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHistory(t *testing.T) {
	h := historyOf("a1", "b2", "a1", "a3")
	tests := []struct{ req, want string }{
		{`{"hist_access_type":"tail","n":2}`, `[[1,3,"a1"],[1,4,"a3"]]`},
		{`{"hist_access_type":"tail"}`, `[[1,1,"a1"],[1,2,"b2"],[1,3,"a1"],[1,4,"a3"]]`},
		{`{"hist_access_type":"tail","n":1,"output":true}`, `[[1,4,["a3","outa3"]]]`},
		{`{"hist_access_type":"range","session":1,"start":2,"stop":3}`, `[[1,2,"b2"]]`},
		{`{"hist_access_type":"range","session":0,"start":3}`, `[[1,3,"a1"],[1,4,"a3"]]`},
		{`{"hist_access_type":"range","session":7,"start":1,"stop":5}`, `[]`},
		{`{"hist_access_type":"search","pattern":"a*"}`, `[[1,1,"a1"],[1,3,"a1"],[1,4,"a3"]]`},
		{`{"hist_access_type":"search","pattern":"a*","unique":true}`, `[[1,3,"a1"],[1,4,"a3"]]`},
		{`{"hist_access_type":"search","pattern":"a*","n":1}`, `[[1,4,"a3"]]`},
		{`{"hist_access_type":"search","pattern":"?2"}`, `[[1,2,"b2"]]`},
		{`{"hist_access_type":"search","pattern":"[ab][2-3]"}`, `[[1,2,"b2"],[1,4,"a3"]]`},
		{`{"hist_access_type":"search","pattern":"a"}`, `[]`},
	}
	for _, tt := range tests {
		if got := queryJSON(t, h, tt.req); got != tt.want {
			t.Errorf("%s\n got %s\nwant %s", tt.req, got, tt.want)
		}
	}
}

func TestHistoryOutputNull(t *testing.T) {
	h := &history{}
	h.add(1, "x", nil)
	if got := queryJSON(t, h, `{"hist_access_type":"tail","output":true}`); got != `[[1,1,["x",null]]]` {
		t.Errorf("got %s", got)
	}
}

func TestHistoryRequestNeedsType(t *testing.T) {
	for _, req := range []string{`{}`, `{"hist_access_type":"everything"}`, `{"hist_access_type":"tail","n":"3"}`} {
		var r HistoryRequest
		if err := decodeRequest(json.RawMessage(req), &r); err == nil {
			t.Errorf("%s accepted", req)
		}
	}
}

func TestHistoryBounded(t *testing.T) {
	h := &history{}
	for i := 1; i <= maxHistory+10; i++ {
		h.add(i, "x", nil)
	}
	if len(h.entries) != maxHistory || h.entries[0].line != 11 {
		t.Errorf("%d entries starting at %d", len(h.entries), h.entries[0].line)
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "any\nthing/at all", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbcd", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*sleep*", "print x\nsleep 1s", true},
		{"[a-c]x", "bx", true},
		{"[^a-c]x", "bx", false},
		{"[^a-c]x", "dx", true},
		{"[]]", "]", true},
		{"[abc", "[abc", true},
		{"é*", "été", true},
		{"*a*b*c*", "xaybzc", true},
		{"*a*b*c*", "xaybz", false},
		{"A*", "abc", false},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v", tt.pattern, tt.s, got)
		}
	}
}
