package drill

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/alpha-orion/runbook/plugins/render/renderemu"
	"github.com/jackc/pgx/v5"
)

// App stands in for the Alpha-Orion services that Render hosts: for each
// service it answers a health check and a token check the way the real
// application would, from the state the Render emulator holds. A service is
// healthy when it runs (instances > 0, not suspended) and, for the API, when
// its DATABASE_URL reaches a database with a readable users table. Like a real
// process, it reads its environment when it (re)starts: a changed JWT_SECRET
// takes effect only after a restart or deploy. It opens its database session
// at its first request after a start and keeps it; a session the server ends
// (as a Neon restore ends every session on the branch) is not re-established,
// so the service answers 503 until it starts again.
type App struct {
	render *renderemu.Emulator
	url    string
	srv    *http.Server

	mu       sync.Mutex // guards loaded and sessions
	loaded   map[string]loadedEnv
	sessions map[string]*dbSession // by service ID
}

type loadedEnv struct {
	generation int
	env        map[string]string
}

// App starts (once) the fake application in front of the Render emulator.
func (w *World) App() (*App, error) {
	r, err := w.Render()
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.app != nil {
		return w.app, nil
	}
	l, err := net.Listen("tcp", loopback())
	if err != nil {
		return nil, fmt.Errorf("drill: start app: %w", err)
	}
	a := &App{render: r, url: "http://" + l.Addr().String(), loaded: map[string]loadedEnv{}, sessions: map[string]*dbSession{}}
	a.srv = &http.Server{Handler: a, ReadHeaderTimeout: 5 * time.Second}
	go a.srv.Serve(l)
	w.app = a
	w.closers = append(w.closers, a.srv.Close, a.closeSessions)
	return a, nil
}

// HealthURL is the health endpoint of a service, as the runbooks' health checks call it.
func (a *App) HealthURL(service string) string { return a.url + "/" + service + "/healthz" }

// DataURL is the endpoint where a running service reports the users it sees
// through the DATABASE_URL it read at its last start: for the API what it
// serves, for the monitor the database it writes to.
func (a *App) DataURL(service string) string { return a.url + "/" + service + "/data" }

// ContractURL is the endpoint where a running service reports the contract
// it watches: FLASH_LOAN_CONTRACT_ADDRESS as it read it at its last start.
func (a *App) ContractURL(service string) string { return a.url + "/" + service + "/contract" }

// AuthURL is the endpoint that accepts or rejects a bearer token.
func (a *App) AuthURL(service string) string { return a.url + "/" + service + "/auth/check" }

// generation counts a service's starts (restarts, deploys and resumes).
func (a *App) generation(svc renderemu.Service) int {
	return a.render.Restarts(svc.ID) + len(a.render.Deploys(svc.ID)) + a.render.Resumes(svc.ID)
}

// env returns the environment the service runs with: what it read at its
// last start (restart, deploy or resume), reloading when it has started since.
func (a *App) env(svc renderemu.Service) map[string]string {
	gen := a.generation(svc)
	a.mu.Lock()
	defer a.mu.Unlock()
	if l, ok := a.loaded[svc.ID]; ok && l.generation == gen {
		return l.env
	}
	env := map[string]string{}
	for _, g := range a.groupsOf(svc.ID) {
		for k, v := range g {
			env[k] = v
		}
	}
	for k, v := range a.render.EnvVars(svc.ID) {
		env[k] = v
	}
	a.loaded[svc.ID] = loadedEnv{generation: gen, env: env}
	return env
}

func (a *App) groupsOf(serviceID string) []map[string]string {
	var out []map[string]string
	for _, name := range []string{"production"} {
		g, ok := a.render.EnvGroupByName(name)
		if !ok {
			continue
		}
		for _, link := range g.ServiceLinks {
			if link.ID == serviceID {
				out = append(out, a.render.EnvGroupVars(g.ID))
			}
		}
	}
	return out
}

func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 2 {
		http.NotFound(w, r)
		return
	}
	svc, ok := a.render.ServiceByName(parts[0])
	if !ok {
		http.Error(w, "no such service", http.StatusNotFound)
		return
	}
	if a.render.Instances(svc.ID) == 0 || svc.Suspended == renderemu.Suspended {
		http.Error(w, "service is not running (0 instances or suspended)", http.StatusServiceUnavailable)
		return
	}
	env := a.env(svc)
	switch strings.Join(parts[1:], "/") {
	case "healthz":
		a.health(w, r, svc, env)
	case "auth/check":
		a.auth(w, r, env)
	case "data":
		a.data(w, r, svc, env)
	case "contract":
		fmt.Fprintf(w, "contract=%s\n", env["FLASH_LOAN_CONTRACT_ADDRESS"])
	default:
		http.NotFound(w, r)
	}
}

