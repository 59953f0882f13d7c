package neonemu

import "fmt"

// Projects returns every project, in the order they were added.
func (e *Emulator) Projects() []Project {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Project
	for _, p := range e.projects {
		out = append(out, p.Project)
	}
	return out
}

// Branches returns the branches of a project, in the order they were created.
func (e *Emulator) Branches(projectID string) []Branch {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Branch
	for _, p := range e.projects {
		if p.ID == projectID {
			for _, b := range p.branches {
				out = append(out, b.Branch)
			}
		}
	}
	return out
}

// Branch returns a branch by ID.
func (e *Emulator) Branch(branchID string) (Branch, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b, ok := e.branches[branchID]
	if !ok {
		return Branch{}, false
	}
	return b.Branch, true
}

// BranchByName returns a project's branch by name.
func (e *Emulator) BranchByName(projectID, name string) (Branch, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range e.projects {
		if p.ID != projectID {
			continue
		}
		if b := p.branchNamed(name); b != nil {
			return b.Branch, true
		}
	}
	return Branch{}, false
}

// EndpointID returns the ID of the compute endpoint serving a branch, ""
// for a branch without one (a branch that keeps the state from before a
// restore).
func (e *Emulator) EndpointID(branchID string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b, ok := e.branches[branchID]
	if !ok {
		return "", false
	}
	return b.endpointID, true
}

// Operations returns the operations of a project, oldest first.
func (e *Emulator) Operations(projectID string) []Operation {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.projectOperations(projectID)
}

// Snapshots returns the recorded history of a branch, oldest first.
func (e *Emulator) Snapshots(branchID string) []Snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	if b, ok := e.branches[branchID]; ok {
		return append([]Snapshot(nil), b.history...)
	}
	return nil
}

// ConnectionURI returns what GET …/connection_uri answers for a branch with
// the project's database and role, for tests that write data directly.
func (e *Emulator) ConnectionURI(branchID string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b, ok := e.branches[branchID]
	if !ok {
		return "", fmt.Errorf("%w: branch %q", ErrNotFound, branchID)
	}
	for _, p := range e.projects {
		if p.ID == b.ProjectID {
			return e.uri(p, b, false), nil
		}
	}
	return "", fmt.Errorf("%w: project %q", ErrNotFound, b.ProjectID)
}

// Database returns the name of the server database holding a branch's data.
func (e *Emulator) Database(branchID string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b, ok := e.branches[branchID]
	if !ok {
		return "", false
	}
	return b.database, true
}
