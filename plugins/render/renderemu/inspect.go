package renderemu

// Services returns every service, in the order they were added.
func (e *Emulator) Services() []Service {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Service
	for _, s := range e.services {
		out = append(out, s.view())
	}
	return out
}

// Service returns a service by ID.
func (e *Emulator) Service(id string) (Service, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s := e.serviceByID(id); s != nil {
		return s.view(), true
	}
	return Service{}, false
}

// ServiceByName returns a service by name.
func (e *Emulator) ServiceByName(name string) (Service, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.services {
		if s.Name == name {
			return s.view(), true
		}
	}
	return Service{}, false
}

// Instances returns a service's instance count (-1 for an unknown service).
func (e *Emulator) Instances(serviceID string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s := e.serviceByID(serviceID); s != nil {
		return s.ServiceDetails.NumInstances
	}
	return -1
}

// ScaleEvents returns the instance counts a service was scaled to through the API, in order.
func (e *Emulator) ScaleEvents(serviceID string) []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s := e.serviceByID(serviceID); s != nil {
		return append([]int(nil), s.scales...)
	}
	return nil
}

// EnvVars returns a copy of a service's own environment variables.
func (e *Emulator) EnvVars(serviceID string) map[string]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s := e.serviceByID(serviceID); s != nil {
		return copyMap(s.env)
	}
	return nil
}

// EnvGroup returns an environment group, with its variables, by ID.
func (e *Emulator) EnvGroup(id string) (EnvGroup, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, g := range e.groups {
		if g.ID == id {
			return g.view(), true
		}
	}
	return EnvGroup{}, false
}

// EnvGroupByName returns an environment group, with its variables, by name.
func (e *Emulator) EnvGroupByName(name string) (EnvGroup, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, g := range e.groups {
		if g.Name == name {
			return g.view(), true
		}
	}
	return EnvGroup{}, false
}

// EnvGroupVars returns a copy of an environment group's variables.
func (e *Emulator) EnvGroupVars(groupID string) map[string]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, g := range e.groups {
		if g.ID == groupID {
			return copyMap(g.env)
		}
	}
	return nil
}

// Deploys returns a service's deploys, oldest first (the seeded live one included).
func (e *Emulator) Deploys(serviceID string) []Deploy {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.serviceByID(serviceID)
	if s == nil {
		return nil
	}
	out := make([]Deploy, len(s.deploys))
	for i, d := range s.deploys {
		out[i] = d.Deploy
	}
	return out
}

// Restarts returns how many times a service was restarted through the API.
func (e *Emulator) Restarts(serviceID string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s := e.serviceByID(serviceID); s != nil {
		return s.restarts
	}
	return 0
}

// Resumes returns how many times a suspended service was resumed.
func (e *Emulator) Resumes(serviceID string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s := e.serviceByID(serviceID); s != nil {
		return s.resumes
	}
	return 0
}

// FinishDeploys drives every unfinished deploy to its final status, as if a
// client had polled them all; it returns how many it moved.
func (e *Emulator) FinishDeploys() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, s := range e.services {
		for _, d := range s.deploys {
			if DeployDone(d.Status) {
				continue
			}
			n++
			for i := 0; i < 4*e.opts.PollsPerStep && !DeployDone(d.Status); i++ {
				e.advance(d)
			}
		}
	}
	return n
}

// copyMap returns a copy of m.
func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
