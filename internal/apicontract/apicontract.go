// Package apicontract holds our own OpenAPI contracts of the provider APIs
// the plugins call (neon.openapi.yaml, render.openapi.yaml: every endpoint,
// with its parameters, fields, types, required flags and status codes, each
// operation naming where and when it was read) and checks HTTP traffic
// against them.
//
// It is for tests only: a Checker sits in front of an emulator (or a proxy to
// one) and validates every request a client sends and every response the
// emulator answers. Nothing that is built links this package
// (cmd/runbook/deps_test.go).
package apicontract

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

//go:embed neon.openapi.yaml render.openapi.yaml
var files embed.FS

// Names are the contracts this package holds.
var Names = []string{"neon", "render"}

// Contract is one provider's OpenAPI document, loaded and validated, with
// a router that finds an operation by method and path.
type Contract struct {
	// Name is the provider, e.g. "neon".
	Name string
	// Doc is the parsed document.
	Doc *openapi3.T
	// BasePath is the path of the document's first server, e.g. "/api/v2";
	// requests are matched with or without it, as the emulators serve them.
	BasePath string

	router routers.Router
}

// Load reads and validates the contract of provider name ("neon" or "render").
func Load(name string) (*Contract, error) {
	if !slices.Contains(Names, name) {
		return nil, fmt.Errorf("apicontract: no contract named %q (have %s)", name, strings.Join(Names, ", "))
	}
	data, err := files.ReadFile(name + ".openapi.yaml")
	if err != nil {
		return nil, err
	}
	return Parse(name, data)
}

// Parse loads a contract from an OpenAPI 3 document.
func Parse(name string, data []byte) (*Contract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("apicontract: %s: %w", name, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("apicontract: %s: invalid document: %w", name, err)
	}
	c := &Contract{Name: name, Doc: doc}
	if len(doc.Servers) > 0 {
		u, err := url.Parse(doc.Servers[0].URL)
		if err != nil {
			return nil, fmt.Errorf("apicontract: %s: server URL: %w", name, err)
		}
		c.BasePath = strings.TrimSuffix(u.Path, "/")
	}
	// Route on paths alone: the emulators serve on any local host.
	routing := *doc
	routing.Servers = nil
	if c.router, err = gorillamux.NewRouter(&routing); err != nil {
		return nil, fmt.Errorf("apicontract: %s: %w", name, err)
	}
	return c, nil
}

// Exchange is one request and the response it got.
type Exchange struct {
	Request     *http.Request
	RequestBody []byte
	Status      int
	Header      http.Header
	Body        []byte
}

// Result is what Check found in one exchange.
type Result struct {
	// Operation is the operation's id; empty when no operation matched.
	Operation string
	// Request are the request's violations; an unknown endpoint is one.
	Request []error
	// Response are the response's violations.
	Response []error
}

// All returns every violation, the request's first.
func (r Result) All() []error { return append(slices.Clone(r.Request), r.Response...) }

// Check validates one exchange: the request must match a declared operation
// (an unknown endpoint is a violation) with its parameters, body and bearer
// token, and the response its declared status, headers and body.
func (c *Contract) Check(ctx context.Context, x Exchange) Result {
	req := x.Request.Clone(ctx)
	if p, ok := strings.CutPrefix(req.URL.Path, c.BasePath); ok && c.BasePath != "" && (p == "" || p[0] == '/') {
		req.URL.Path, req.URL.RawPath = p, ""
	}
	req.Body = io.NopCloser(bytes.NewReader(x.RequestBody))
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		return Result{Request: []error{fmt.Errorf("%s %s: not an endpoint of the %s contract: %v", x.Request.Method, x.Request.URL.Path, c.Name, err)}}
	}
	op := route.Operation.OperationID
	res := Result{Operation: op}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: options(&openapi3filter.Options{AuthenticationFunc: bearer}),
	}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		res.Request = append(res.Request, fmt.Errorf("%s request: %w", op, err))
	}
	if len(bytes.TrimSpace(x.RequestBody)) > 0 && route.Operation.RequestBody == nil {
		res.Request = append(res.Request, fmt.Errorf("%s request: a body was sent, the operation takes none", op))
	}
	in.Request.Body = io.NopCloser(bytes.NewReader(x.RequestBody))
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 x.Status,
		Header:                 x.Header,
		Body:                   io.NopCloser(bytes.NewReader(x.Body)),
		Options:                options(&openapi3filter.Options{IncludeResponseStatus: true}),
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		res.Response = append(res.Response, fmt.Errorf("%s response %d: %w", op, x.Status, err))
	} else if resp := route.Operation.Responses.Status(x.Status); resp != nil && resp.Value != nil &&
		len(resp.Value.Content) == 0 && len(bytes.TrimSpace(x.Body)) > 0 {
		res.Response = append(res.Response, fmt.Errorf("%s response %d: a body was answered, the contract declares none", op, x.Status))
	}
	return res
}

