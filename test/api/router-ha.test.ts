import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

async function m(token: string, name: string, input: Record<string, unknown>, select = ''): Promise<any> {
  const cap = name.charAt(0).toUpperCase() + name.slice(1);
  const r = await api.gql(
    token,
    `mutation($i: ${cap}Input!) { ${name}(input: $i) { __typename ${select} ... on Error { code message } } }`,
    {
      i: input,
    },
  );
  return r[name];
}

describe('converting a router between HA and legacy', () => {
  it('needs adminStateUp false first (RouterMustBeDisabled), then converts', async () => {
    const admin = await api.token('ha-api', 'admin');
    const created = await m(admin, 'createRouter', { name: 'r' }, '... on CreateRouterSuccess { router { id ha } }');
    const id = created.router.id;
    expect(created.router.ha).toBe(false);

    const refused = await m(admin, 'updateRouter', { id, ha: true });
    expect(refused).toMatchObject({ __typename: 'RouterMustBeDisabled', code: 'RouterMustBeDisabled' });
    expect(refused.message).toContain('adminStateUp to false');

    expect((await m(admin, 'updateRouter', { id, adminStateUp: false })).__typename).toBe('UpdateRouterSuccess');
    const converted = await m(
      admin,
      'updateRouter',
      { id, ha: true },
      '... on UpdateRouterSuccess { router { ha adminStateUp l3Agents { host } haSplitBrain } }',
    );
    expect(converted.router).toEqual({ ha: true, adminStateUp: false, l3Agents: [], haSplitBrain: false });
    const back = await m(admin, 'updateRouter', { id, ha: false }, '... on UpdateRouterSuccess { router { ha } }');
    expect(back.router.ha).toBe(false);
  });
});
