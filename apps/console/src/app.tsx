import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { lazy, Suspense, useState, type FormEvent } from 'react';
import { BrowserRouter, Navigate, NavLink, Route, Routes, useLocation } from 'react-router';
import { ErrorMessage, Loading, PageHeading } from './components/ui';
import { ApiError } from './lib/api';
import { can, ROLE_LABELS, type Action } from './lib/permissions';
import { SessionProvider, useSession } from './lib/session';

// each area is its own chunk, loaded when first visited (the editor, the diagrams and the charts are large)
const Work = lazy(() => import('./pages/work'));
const Customers = lazy(() => import('./pages/customers'));
const Triggers = lazy(() => import('./pages/triggers'));
const Segments = lazy(() => import('./pages/segments'));
const Analytics = lazy(() => import('./pages/analytics'));
const Admin = lazy(() => import('./pages/admin'));

/** The areas, in the navigation's order, with what a role needs to see them. */
export const AREAS: { path: string; label: string; needs: Action }[] = [
  { path: '/work', label: 'Work', needs: 'work' },
  { path: '/customers', label: 'Customers', needs: 'view' },
  { path: '/triggers', label: 'Triggers', needs: 'view' },
  { path: '/segments', label: 'Segments', needs: 'view' },
  { path: '/analytics', label: 'Analytics', needs: 'view' },
  { path: '/admin', label: 'Admin', needs: 'admin' },
];

export function App() {
  const [client] = useState(
    () =>
      new QueryClient({
        defaultOptions: {
          queries: {
            // a 4xx will not change by asking again; the error is shown where it happened
            retry: (count, error) => !(error instanceof ApiError && error.status >= 400 && error.status < 500) && count < 2,
            refetchOnWindowFocus: false,
            staleTime: 5_000,
          },
        },
      }),
  );
  return (
    <QueryClientProvider client={client}>
      <SessionProvider>
        <BrowserRouter>
          <Shell />
        </BrowserRouter>
      </SessionProvider>
    </QueryClientProvider>
  );
}

function Shell() {
  const { principal, signOut } = useSession();
  const location = useLocation();
  if (!principal) return <SignIn />;
  const areas = AREAS.filter((a) => can(principal.role, a.needs));
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Journey Engine</span>
        <nav aria-label="Main">
          <ul>
            {areas.map((a) => (
              <li key={a.path}>
                <NavLink to={a.path}>{a.label}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who" aria-label="Signed in as">
          <span>
            {principal.memberId ?? principal.keyId} · {ROLE_LABELS[principal.role]} · workspace {principal.workspaceId}
          </span>
          <button type="button" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main">
        <Suspense fallback={<Loading />}>
          <Routes location={location}>
            <Route path="/" element={<Navigate to={areas[0]?.path ?? '/customers'} replace />} />
            <Route path="/work/*" element={<Guarded action="work" element={<Work />} />} />
            <Route path="/customers/*" element={<Customers />} />
            <Route path="/triggers/*" element={<Triggers />} />
            <Route path="/segments/*" element={<Segments />} />
            <Route path="/analytics/*" element={<Analytics />} />
            <Route path="/admin/*" element={<Guarded action="admin" element={<Admin />} />} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Suspense>
      </main>
    </>
  );
}

function Guarded({ action, element }: { action: Action; element: React.ReactNode }) {
  const { principal } = useSession();
  if (can(principal?.role, action)) return element;
  return (
    <>
      <PageHeading>Not available to this key</PageHeading>
      <p>
        This page needs a key that may {action === 'admin' ? 'manage the workspace (admin)' : 'work conversations and tasks (csm or admin)'}
        ; this key is {ROLE_LABELS[principal!.role].toLowerCase()}.
      </p>
    </>
  );
}

function NotFound() {
  return (
    <>
      <PageHeading>Page not found</PageHeading>
      <p>
        Nothing lives at this address. <NavLink to="/">Go to the start page</NavLink>.
      </p>
    </>
  );
}

function SignIn() {
  const { signIn, endedBecause } = useSession();
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(key);
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? new Error('this key is not known to the engine (mistyped, revoked or rotated)')
          : err,
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" className="signin">
      <PageHeading>Sign in to Journey Engine</PageHeading>
      {endedBecause ? <p role="status">{endedBecause}</p> : null}
      <form onSubmit={(e) => void submit(e)}>
        <label htmlFor="key">Key</label>
        <input
          id="key"
          name="key"
          type="password"
          autoComplete="current-password"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          required
          aria-describedby="key-help"
        />
        <p id="key-help" className="muted">
          An admin (<code>ak_…</code>), customer success (<code>ck_…</code>) or analyst (<code>nk_…</code>) key. It is kept in this tab
          only.
        </p>
        <ErrorMessage error={error} title="Could not sign in" />
        <button type="submit" className="primary" disabled={busy || !key.trim()}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
