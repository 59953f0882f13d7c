// Drives a Neon API with Neon's official TypeScript client, as a user's
// script would: list the branches, restore one to a timestamp of its own
// history keeping its old state under another name, poll the restore's
// operations until they finish, and read the branch's connection URI.
// Run by internal/standalone/clients_test.go; prints one JSON object.
//
// Environment: NEON_API_HOST (the API's base URL), NEON_API_KEY, PROJECT_ID,
// BRANCH (a name), TIMESTAMP (RFC 3339), PRESERVE (the name for the old
// state), DATABASE, ROLE.
import { createApiClient } from '@neondatabase/api-client';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const projectId = env('PROJECT_ID');
const api = createApiClient({ apiKey: env('NEON_API_KEY'), baseURL: env('NEON_API_HOST'), timeout: 30000 });

const { data: list } = await api.listProjectBranches({ projectId });
const branch = list.branches.find((b) => b.name === env('BRANCH'));
if (!branch) throw new Error(`no branch named ${env('BRANCH')} in ${list.branches.map((b) => b.name)}`);

const { data: restored } = await api.restoreProjectBranch(projectId, branch.id, {
  source_branch_id: branch.id,
  source_timestamp: env('TIMESTAMP'),
  preserve_under_name: env('PRESERVE'),
});

const terminal = ['finished', 'failed', 'error', 'cancelled', 'skipped'];
const operations = [];
for (const op of restored.operations) {
  let status = op.status;
  let polls = 0;
  while (!terminal.includes(status)) {
    if (++polls > 600) throw new Error(`operation ${op.id} still ${status} after ${polls} polls`);
    await new Promise((r) => setTimeout(r, 100));
    const { data } = await api.getProjectOperation(projectId, op.id);
    status = data.operation.status;
  }
  operations.push({ id: op.id, action: op.action, status, polls });
}

const { data: after } = await api.listProjectBranches({ projectId });
const { data: conn } = await api.getConnectionUri({
  projectId, branch_id: branch.id, database_name: env('DATABASE'), role_name: env('ROLE'),
});
console.log(JSON.stringify({
  branches_before: list.branches.map((b) => b.name).sort(),
  branches_after: after.branches.map((b) => b.name).sort(),
  restored: { id: restored.branch.id, name: restored.branch.name, restore_status: restored.branch.restore_status ?? null },
  operations,
  uri: conn.uri,
}));
