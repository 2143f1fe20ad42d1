package kernel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/user"
	"time"

	"github.com/google/uuid"
)

// ProtocolVersion is the messaging protocol version this kernel speaks. 5.3
// is the first with interrupt_request on control; jupyter_kernel_test's
// schema checks fail every message of a kernel claiming 5.0 or 5.1.
const ProtocolVersion = "5.3"

// Header is a message header. Every field is always sent.
type Header struct {
	MsgID    string `json:"msg_id"`
	Session  string `json:"session"`
	Username string `json:"username"`
	Date     string `json:"date"`
	MsgType  string `json:"msg_type"`
	Version  string `json:"version"`
}

// identity is what this kernel process puts in the headers it sends: one
// session id per process, the user it runs as.
type identity struct {
	session  string
	username string
}

func newIdentity() identity {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "tracebook"
	}
	return identity{session: uuid.NewString(), username: name}
}

// isoDate formats t as ISO 8601 with microseconds in UTC, the form
// jupyter_client writes and parses.
func isoDate(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
}

// newMessage builds a message of msgType in reply to (or on behalf of)
// parent, which may be nil for messages that have none (status: starting).
func (id identity) newMessage(parent *Message, msgType string, content any) (*Message, error) {
	h := Header{
		MsgID:    uuid.NewString(),
		Session:  id.session,
		Username: id.username,
		Date:     isoDate(time.Now()),
		MsgType:  msgType,
		Version:  ProtocolVersion,
	}
	rawHeader, err := marshal(h)
	if err != nil {
		return nil, err
	}
	rawContent, err := marshal(content)
	if err != nil {
		return nil, fmt.Errorf("%s content: %w", msgType, err)
	}
	m := &Message{Header: h, RawHeader: rawHeader, ParentHeader: emptyObject, Metadata: emptyObject, Content: rawContent}
	if parent != nil {
		m.ParentHeader = parent.RawHeader
	}
	return m, nil
}

// marshal encodes v as compact JSON without HTML escaping, so SVG and HTML
// outputs are not inflated with \u003c sequences. Invalid UTF-8 in strings
// becomes U+FFFD, which Python's decoder accepts.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// dict returns m, or an empty map for nil, so that JSON carries {} not null.
func dict(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// optInt is an optional integer field. It accepts integral floats (3.0),
// which some clients send, and null.
type optInt struct {
	Set bool
	V   int
}

func (o *optInt) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*o = optInt{}
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return fmt.Errorf("%s is not an integer", b)
	}
	*o = optInt{Set: true, V: int(f)}
	return nil
}

// request is a typed request content that can say what it lacks.
type request interface{ check() error }

// decodeRequest decodes content into r and checks its required fields. A
// field of the wrong type or a missing required field is an error that the
// dispatcher turns into an error reply.
func decodeRequest(content json.RawMessage, r request) error {
	if err := json.Unmarshal(content, r); err != nil {
		return err
	}
	return r.check()
}

var errNoCode = errors.New("the request has no code")

// ExecuteRequest is execute_request's content.
type ExecuteRequest struct {
	Code            *string        `json:"code"`
	Silent          bool           `json:"silent"`
	StoreHistory    *bool          `json:"store_history"`
	UserExpressions map[string]any `json:"user_expressions"`
	AllowStdin      bool           `json:"allow_stdin"`
	StopOnError     *bool          `json:"stop_on_error"`
}

func (r *ExecuteRequest) check() error {
	if r.Code == nil {
		return errNoCode
	}
	return nil
}

// storeHistory applies the protocol's defaults: true, but never for silent.
func (r *ExecuteRequest) storeHistory() bool {
	return !r.Silent && (r.StoreHistory == nil || *r.StoreHistory)
}

func (r *ExecuteRequest) stopOnError() bool { return r.StopOnError == nil || *r.StopOnError }

// CompleteRequest is complete_request's content. A missing cursor_pos means
// the end of code.
type CompleteRequest struct {
	Code      *string `json:"code"`
	CursorPos optInt  `json:"cursor_pos"`
}

func (r *CompleteRequest) check() error {
	if r.Code == nil {
		return errNoCode
	}
	return nil
}

// InspectRequest is inspect_request's content.
type InspectRequest struct {
	Code        *string `json:"code"`
	CursorPos   optInt  `json:"cursor_pos"`
	DetailLevel optInt  `json:"detail_level"`
}

func (r *InspectRequest) check() error {
	if r.Code == nil {
		return errNoCode
	}
	return nil
}

// IsCompleteRequest is is_complete_request's content.
type IsCompleteRequest struct {
	Code *string `json:"code"`
}

func (r *IsCompleteRequest) check() error {
	if r.Code == nil {
		return errNoCode
	}
	return nil
}

// HistoryRequest is history_request's content.
type HistoryRequest struct {
	Output         bool    `json:"output"`
	Raw            bool    `json:"raw"`
	HistAccessType string  `json:"hist_access_type"`
	Session        optInt  `json:"session"`
	Start          optInt  `json:"start"`
	Stop           optInt  `json:"stop"`
	N              optInt  `json:"n"`
	Pattern        *string `json:"pattern"`
	Unique         bool    `json:"unique"`
}

func (r *HistoryRequest) check() error {
	switch r.HistAccessType {
	case "tail", "range", "search":
		return nil
	case "":
		return errors.New("history_request has no hist_access_type")
	}
	return fmt.Errorf("unknown hist_access_type %q", r.HistAccessType)
}

