// The public API, called with the key the user signed in with (kept in this tab's
// sessionStorage only: closing the tab or signing out forgets it).
const BASE = '/2024-03-01';
const KEY = 'hookhouse.key';

export const session = {
  key: () => sessionStorage.getItem(KEY),
  signIn: (key) => sessionStorage.setItem(KEY, key),
  signOut: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// Query values: '' and null are left out, arrays repeat the parameter.
export function searchParams(query) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query || {})) {
    if (value === '' || value === null || value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) params.append(name, one);
  }
  return params;
}

export async function api(path, { method = 'GET', query, body, key } = {}) {
  const params = searchParams(query).toString();
  const headers = { Authorization: `Bearer ${key || session.key()}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(`${BASE}${path}${params ? `?${params}` : ''}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, 'NETWORK', `The API cannot be reached (${error.message}).`);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    if (response.status === 401 && !key) {
      session.signOut();
      location.hash = '#/signin';
    }
    throw new ApiError(
      response.status,
      (data && data.code) || `HTTP_${response.status}`,
      (data && data.message) || text || response.statusText,
    );
  }
  return data;
}
