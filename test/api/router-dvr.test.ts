import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

const SELECT = `__typename ... on UpdateRouterSuccess { router { uuid adminStateUp distributed } }
  ... on RouterMigrationRequiresAdminDown { code message } ... on Error { code message }`;

async function update(input: Record<string, unknown>) {
  const r = await api.gql(api.adminToken, `mutation($i: UpdateRouterInput!) { updateRouter(input: $i) { ${SELECT} } }`, { i: input });
  return r.updateRouter;
}

describe('converting a router between legacy and distributed over GraphQL', () => {
  it('answers RouterMigrationRequiresAdminDown while the router is up, and converts it once it is down', async () => {
    const c = await api.gql(
      api.adminToken,
      'mutation { createRouter(input: { name: "to-dvr" }) { __typename ... on CreateRouterSuccess { router { id distributed } } } }',
    );
    const id = c.createRouter.router.id as string;
    expect(c.createRouter.router.distributed).toBe(false);

    const refused = await update({ id, distributed: true });
    expect(refused).toMatchObject({ __typename: 'RouterMigrationRequiresAdminDown', code: 'RouterMigrationRequiresAdminDown' });
    expect(refused.message).toContain('admin_state_up to False');

    expect(await update({ id, adminStateUp: false })).toMatchObject({ router: { adminStateUp: false, distributed: false } });
    expect(await update({ id, distributed: true })).toMatchObject({ router: { adminStateUp: false, distributed: true } });
    expect(await update({ id, adminStateUp: true })).toMatchObject({ router: { adminStateUp: true, distributed: true } });
    // And back, by the same rule.
    expect(await update({ id, distributed: false })).toMatchObject({ __typename: 'RouterMigrationRequiresAdminDown' });
  });
});
