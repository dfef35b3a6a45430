import { randomBytes } from 'node:crypto';
import { HTTP_ROUTES } from '@parley/protocol';

const PASSWORD = 'loadgen-password';

/**
 * Register `count` fresh users on `baseUrl`, `concurrency` requests at a time, and return
 * their tokens (real JWTs from POST /auth/register).
 */
export async function registerUsers(baseUrl: string, count: number, concurrency = 16): Promise<string[]> {
  const run = randomBytes(3).toString('hex');
  const tokens = new Array<string>(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      const res = await fetch(new URL(HTTP_ROUTES.register.path, baseUrl), {
        method: HTTP_ROUTES.register.method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: `lg_${run}_${i}`, password: PASSWORD }),
      });
      const body = (await res.json()) as { token?: string };
      if (res.status !== 201 || !body.token) throw new Error(`register: ${res.status} ${JSON.stringify(body)}`);
      tokens[i] = body.token;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return tokens;
}
