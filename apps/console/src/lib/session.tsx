import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { Api } from './api';
import { can, type Action, type Role } from './permissions';

/** Who is signed in: what GET /v1/session answers for the key. */
export interface Principal {
  workspaceId: string;
  role: Role;
  keyId: string;
  memberId?: string;
}

interface SessionValue {
  principal?: Principal;
  api?: Api;
  signIn(key: string): Promise<void>;
  signOut(reason?: string): void;
  /** Why the last session ended (an expired or revoked key), shown on the sign-in page. */
  endedBecause?: string;
}

const SessionContext = createContext<SessionValue | undefined>(undefined);
const STORAGE = 'journey.console.key';

/** The key lives in sessionStorage: it survives a reload, not the closing of the tab. */
export function SessionProvider({ children, initial }: { children: ReactNode; initial?: { key: string; principal: Principal } }) {
  const [state, setState] = useState<{ key: string; principal: Principal } | undefined>(() => {
    if (initial) return initial;
    const saved = sessionStorage.getItem(STORAGE);
    if (!saved) return undefined;
    try {
      return JSON.parse(saved) as { key: string; principal: Principal };
    } catch {
      return undefined;
    }
  });
  const [endedBecause, setEndedBecause] = useState<string>();

  const signOut = useCallback((reason?: string) => {
    sessionStorage.removeItem(STORAGE);
    setEndedBecause(reason);
    setState(undefined);
  }, []);

  const signIn = useCallback(async (key: string) => {
    const principal = await new Api(key.trim()).get<Principal>('/v1/session');
    if (principal.role === 'write') throw new Error('a write key sends events; sign in with an admin, csm or analyst key');
    const next = { key: key.trim(), principal };
    sessionStorage.setItem(STORAGE, JSON.stringify(next));
    setEndedBecause(undefined);
    setState(next);
  }, []);

  const api = useMemo(
    () => (state ? new Api(state.key, () => signOut('the key was refused (revoked or rotated): sign in again')) : undefined),
    [state, signOut],
  );
  const value = useMemo<SessionValue>(
    () => ({ principal: state?.principal, api, signIn, signOut, endedBecause }),
    [state, api, signIn, signOut, endedBecause],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

/** The signed-in API client (pages render only when signed in). */
export function useApi(): Api {
  const { api } = useSession();
  if (!api) throw new Error('not signed in');
  return api;
}

export function useCan(action: Action): boolean {
  return can(useSession().principal?.role, action);
}