// options completes o: every error reported, schema errors short (where
// and why, without the schema).
func options(o *openapi3filter.Options) *openapi3filter.Options {
	o.MultiError = true
	o.WithCustomSchemaErrorFunc(schemaError)
	return o
}

// schemaError says where and why a value broke a schema, following the
// errors inside allOf, anyOf and oneOf down to the field at fault.
func schemaError(err *openapi3.SchemaError) string {
	msg := "/" + strings.Join(err.JSONPointer(), "/") + ": " + err.Reason
	var inner []string
	var me openapi3.MultiError
	var se *openapi3.SchemaError
	switch {
	case errors.As(err.Origin, &me):
		for _, e := range me {
			if errors.As(e, &se) {
				inner = append(inner, schemaError(se))
			}
		}
	case errors.As(err.Origin, &se):
		inner = append(inner, schemaError(se))
	}
	if len(inner) > 0 {
		msg += " (" + strings.Join(inner, "; ") + ")"
	}
	return msg
}

// bearer checks the bearer scheme the contracts declare: an Authorization
// header "Bearer <token>" with a token.
func bearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	token, ok := strings.CutPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return fmt.Errorf("no bearer token")
	}
	return nil
}

// Checker validates the traffic that passes through its Handler and keeps
// what it found; it is safe for concurrent use (mu guards its fields).
type Checker struct {
	contract *Contract

	mu          sync.Mutex
	violations  []string
	calls       map[string]int // by operation id
	allowed     map[int]bool   // statuses a test injected on purpose
	answersOnly bool           // see AnswersOnly
}

// NewChecker returns a Checker for c.
func (c *Contract) NewChecker() *Checker {
	return &Checker{contract: c, calls: map[string]int{}, allowed: map[int]bool{}}
}

// Allow accepts responses with status even where the contract does not
// declare it, for a test that injects that fault on purpose (a 502 from a
// gateway, say); their bodies are not checked.
func (k *Checker) Allow(status ...int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, s := range status {
		k.allowed[s] = true
	}
}

// AnswersOnly makes the checker judge only the answers to requests of
// declared operations: for tests of an emulator that send unknown or
// malformed requests on purpose.
func (k *Checker) AnswersOnly() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.answersOnly = true
}

// Handler returns next behind the checker: each request is read whole,
// passed on, and the answer recorded, checked and then written to w.
func (k *Checker) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		orig := r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		if r.Context().Err() != nil {
			return // the client gave up: it never sees this answer
		}
		k.Observe(r.Context(), Exchange{Request: orig, RequestBody: body, Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()})
		for key, vs := range rec.Header() {
			w.Header()[key] = vs
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

// Observe checks one exchange and records the result.
func (k *Checker) Observe(ctx context.Context, x Exchange) {
	res := k.contract.Check(ctx, x)
	k.mu.Lock()
	defer k.mu.Unlock()
	if res.Operation != "" {
		k.calls[res.Operation]++
	}
	if k.allowed[x.Status] && res.Operation != "" {
		return
	}
	errs := res.All()
	if k.answersOnly {
		errs = res.Response
	}
	for _, err := range errs {
		k.violations = append(k.violations, err.Error())
	}
}

// Violations returns what the checker found, in order.
func (k *Checker) Violations() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.violations)
}

// Calls returns how many exchanges each operation saw.
func (k *Checker) Calls() map[string]int {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make(map[string]int, len(k.calls))
	for op, n := range k.calls {
		out[op] = n
	}
	return out
}

// Operations lists the operation ids the contract declares, sorted.
func (c *Contract) Operations() []string {
	var ops []string
	for _, item := range c.Doc.Paths.Map() {
		for _, op := range item.Operations() {
			ops = append(ops, op.OperationID)
		}
	}
	sort.Strings(ops)
	return ops
}

// Watch loads contract name and returns a Checker whose violations fail t
// when the test ends.
func Watch(t testing.TB, name string) *Checker {
	t.Helper()
	c, err := Load(name)
	if err != nil {
		t.Fatal(err)
	}
	k := c.NewChecker()
	t.Cleanup(func() {
		for _, v := range k.Violations() {
			t.Errorf("%s API contract: %s", name, v)
		}
	})
	return k
}
