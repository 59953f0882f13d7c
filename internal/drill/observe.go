package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/alpha-orion/runbook/plugins/render/renderemu"
)

// The checks' eyes: what a user sees through the providers' APIs, never the
// emulators' own state.

// renderService reads a service by name through Render's API, as a user would.
func renderService(ctx context.Context, baseURL, key, name string) (renderemu.Service, error) {
	code, body := drillGetBearer(ctx, baseURL+"/services?name="+url.QueryEscape(name), key)
	if code != 200 {
		return renderemu.Service{}, fmt.Errorf("GET /services: %d %s", code, body)
	}
	var list []struct {
		Service renderemu.Service `json:"service"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		return renderemu.Service{}, err
	}
	for _, s := range list {
		if s.Service.Name == name {
			return s.Service, nil
		}
	}
	return renderemu.Service{}, fmt.Errorf("no service %q", name)
}

// neonAPI reads a project through Neon's API, as a user would.
type neonAPI struct{ url, key, project string }

func (a neonAPI) get(ctx context.Context, path string, v any) error {
	code, body := drillGetBearer(ctx, a.url+"/projects/"+a.project+path, a.key)
	if code != 200 {
		return fmt.Errorf("GET %s: %d %s", path, code, body)
	}
	return json.Unmarshal([]byte(body), v)
}

// renderGroupVar reads a variable of an environment group, by the group's
// name, through Render's API.
func renderGroupVar(ctx context.Context, r *renderemu.Emulator, group, key string) (string, error) {
	code, body := drillGetBearer(ctx, r.URL()+"/env-groups", r.APIKey())
	if code != 200 {
		return "", fmt.Errorf("GET /env-groups: %d %s", code, body)
	}
	var groups []renderemu.EnvGroupMeta
	if err := json.Unmarshal([]byte(body), &groups); err != nil {
		return "", err
	}
	for _, g := range groups {
		if g.Name != group {
			continue
		}
		code, body := drillGetBearer(ctx, r.URL()+"/env-groups/"+url.PathEscape(g.ID), r.APIKey())
		if code != 200 {
			return "", fmt.Errorf("GET /env-groups/%s: %d %s", g.ID, code, body)
		}
		var full renderemu.EnvGroup
		if err := json.Unmarshal([]byte(body), &full); err != nil {
			return "", err
		}
		for _, v := range full.EnvVars {
			if v.Key == key {
				return v.Value, nil
			}
		}
		return "", fmt.Errorf("env group %s has no %s", group, key)
	}
	return "", fmt.Errorf("no env group %q", group)
}

// renderDeploys lists a service's deploys, newest first, through Render's API.
func renderDeploys(ctx context.Context, r *renderemu.Emulator, service string) ([]renderemu.Deploy, error) {
	svc, err := renderService(ctx, r.URL(), r.APIKey(), service)
	if err != nil {
		return nil, err
	}
	code, body := drillGetBearer(ctx, r.URL()+"/services/"+url.PathEscape(svc.ID)+"/deploys", r.APIKey())
	if code != 200 {
		return nil, fmt.Errorf("GET /services/%s/deploys: %d %s", svc.ID, code, body)
	}
	var list []struct {
		Deploy renderemu.Deploy `json:"deploy"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		return nil, err
	}
	out := make([]renderemu.Deploy, 0, len(list))
	for _, d := range list {
		out = append(out, d.Deploy)
	}
	return out, nil
}

// putGroupVar sets a variable of an environment group through Render's API
// (for staging).
func putGroupVar(ctx context.Context, r *renderemu.Emulator, groupID, key, value string) error {
	body, _ := json.Marshal(map[string]string{"value": value})
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, r.URL()+"/env-groups/"+url.PathEscape(groupID)+"/env-vars/"+url.PathEscape(key), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+r.APIKey())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("PUT env group %s %s: %s", groupID, key, resp.Status)
	}
	return nil
}
