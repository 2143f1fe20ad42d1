package kernel

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestNewMessageHeader(t *testing.T) {
	id := identity{session: "sess", username: "root"}
	parent := &Message{RawHeader: json.RawMessage(`{"msg_id":"p1","msg_type":"execute_request"}`)}
	m, err := id.newMessage(parent, "execute_reply", ExecuteReply{Status: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(m.RawHeader, &h); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"msg_id", "session", "username", "date", "msg_type", "version"} {
		if s, _ := h[k].(string); s == "" {
			t.Errorf("header %s missing: %s", k, m.RawHeader)
		}
	}
	if h["version"] != "5.3" || h["session"] != "sess" || h["msg_type"] != "execute_reply" {
		t.Errorf("header %s", m.RawHeader)
	}
	if _, err := time.Parse(time.RFC3339Nano, h["date"].(string)); err != nil {
		t.Errorf("date is not ISO 8601: %v", err)
	}
	if string(m.ParentHeader) != string(parent.RawHeader) {
		t.Errorf("parent header %s", m.ParentHeader)
	}
	orphan, _ := id.newMessage(nil, "status", statusContent{ExecutionState: "starting"})
	if string(orphan.ParentHeader) != "{}" || string(orphan.Metadata) != "{}" {
		t.Errorf("empty parent/metadata must be {}: %s %s", orphan.ParentHeader, orphan.Metadata)
	}
}

func TestReplyContentsHaveNoNulls(t *testing.T) {
	for _, c := range []any{
		ExecuteReply{Status: "ok", Payload: []map[string]any{}, UserExpressions: map[string]any{}},
		errorReply(&CellError{Name: "E"}),
		CommInfoReply{Status: "ok", Comms: map[string]any{}},
		InspectReply{Status: "ok", Data: map[string]any{}, Metadata: map[string]any{}},
	} {
		b, err := marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "null") {
			t.Errorf("%T has a null: %s", c, b)
		}
	}
}

func TestMarshalKeepsMarkup(t *testing.T) {
	b, _ := marshal(map[string]string{"image/svg+xml": "<svg>&</svg>"})
	if string(b) != `{"image/svg+xml":"<svg>&</svg>"}` {
		t.Errorf("got %s", b)
	}
}

func TestDecodeRequest(t *testing.T) {
	tests := []struct {
		content string
		req     request
		ok      bool
	}{
		{`{"code":"x"}`, &ExecuteRequest{}, true},
		{`{}`, &ExecuteRequest{}, false},
		{`{"code":null}`, &ExecuteRequest{}, false},
		{`{"code":5}`, &ExecuteRequest{}, false},
		{`{"code":"x","silent":"yes"}`, &ExecuteRequest{}, false},
		{`{"code":"x","cursor_pos":3}`, &CompleteRequest{}, true},
		{`{"code":"x","cursor_pos":3.0}`, &CompleteRequest{}, true},
		{`{"code":"x","cursor_pos":3.5}`, &CompleteRequest{}, false},
		{`{"code":"x"}`, &CompleteRequest{}, true},
		{`{"cursor_pos":1}`, &InspectRequest{}, false},
		{`{}`, &IsCompleteRequest{}, false},
		{`{"restart":true}`, &ShutdownRequest{}, true},
		{`{"target_name":"jupyter.widget"}`, &CommOpen{}, false},
		{`{"comm_id":"c","target_name":"t","data":{}}`, &CommOpen{}, true},
		{`{"code":"x","unknown_field":[1,2]}`, &ExecuteRequest{}, true},
	}
	for _, tt := range tests {
		err := decodeRequest(json.RawMessage(tt.content), tt.req)
		if (err == nil) != tt.ok {
			t.Errorf("%T %s: err %v", tt.req, tt.content, err)
		}
	}
}

func TestExecuteRequestDefaults(t *testing.T) {
	var r ExecuteRequest
	decodeRequest(json.RawMessage(`{"code":"x"}`), &r)
	if !r.storeHistory() || !r.stopOnError() {
		t.Error("store_history and stop_on_error default to true")
	}
	decodeRequest(json.RawMessage(`{"code":"x","silent":true,"store_history":true}`), &r)
	if r.storeHistory() {
		t.Error("a silent cell is never stored")
	}
}
