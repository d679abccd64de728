// The JSON API, same origin. The access token lives in this module only; the refresh token
// is an HttpOnly cookie the browser sends to /auth, so a reload resumes the session.
let access = null;

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `Request failed (${status})`);
    this.status = status;
    this.code = problem.code || '';
    this.fields = problem.errors || [];
  }
}

async function send(method, path, body, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let res;
  try {
    // 30 s: API Gateway gives a request no longer, so a hung connection is not an answer.
    res = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(30000),
    });
  } catch (e) {
    const detail = e.name === 'TimeoutError' ? 'The server did not answer in time. Try again.'
      : 'The server could not be reached. Check your connection and try again.';
    throw new ApiError(0, { detail });
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

function keep(pair) {
  access = pair.access_token;
  return pair.user;
}

export async function signIn(email, password) {
  return keep(await send('POST', '/auth/login', { email, password }));
}

// The cookie's session, if any: the user, or null.
export async function resume() {
  try {
    return keep(await send('POST', '/auth/refresh', {}));
  } catch {
    return null;
  }
}

export async function signOut() {
  try {
    // The refresh cookie only travels to /auth/refresh: sign-out names the session by the
    // access token, and its answer clears the cookie.
    if (access) await send('POST', '/auth/logout', {}, access);
  } finally {
    access = null;
  }
}

// An authenticated call; an expired access token is refreshed once.
export async function api(method, path, body) {
  try {
    return await send(method, path, body, access);
  } catch (e) {
    if (e.status !== 401 || !(await resume())) throw e;
    return send(method, path, body, access);
  }
}

export const q = (params) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, v);
  const t = s.toString();
  return t ? `?${t}` : '';
};