func (a *App) health(w http.ResponseWriter, r *http.Request, svc renderemu.Service, env map[string]string) {
	if svc.Name != "user-api-service" {
		fmt.Fprintln(w, "ok")
		return
	}
	if users, ok := a.usersOrUnavailable(w, r, svc, env); ok {
		fmt.Fprintf(w, "ok users=%d\n", users)
	}
}

// data reports how many users the service sees through its DATABASE_URL.
func (a *App) data(w http.ResponseWriter, r *http.Request, svc renderemu.Service, env map[string]string) {
	if users, ok := a.usersOrUnavailable(w, r, svc, env); ok {
		fmt.Fprintf(w, "users=%d\n", users)
	}
}

// usersOrUnavailable counts the users the service sees through its
// database session, or answers 503 and reports false when it cannot.
func (a *App) usersOrUnavailable(w http.ResponseWriter, r *http.Request, svc renderemu.Service, env map[string]string) (int, bool) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	users, err := a.session(svc, env).countUsers(ctx)
	if err != nil {
		http.Error(w, "database: "+err.Error(), http.StatusServiceUnavailable)
		return 0, false
	}
	return users, true
}

// session returns the service's database session for its current start,
// ending the one of an earlier start.
func (a *App) session(svc renderemu.Service, env map[string]string) *dbSession {
	gen := a.generation(svc)
	a.mu.Lock()
	defer a.mu.Unlock()
	if s, ok := a.sessions[svc.ID]; ok {
		if s.generation == gen {
			return s
		}
		s.close()
	}
	s := &dbSession{generation: gen, url: env["DATABASE_URL"]}
	a.sessions[svc.ID] = s
	return s
}

// closeSessions ends every service's session, when the drill ends.
func (a *App) closeSessions() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range a.sessions {
		s.close()
	}
	return nil
}

// dbSession is the database session a service opened after a start; its
// mutex serialises the queries on conn, as a connection takes one at a time.
type dbSession struct {
	generation int
	url        string

	mu   sync.Mutex // guards conn and lost
	conn *pgx.Conn
	lost bool // the server ended the session; it stays lost until the service starts again
}

// countUsers reads the users table through the session, opening it on the
// first call; a failed connect is tried again on the next call, a session
// that breaks is not.
func (s *dbSession) countUsers(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.lost:
		return 0, fmt.Errorf("the session was ended by the server and is not re-established: restart the service")
	case s.url == "":
		return 0, fmt.Errorf("DATABASE_URL is not set")
	case s.conn == nil:
		conn, err := pgx.Connect(ctx, s.url)
		if err != nil {
			return 0, fmt.Errorf("cannot connect")
		}
		s.conn = conn
	}
	var n int
	if err := s.conn.QueryRow(ctx, "select count(*) from users").Scan(&n); err != nil {
		if s.conn.IsClosed() {
			s.lost = true
			return 0, fmt.Errorf("the session was ended by the server")
		}
		return 0, fmt.Errorf("cannot read users")
	}
	return n, nil
}

// close ends the session.
func (s *dbSession) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		s.conn.Close(context.Background())
		s.conn = nil
	}
}

func (a *App) auth(w http.ResponseWriter, r *http.Request, env map[string]string) {
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !VerifyJWT(token, env["JWT_SECRET"]) {
		http.Error(w, "invalid token", http.StatusUnauthorized)
		return
	}
	fmt.Fprintln(w, "token accepted")
}

// SignJWT makes an HS256 token for subject signed with secret.
func SignJWT(subject, secret string) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body, _ := json.Marshal(map[string]any{"sub": subject, "iat": time.Now().Unix()})
	payload := header + "." + enc.EncodeToString(body)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(payload))
	return payload + "." + enc.EncodeToString(mac.Sum(nil))
}

// VerifyJWT reports whether token carries a valid HS256 signature by secret.
func VerifyJWT(token, secret string) bool {
	i := strings.LastIndexByte(token, '.')
	if i < 0 || secret == "" {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(token[:i]))
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	return err == nil && hmac.Equal(sig, mac.Sum(nil))
}