// CommInfoRequest is comm_info_request's content.
type CommInfoRequest struct {
	TargetName string `json:"target_name"`
}

func (r *CommInfoRequest) check() error { return nil }

// CommOpen is comm_open's content (no reply; see handleCommOpen).
type CommOpen struct {
	CommID     string         `json:"comm_id"`
	TargetName string         `json:"target_name"`
	Data       map[string]any `json:"data"`
}

func (r *CommOpen) check() error {
	if r.CommID == "" {
		return errors.New("comm_open has no comm_id")
	}
	return nil
}

// ShutdownRequest is shutdown_request's content.
type ShutdownRequest struct {
	Restart bool `json:"restart"`
}

func (r *ShutdownRequest) check() error { return nil }

// emptyRequest is the content of requests without fields (kernel_info,
// interrupt, comm_info without a target, connect).
type emptyRequest struct{}

func (emptyRequest) check() error { return nil }

// Reply contents. Each is complete: jupyter_kernel_test's schemas require
// every listed key.

// ExecuteReply is execute_reply's content on success.
type ExecuteReply struct {
	Status          string           `json:"status"`
	ExecutionCount  int              `json:"execution_count"`
	Payload         []map[string]any `json:"payload"`
	UserExpressions map[string]any   `json:"user_expressions"`
}

// ErrorReply is the content of any reply with status "error". Execute
// replies also carry execution_count.
type ErrorReply struct {
	Status         string   `json:"status"`
	Ename          string   `json:"ename"`
	Evalue         string   `json:"evalue"`
	Traceback      []string `json:"traceback"`
	ExecutionCount *int     `json:"execution_count,omitempty"`
}

func errorReply(e *CellError) ErrorReply {
	tb := e.Traceback
	if tb == nil {
		tb = []string{}
	}
	return ErrorReply{Status: "error", Ename: e.Name, Evalue: e.Value, Traceback: tb}
}

// LanguageInfo is kernel_info_reply's language_info.
type LanguageInfo struct {
	Name              string `json:"name"`
	Version           string `json:"version"`
	Mimetype          string `json:"mimetype"`
	FileExtension     string `json:"file_extension"`
	PygmentsLexer     string `json:"pygments_lexer"`
	CodemirrorMode    string `json:"codemirror_mode"`
	NbconvertExporter string `json:"nbconvert_exporter"`
}

// KernelInfoReply is kernel_info_reply's content.
type KernelInfoReply struct {
	Status                string       `json:"status"`
	ProtocolVersion       string       `json:"protocol_version"`
	Implementation        string       `json:"implementation"`
	ImplementationVersion string       `json:"implementation_version"`
	LanguageInfo          LanguageInfo `json:"language_info"`
	Banner                string       `json:"banner"`
	HelpLinks             []HelpLink   `json:"help_links"`
	Debugger              bool         `json:"debugger"`
}

// CompleteReply is complete_reply's content.
type CompleteReply struct {
	Status      string         `json:"status"`
	Matches     []string       `json:"matches"`
	CursorStart int            `json:"cursor_start"`
	CursorEnd   int            `json:"cursor_end"`
	Metadata    map[string]any `json:"metadata"`
}

// InspectReply is inspect_reply's content.
type InspectReply struct {
	Status   string         `json:"status"`
	Found    bool           `json:"found"`
	Data     map[string]any `json:"data"`
	Metadata map[string]any `json:"metadata"`
}

// IsCompleteReply is is_complete_reply's content; indent only with
// "incomplete".
type IsCompleteReply struct {
	Status string  `json:"status"`
	Indent *string `json:"indent,omitempty"`
}

// HistoryReply is history_reply's content.
type HistoryReply struct {
	Status  string `json:"status"`
	History []any  `json:"history"`
}

// CommInfoReply is comm_info_reply's content.
type CommInfoReply struct {
	Status string         `json:"status"`
	Comms  map[string]any `json:"comms"`
}

// ShutdownReply is shutdown_reply's content.
type ShutdownReply struct {
	Status  string `json:"status"`
	Restart bool   `json:"restart"`
}

// StatusReply is a reply that carries only a status (interrupt_reply).
type StatusReply struct {
	Status string `json:"status"`
}

// ConnectReply is the deprecated connect_reply's content.
type ConnectReply struct {
	Status      string `json:"status"`
	ShellPort   int    `json:"shell_port"`
	IOPubPort   int    `json:"iopub_port"`
	StdinPort   int    `json:"stdin_port"`
	HBPort      int    `json:"hb_port"`
	ControlPort int    `json:"control_port"`
}

// IOPub contents.

type statusContent struct {
	ExecutionState string `json:"execution_state"`
}

type executeInputContent struct {
	Code           string `json:"code"`
	ExecutionCount int    `json:"execution_count"`
}

type streamContent struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

type displayContent struct {
	Data      map[string]any `json:"data"`
	Metadata  map[string]any `json:"metadata"`
	Transient map[string]any `json:"transient"`
}

type executeResultContent struct {
	ExecutionCount int            `json:"execution_count"`
	Data           map[string]any `json:"data"`
	Metadata       map[string]any `json:"metadata"`
}

type errorContent struct {
	Ename     string   `json:"ename"`
	Evalue    string   `json:"evalue"`
	Traceback []string `json:"traceback"`
}

type clearOutputContent struct {
	Wait bool `json:"wait"`
}

type commCloseContent struct {
	CommID string         `json:"comm_id"`
	Data   map[string]any `json:"data"`
}
