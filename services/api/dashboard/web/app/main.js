// The shell: sign-in, navigation and the hash router.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, session } from './api.js';
import { html, parseHash, Failure } from './ui.js';
import { Connections, ConnectionForm } from './connections.js';
import { List } from './lists.js';
import { EventPage, RequestPage } from './event.js';
import { Issues } from './issues.js';
import { Metrics } from './metrics.js';

const PAGES = [
  ['/connections', 'Connections'],
  ['/requests', 'Requests'],
  ['/events', 'Events'],
  ['/attempts', 'Attempts'],
  ['/issues', 'Issues'],
  ['/metrics', 'Metrics'],
];

function SignIn() {
  const [key, setKey] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api('/connections/count', { key: key.trim() });
      session.signIn(key.trim());
      location.hash = '#/connections';
    } catch (failure) {
      setError(
        failure.status === 401
          ? { code: 'UNAUTHORIZED', message: 'That key is not a key of any project.' }
          : failure,
      );
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="signin">
    <h1>hookhouse</h1>
    <form onSubmit=${submit}>
      <label>Project API key
        <input name="key" type="password" autocomplete="off" required value=${key}
          onInput=${(e) => setKey(e.target.value)} />
      </label>
      <p class="hint">The key stays in this browser tab only; signing out forgets it.</p>
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
      <${Failure} error=${error} />
    </form>
  </main>`;
}

function page(path, query) {
  const parts = path.split('/').filter(Boolean);
  const [top, id, more] = parts;
  if (top === 'connections' && id === 'new') return html`<${ConnectionForm} query=${query} />`;
  if (top === 'connections' && id && more === 'edit') return html`<${ConnectionForm} id=${id} />`;
  if (top === 'connections') return html`<${Connections} />`;
  if (top === 'events' && id) return html`<${EventPage} id=${id} />`;
  if (top === 'requests' && id) return html`<${RequestPage} id=${id} />`;
  if (['requests', 'events', 'attempts'].includes(top)) {
    return html`<${List} key=${top} kind=${top} query=${query} />`;
  }
  if (top === 'issues') return html`<${Issues} query=${query} />`;
  if (top === 'metrics') return html`<${Metrics} query=${query} />`;
  return html`<${Failure} error=${{ code: 'NOT_FOUND', message: `No page at ${path}.` }} />`;
}

function App() {
  const [route, setRoute] = useState(parseHash());
  const [menu, setMenu] = useState(false);
  useEffect(() => {
    const changed = () => {
      setRoute(parseHash());
      setMenu(false);
    };
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  if (!session.key() || route.path === '/signin') return html`<${SignIn} />`;
  if (route.path === '/') {
    location.replace('#/connections');
    return null;
  }
  const signOut = () => {
    session.signOut();
    location.hash = '#/signin';
  };
  const current = `/${route.path.split('/')[1]}`;
  return html`<div class="shell">
    <header>
      <a class="brand" href="#/connections">hookhouse</a>
      <button class="menu" aria-label="Menu" onClick=${() => setMenu(!menu)}>☰</button>
      <nav class=${menu ? 'open' : ''}>
        ${PAGES.map(([href, label]) => html`<a href=${`#${href}`}
          class=${current === href ? 'current' : ''}>${label}</a>`)}
        <button class="signout" onClick=${signOut}>Sign out</button>
      </nav>
    </header>
    <main>${page(route.path, route.query)}</main>
  </div>`;
}

const root = document.getElementById('app');
root.textContent = ''; // the static "Loading…" shown before the modules arrived
render(html`<${App} />`, root);
