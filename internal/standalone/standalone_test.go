package standalone

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeRejectsUnknownProviders checks the error names the stand-ins.
func TestServeRejectsUnknownProviders(t *testing.T) {
	for _, name := range []string{"", "heroku", "Neon"} {
		s, err := Serve(context.Background(), name, Options{})
		if err == nil {
			_ = s.Close()
			t.Fatalf("Serve(%q) succeeded", name)
		}
		if !strings.Contains(err.Error(), "neon, render") {
			t.Errorf("Serve(%q) = %v, want the stand-ins named", name, err)
		}
	}
}

// TestServeRender serves the Render stand-in and reads it as a client would,
// through the contract check: the seeded services answer with the printed
// key, and another key is refused.
func TestServeRender(t *testing.T) {
	s, err := Serve(context.Background(), "render", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	if !strings.HasPrefix(s.APIKey, "renderemu-local-") || s.Services["user-api-service"] == "" || s.EnvGroups["production"] == "" {
		t.Fatalf("info = %+v, want a local key, user-api-service and the production env group", s.Info)
	}
	api, _ := contractProxy(t, "render", s.URL)
	for _, tc := range []struct {
		name, key string
		status    int
	}{
		{"the printed key", s.APIKey, http.StatusOK},
		{"another key", "rnd_not-this-one", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, api+"/services?name=user-api-service", nil)
			req.Header.Set("Authorization", "Bearer "+tc.key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("GET /services = %d %s, want %d", resp.StatusCode, body, tc.status)
			}
			if tc.status != http.StatusOK {
				return
			}
			var list []struct {
				Service struct{ ID, Name string }
			}
			if err := json.Unmarshal(body, &list); err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 || list[0].Service.ID != s.Services["user-api-service"] {
				t.Errorf("GET /services?name=user-api-service = %s, want only %s", body, s.Services["user-api-service"])
			}
		})
	}
}

// TestClientsLockNamesNoRegistry checks the committed lock file pins the
// clients without naming where they were downloaded from (no "resolved"
// URLs, no registry host): npm ci fetches from whatever registry the machine
// is configured for.
func TestClientsLockNamesNoRegistry(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(clientsDir, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{`"resolved"`, "registry.", "/root/", "/home/"} {
		if strings.Contains(string(data), bad) {
			t.Errorf("package-lock.json contains %s", bad)
		}
	}
	var lock struct {
		Packages map[string]struct{ Version string } `json:"packages"`
	}
	if err := json.Unmarshal(data, &lock); err != nil {
		t.Fatal(err)
	}
	for name, version := range map[string]string{"neonctl": "5.0.1", "@neondatabase/api-client": "2.7.3"} {
		if got := lock.Packages["node_modules/"+name].Version; got != version {
			t.Errorf("lock pins %s at %q, want %s", name, got, version)
		}
	}
}
